//! Where in the meeting file something is: byte spans turned into lines,
//! columns (in characters) and field paths such as `seats[4].number`.

use super::DefinitionError;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The text being parsed, to turn byte spans into lines and columns.
pub(super) struct Source<'a>(pub(super) &'a str);

impl Source<'_> {
    pub(super) fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> DefinitionError {
        let (line, column) = self.line_column(span.start);
        DefinitionError {
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    pub(super) fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.0.len());
        while !self.0.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.0[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        // A byte-order mark, which some editors write, is not a column.
        let column = before[line_start..]
            .chars()
            .filter(|&c| c != '\u{feff}')
            .count()
            + 1;
        (line, column)
    }

    /// An error found by serde: it knows the span, the document tree knows the field.
    pub(super) fn serde_error(&self, doc: &DeTable, e: &toml::de::Error) -> DefinitionError {
        let span = e.span().unwrap_or(0..0);
        let message = e.message();
        let field = if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            // The span is the table the field is missing from; the root's is empty.
            let table = path_at(doc, &span, Find::Exact).unwrap_or_default();
            join(&table, missing)
        } else if span.is_empty() {
            path_at(doc, &span, Find::Preceding).unwrap_or_default()
        } else {
            path_at(doc, &span, Find::Within).unwrap_or_default()
        };
        self.error(span, field, message)
    }

    pub(super) fn nonblank(
        &self,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<String, DefinitionError> {
        if value.get_ref().trim().is_empty() {
            return Err(self.error(value.span(), field, "must not be empty"));
        }
        Ok(value.get_ref().clone())
    }
}

/// How [`path_at`] matches a span against the document's keys and values.
#[derive(Clone, Copy)]
pub(super) enum Find {
    /// The node with exactly this span (a table a field is missing from).
    Exact,
    /// The smallest key or value containing the span.
    Within,
    /// The last key that starts at or before the span (for syntax errors).
    Preceding,
}

/// The path (`topics[1].items[0].vote`) of the node at `target`, if any.
pub(super) fn path_at(doc: &DeTable, target: &Range<usize>, find: Find) -> Option<String> {
    let mut best: Option<(Range<usize>, String)> = None;
    // Nodes are visited parents first, so on equal spans (an array of tables
    // and its first `[[header]]`) the deeper node wins.
    walk_table(doc, "", &mut |span, is_key, path| {
        let better = match find {
            Find::Exact => span == *target,
            Find::Within => {
                span.start <= target.start
                    && target.end <= span.end
                    && best.as_ref().is_none_or(|(b, _)| span.len() <= b.len())
            }
            Find::Preceding => {
                is_key
                    && span.start <= target.start
                    && best.as_ref().is_none_or(|(b, _)| span.start >= b.start)
            }
        };
        if better {
            best = Some((span, path.to_owned()));
        }
    });
    best.map(|(_, path)| path)
}

type Visit<'v> = dyn FnMut(Range<usize>, bool, &str) + 'v;

fn walk_table(table: &DeTable, prefix: &str, visit: &mut Visit) {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        visit(key.span(), true, &path);
        walk_value(value, &path, visit);
    }
}

fn walk_value(value: &Spanned<DeValue>, path: &str, visit: &mut Visit) {
    visit(value.span(), false, path);
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, path, visit),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(item, &format!("{path}[{i}]"), visit);
            }
        }
        _ => {}
    }
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
