//! The secretary's meeting definition file: one TOML file per session that
//! holds the roster, the vote labels, the default vote settings and the
//! agenda (see `meetings/phuc-loi.toml`, a commented example).
//!
//! Why it looks the way it does:
//!
//! - **Written by hand, read by a person.** The author is a council secretary
//!   with a text editor, not a developer, so the format is flat TOML with
//!   English keys and values in the council's language, and every mistake is
//!   reported as `line L, column C: field.path: what is wrong`. Columns count
//!   characters, not bytes, because names and titles are full of diacritics.
//!   Field paths count array entries from 0 (`seats[4]` is the fifth
//!   `[[seats]]` block), like agenda indexes on the wire.
//! - **Strict.** Unknown keys are errors (`deny_unknown_fields` everywhere,
//!   including inside rules, whose protocol types do not deny them), so a typo
//!   in `window_seconds` or `threshold` fails before the session instead of
//!   silently falling back to a default during a vote. A fraction threshold
//!   must say `strict`: "more than 3/5" and "at least 3/5" are different laws.
//! - **All or nothing.** [`MeetingDefinition::parse`] returns a definition in
//!   which every check passed, or the first error; the hub never sees a
//!   half-loaded meeting.
//! - **Two layers.** Serde reads the file into private `Raw*` structs that
//!   mirror it (with [`toml::Spanned`] where a later check needs a position);
//!   the checks then build the public types out of `gavel-protocol` values.
//!   Errors raised by serde itself (unknown key, wrong type) carry only a
//!   byte span, so their field path is recovered by looking the span up in
//!   the parsed document tree.
//! - **Settings cascade once.** `[vote_defaults]` overrides the protocol's
//!   defaults, an item's `vote = { ... }` overrides `[vote_defaults]`, and
//!   each item stores its complete [`VoteSettings`], checked with
//!   [`VoteSettings::validate`]. When a combination is invalid, the error
//!   points at the written field whose removal would make it valid.
//! - **Seats are dense.** Seats must be numbered `1..=total_seats`, each once,
//!   so the definition keeps them sorted and finds seat `n` at index `n - 1`.

use gavel_protocol::messages::{ItemKind, ItemView, Labels, MeetingView, SeatView};
use gavel_protocol::rules::{Base, Interim, Rule, Secrecy, Threshold, VoteSettings};
use gavel_protocol::{MeetingId, PublicKey, SeatNo};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The example meeting, embedded for `gavel demo` and tests.
pub const EXAMPLE: &str = include_str!("../meetings/phuc-loi.toml");

/// The largest body a definition may describe: well above a party congress
/// (1,000–2,000 delegates), low enough that a typo cannot make the hub
/// allocate for millions of seats.
const MAX_SEATS: u32 = 10_000;

const DEFAULT_YES: &str = "Tán thành";
const DEFAULT_NO: &str = "Không tán thành";
const DEFAULT_ABSTAIN: &str = "Không biểu quyết";

/// A meeting as the secretary defined it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingDefinition {
    pub id: MeetingId,
    pub title: String,
    pub body: String,
    pub total_seats: u32,
    /// The share of all seats that must be present for the meeting to proceed.
    pub quorum: Threshold,
    pub labels: Labels,
    /// Sorted by number: seat `n` is at index `n - 1`.
    pub seats: Vec<SeatDefinition>,
    /// Index = position across all topics, 0-based.
    pub agenda: Vec<ItemView>,
}

/// One delegate's seat.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatDefinition {
    pub number: SeatNo,
    pub name: String,
    /// Empty when the file gives none.
    pub group: String,
    /// A pre-registered tablet key; otherwise the tablet enrolls with a code.
    pub public_key: Option<PublicKey>,
}

/// Why a definition file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The path of the offending field, e.g. `seats[4].number`; empty when a
    /// syntax error comes before any key.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: ", self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl MeetingDefinition {
    /// Reads and checks a definition file.
    pub fn parse(text: &str) -> Result<MeetingDefinition, DefinitionError> {
        let source = Source(text);
        let (doc, syntax_errors) = DeTable::parse_recoverable(text);
        if let Some(e) = syntax_errors.first() {
            let at = e.span().unwrap_or(0..0);
            let field = path_at(doc.get_ref(), &at, Find::Preceding).unwrap_or_default();
            return Err(source.error(at, field, e.message()));
        }
        let raw = RawMeeting::deserialize(toml::de::Deserializer::from(doc.clone()))
            .map_err(|e| source.serde_error(doc.get_ref(), &e))?;
        raw.check(&source)
    }

    /// What clients are told about the meeting.
    pub fn view(&self) -> MeetingView {
        MeetingView {
            id: self.id.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            total_seats: self.total_seats,
            quorum: self.quorum,
            labels: self.labels.clone(),
            seats: self
                .seats
                .iter()
                .map(|s| SeatView {
                    number: s.number,
                    name: s.name.clone(),
                    group: s.group.clone(),
                })
                .collect(),
            agenda: self.agenda.clone(),
        }
    }

    /// The seat with this number, if the roster has it.
    pub fn seat(&self, number: SeatNo) -> Option<&SeatDefinition> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.seats.get(index)
    }

    /// The agenda item at this 0-based index, counted across all topics.
    pub fn item(&self, index: u32) -> Option<&ItemView> {
        self.agenda.get(usize::try_from(index).ok()?)
    }
}

/// The text being parsed, to turn byte spans into lines and columns.
struct Source<'a>(&'a str);

impl Source<'_> {
    fn error(
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

    fn line_column(&self, offset: usize) -> (usize, usize) {
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
    fn serde_error(&self, doc: &DeTable, e: &toml::de::Error) -> DefinitionError {
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

    fn nonblank(&self, value: &Spanned<String>, field: &str) -> Result<String, DefinitionError> {
        if value.get_ref().trim().is_empty() {
            return Err(self.error(value.span(), field, "must not be empty"));
        }
        Ok(value.get_ref().clone())
    }
}

/// How [`path_at`] matches a span against the document's keys and values.
#[derive(Clone, Copy)]
enum Find {
    /// The node with exactly this span (a table a field is missing from).
    Exact,
    /// The smallest key or value containing the span.
    Within,
    /// The last key that starts at or before the span (for syntax errors).
    Preceding,
}

/// The path (`topics[1].items[0].vote`) of the node at `target`, if any.
fn path_at(doc: &DeTable, target: &Range<usize>, find: Find) -> Option<String> {
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

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

// The file as written. Spans are kept where a check after serde needs them.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeeting {
    id: Spanned<String>,
    title: Spanned<String>,
    body: Spanned<String>,
    total_seats: Spanned<u32>,
    quorum: Option<Spanned<RawThreshold>>,
    #[serde(default)]
    labels: RawLabels,
    vote_defaults: Option<Spanned<RawSettings>>,
    #[serde(default)]
    seats: Vec<Spanned<RawSeat>>,
    topics: Spanned<Vec<Spanned<RawTopic>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLabels {
    yes: Option<Spanned<String>>,
    no: Option<Spanned<String>>,
    abstain: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeat {
    number: Spanned<u32>,
    name: Spanned<String>,
    #[serde(default)]
    group: String,
    public_key: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    title: Spanned<String>,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    kind: ItemKind,
    title: Spanned<String>,
    vote: Option<Spanned<RawVote>>,
}

/// `vote = true`, `vote = false` or `vote = { ...settings... }`.
enum RawVote {
    Flag(bool),
    Settings(RawSettings),
}

impl<'de> Deserialize<'de> for RawVote {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawVote;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false or a table of vote settings")
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawVote, E> {
                Ok(RawVote::Flag(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawVote, A::Error> {
                RawSettings::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawVote::Settings)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Vote settings as written: every key optional, overriding the layer below.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    rule: Option<Spanned<RawRule>>,
    secrecy: Option<Spanned<Secrecy>>,
    interim: Option<Spanned<Interim>>,
    allow_change: Option<bool>,
    require_check_in: Option<bool>,
    window_seconds: Option<Spanned<u32>>,
}

/// The serde shape of [`Rule`], refusing unknown keys.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawRule {
    base: Base,
    threshold: RawThreshold,
}

/// The serde shape of [`Threshold`], refusing unknown keys.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawThreshold {
    MoreThanHalf,
    AtLeastTwoThirds,
    AtLeastThreeQuarters,
    Fraction { num: u32, den: u32, strict: bool },
}

impl RawThreshold {
    fn threshold(self) -> Threshold {
        match self {
            RawThreshold::MoreThanHalf => Threshold::MoreThanHalf,
            RawThreshold::AtLeastTwoThirds => Threshold::AtLeastTwoThirds,
            RawThreshold::AtLeastThreeQuarters => Threshold::AtLeastThreeQuarters,
            RawThreshold::Fraction { num, den, strict } => Threshold::Fraction { num, den, strict },
        }
    }
}

impl RawRule {
    fn rule(self) -> Rule {
        Rule {
            base: self.base,
            threshold: self.threshold.threshold(),
        }
    }
}

impl RawSettings {
    /// These settings over `base`, checked. `path` and `span` locate the
    /// table; an error points at the field to blame when there is one.
    fn resolve(
        &self,
        base: VoteSettings,
        path: &str,
        span: Range<usize>,
        source: &Source,
    ) -> Result<VoteSettings, DefinitionError> {
        let settings = VoteSettings {
            rule: self.rule.as_ref().map_or(base.rule, |r| r.get_ref().rule()),
            secrecy: self.secrecy.as_ref().map_or(base.secrecy, |s| *s.get_ref()),
            interim: self.interim.as_ref().map_or(base.interim, |i| *i.get_ref()),
            allow_change: self.allow_change.unwrap_or(base.allow_change),
            require_check_in: self.require_check_in.unwrap_or(base.require_check_in),
            window_seconds: self
                .window_seconds
                .as_ref()
                .map_or(base.window_seconds, |w| *w.get_ref()),
        };
        let Err(message) = settings.validate() else {
            return Ok(settings);
        };
        // Blame the first written field that, left out, makes the settings valid.
        let suspects = [
            (
                "rule",
                self.rule.as_ref().map(Spanned::span),
                VoteSettings {
                    rule: base.rule,
                    ..settings
                },
            ),
            (
                "window_seconds",
                self.window_seconds.as_ref().map(Spanned::span),
                VoteSettings {
                    window_seconds: base.window_seconds,
                    ..settings
                },
            ),
            (
                "interim",
                self.interim.as_ref().map(Spanned::span),
                VoteSettings {
                    interim: base.interim,
                    ..settings
                },
            ),
            (
                "secrecy",
                self.secrecy.as_ref().map(Spanned::span),
                VoteSettings {
                    secrecy: base.secrecy,
                    ..settings
                },
            ),
        ];
        let (field, span) = suspects
            .into_iter()
            .find_map(|(name, at, without)| {
                let at = at?;
                without.validate().is_ok().then(|| (join(path, name), at))
            })
            .unwrap_or((path.to_owned(), span));
        Err(source.error(span, field, message))
    }
}

impl RawMeeting {
    fn check(self, source: &Source) -> Result<MeetingDefinition, DefinitionError> {
        let id = MeetingId::parse(self.id.get_ref())
            .map_err(|m| source.error(self.id.span(), "id", m))?;
        let title = source.nonblank(&self.title, "title")?;
        let body = source.nonblank(&self.body, "body")?;
        let total_seats = *self.total_seats.get_ref();
        if !(1..=MAX_SEATS).contains(&total_seats) {
            return Err(source.error(
                self.total_seats.span(),
                "total_seats",
                format!("must be between 1 and {MAX_SEATS}"),
            ));
        }
        let quorum = match &self.quorum {
            Some(raw) => {
                let quorum = raw.get_ref().threshold();
                quorum
                    .validate()
                    .map_err(|m| source.error(raw.span(), "quorum", m))?;
                quorum
            }
            None => Threshold::AtLeastTwoThirds,
        };
        let labels = self.labels.check(source)?;
        let defaults = match &self.vote_defaults {
            Some(raw) => raw.get_ref().resolve(
                VoteSettings::default(),
                "vote_defaults",
                raw.span(),
                source,
            )?,
            None => VoteSettings::default(),
        };
        let seats = check_seats(&self.seats, &self.total_seats, source)?;
        let agenda = check_agenda(&self.topics, defaults, source)?;
        Ok(MeetingDefinition {
            id,
            title,
            body,
            total_seats,
            quorum,
            labels,
            seats,
            agenda,
        })
    }
}

impl RawLabels {
    fn check(&self, source: &Source) -> Result<Labels, DefinitionError> {
        let written = [
            ("yes", &self.yes),
            ("no", &self.no),
            ("abstain", &self.abstain),
        ];
        let mut labels = [DEFAULT_YES, DEFAULT_NO, DEFAULT_ABSTAIN].map(String::from);
        for (i, (name, value)) in written.iter().enumerate() {
            if let Some(value) = value {
                labels[i] = source.nonblank(value, &format!("labels.{name}"))?;
            }
        }
        // A written label may also clash with a default one, e.g. `yes =
        // "Không biểu quyết"` alone; blame a written label of the pair.
        for i in 1..3 {
            for j in 0..i {
                if labels[i] != labels[j] {
                    continue;
                }
                let (blamed, other) = if written[i].1.is_some() {
                    (i, j)
                } else {
                    (j, i)
                };
                let (name, value) = written[blamed];
                let span = value.as_ref().map_or(0..0, Spanned::span);
                return Err(source.error(
                    span,
                    format!("labels.{name}"),
                    format!(
                        "is the same as labels.{}; the three labels must differ",
                        written[other].0
                    ),
                ));
            }
        }
        let [yes, no, abstain] = labels;
        Ok(Labels { yes, no, abstain })
    }
}

fn check_seats(
    raw: &[Spanned<RawSeat>],
    total: &Spanned<u32>,
    source: &Source,
) -> Result<Vec<SeatDefinition>, DefinitionError> {
    let total_seats = *total.get_ref();
    // Where each number was first listed, by number - 1.
    let mut listed: Vec<Option<Range<usize>>> = vec![None; total_seats as usize];
    let mut keys: HashMap<PublicKey, SeatNo> = HashMap::new();
    let mut seats = Vec::with_capacity(raw.len());
    for (i, seat) in raw.iter().enumerate() {
        let seat = seat.get_ref();
        let path = format!("seats[{i}]");
        let number = *seat.number.get_ref();
        let at = seat.number.span();
        let field = format!("{path}.number");
        if !(1..=total_seats).contains(&number) {
            return Err(source.error(
                at,
                field,
                format!("seat {number} is outside 1..={total_seats} (total_seats)"),
            ));
        }
        let slot = &mut listed[number as usize - 1];
        if let Some(first) = slot {
            let (line, _) = source.line_column(first.start);
            return Err(source.error(
                at,
                field,
                format!("seat {number} is listed twice (first on line {line})"),
            ));
        }
        *slot = Some(at);
        let name = source.nonblank(&seat.name, &format!("{path}.name"))?;
        let public_key = match &seat.public_key {
            None => None,
            Some(hex) => {
                let field = format!("{path}.public_key");
                let key = PublicKey::from_hex(hex.get_ref())
                    .map_err(|e| source.error(hex.span(), &field, e.to_string()))?;
                if let Some(other) = keys.insert(key, number) {
                    return Err(source.error(
                        hex.span(),
                        field,
                        format!("this key is already given to seat {other}"),
                    ));
                }
                Some(key)
            }
        };
        seats.push(SeatDefinition {
            number,
            name,
            group: seat.group.clone(),
            public_key,
        });
    }
    let missing: Vec<u32> = (1..=total_seats)
        .filter(|&n| listed[n as usize - 1].is_none())
        .collect();
    if let Some(&first) = missing.first() {
        let shown: Vec<String> = missing.iter().take(10).map(u32::to_string).collect();
        let more = if missing.len() > shown.len() {
            format!(" and {} more", missing.len() - shown.len())
        } else {
            String::new()
        };
        let what = if missing.len() == 1 {
            format!("seat {first} is")
        } else {
            format!("seats {}{more} are", shown.join(", "))
        };
        return Err(source.error(
            total.span(),
            "total_seats",
            format!(
                "is {total_seats} but {} [[seats]] are listed: {what} missing",
                raw.len()
            ),
        ));
    }
    seats.sort_by_key(|s| s.number);
    Ok(seats)
}

fn check_agenda(
    topics: &Spanned<Vec<Spanned<RawTopic>>>,
    defaults: VoteSettings,
    source: &Source,
) -> Result<Vec<ItemView>, DefinitionError> {
    if topics.get_ref().is_empty() {
        return Err(source.error(topics.span(), "topics", "the agenda has no [[topics]]"));
    }
    let mut agenda = Vec::new();
    for (t, topic_at) in topics.get_ref().iter().enumerate() {
        let topic = topic_at.get_ref();
        let path = format!("topics[{t}]");
        let topic_title = source.nonblank(&topic.title, &format!("{path}.title"))?;
        if topic.items.is_empty() {
            return Err(source.error(
                topic_at.span(),
                path,
                "the topic has no items: add [[topics.items]] after it",
            ));
        }
        for (i, item) in topic.items.iter().enumerate() {
            let path = format!("{path}.items[{i}]");
            let title = source.nonblank(&item.title, &format!("{path}.title"))?;
            let vote = match item.vote.as_ref().map(|v| (v.get_ref(), v.span())) {
                None => match item.kind {
                    ItemKind::Report | ItemKind::QuestionSession => None,
                    _ => Some(defaults),
                },
                Some((RawVote::Flag(false), _)) => None,
                Some((RawVote::Flag(true), _)) => Some(defaults),
                Some((RawVote::Settings(raw), at)) => {
                    Some(raw.resolve(defaults, &format!("{path}.vote"), at, source)?)
                }
            };
            agenda.push(ItemView {
                index: u32::try_from(agenda.len()).expect("an agenda of fewer than 2^32 items"),
                topic: topic_title.clone(),
                kind: item.kind,
                title,
                vote,
            });
        }
    }
    Ok(agenda)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gavel_protocol::rules::{Base, Interim, Secrecy};

    /// A small valid meeting. Tests change one line at a time, so the line
    /// numbers below stay put: 4 total_seats, 7/11 seat numbers, 8/12 names,
    /// 14 [[topics]], 17 [[topics.items]], 18 kind, 19 title.
    const MINIMAL: &str = r#"id = "thu"
title = "Phiên họp thử"
body = "Hội đồng thử"
total_seats = 2

[[seats]]
number = 1
name = "Nguyễn Văn An"

[[seats]]
number = 2
name = "Trần Thị Bình"

[[topics]]
title = "Chủ đề"

[[topics.items]]
kind = "draft_resolution"
title = "Dự thảo nghị quyết"
"#;

    fn with(from: &str, to: &str) -> String {
        assert!(MINIMAL.contains(from), "{from:?} is not in MINIMAL");
        MINIMAL.replacen(from, to, 1)
    }

    /// Parses `text`, expecting an error; returns (line, column, field, message).
    fn error(text: &str) -> (usize, usize, String, String) {
        let e = MeetingDefinition::parse(text).expect_err("the definition should be refused");
        (e.line, e.column, e.field, e.message)
    }

    fn key_hex(seed: u8) -> String {
        PublicKey::of(&ed25519_dalek::SigningKey::from_bytes(&[seed; 32])).to_hex()
    }

    #[test]
    fn the_example_parses_with_40_seats_and_its_agenda() {
        let m = MeetingDefinition::parse(EXAMPLE).unwrap();
        assert_eq!(m.id.as_str(), "phuc-loi-2026-ky-12");
        assert!(m.body.starts_with("Hội đồng nhân dân phường Phúc Lợi"));
        assert_eq!(m.total_seats, 40);
        assert_eq!(m.labels.yes, "Tán thành");
        assert_eq!(m.labels.no, "Không tán thành");
        assert_eq!(m.labels.abstain, "Không biểu quyết");
        assert_eq!(m.seats.len(), 40);
        for (i, seat) in m.seats.iter().enumerate() {
            assert_eq!(seat.number as usize, i + 1);
            assert_eq!(seat.group, format!("Tổ đại biểu số {}", i / 10 + 1));
            assert!(seat.public_key.is_none());
        }
        assert_eq!(m.seat(1).unwrap().name, "Nguyễn Đức Thắng");
        assert_eq!(m.seat(40).unwrap().name, "Ninh Văn Tùng");

        use ItemKind::*;
        let kinds: Vec<ItemKind> = m.agenda.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                Other,
                Report,
                DraftResolution,
                DraftResolution,
                Proposal,
                QuestionSession,
                Other,
                Election,
                Other,
                DraftResolution
            ]
        );
        for (i, item) in m.agenda.iter().enumerate() {
            assert_eq!(item.index as usize, i);
        }
        let topics: Vec<&str> = m.agenda.iter().map(|i| i.topic.as_str()).collect();
        assert_eq!(topics[0], "Khai mạc kỳ họp");
        assert_eq!(topics[5], "Chất vấn và trả lời chất vấn");
        assert_eq!(
            topics
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            4
        );

        let defaults = VoteSettings::default();
        let vote = |i: u32| m.item(i).unwrap().vote;
        assert_eq!(vote(0), Some(defaults));
        assert_eq!(vote(1), None, "a report is not voted on");
        assert_eq!(
            vote(2),
            Some(VoteSettings {
                window_seconds: 90,
                ..defaults
            })
        );
        assert_eq!(vote(3), Some(defaults));
        assert_eq!(vote(5), None, "a question session is not voted on");
        let secret = VoteSettings {
            secrecy: Secrecy::Secret,
            interim: Interim::None,
            ..defaults
        };
        assert_eq!(vote(6), Some(secret));
        assert_eq!(
            vote(7),
            Some(VoteSettings {
                window_seconds: 90,
                ..secret
            })
        );
        let removal = vote(8).unwrap();
        assert_eq!(
            removal.rule,
            Rule {
                base: Base::AllSeats,
                threshold: Threshold::AtLeastTwoThirds
            }
        );
        assert_eq!(removal.rule.yes_needed(40), 27);
        assert_eq!(removal.secrecy, Secrecy::Secret);
        assert_eq!(vote(9), Some(defaults));
        assert!(m.item(10).is_none());
    }

    #[test]
    fn the_error_quoted_in_the_example_is_the_real_one() {
        let quoted = EXAMPLE
            .lines()
            .find_map(|l| l.strip_prefix("#   \"line "))
            .and_then(|l| l.strip_suffix("\"."))
            .expect("the example quotes an error");
        let fifth_seat_says_4 = EXAMPLE.replacen("number = 5\n", "number = 4\n", 1);
        let e = MeetingDefinition::parse(&fifth_seat_says_4).unwrap_err();
        assert_eq!(e.to_string(), format!("line {quoted}"));
    }

    #[test]
    fn the_view_is_the_definition_without_keys() {
        let m = MeetingDefinition::parse(EXAMPLE).unwrap();
        let view = m.view();
        assert_eq!(view.id, m.id);
        assert_eq!(view.title, m.title);
        assert_eq!(view.body, m.body);
        assert_eq!(view.total_seats, 40);
        assert_eq!(view.labels, m.labels);
        assert_eq!(view.agenda, m.agenda);
        assert_eq!(view.seats.len(), 40);
        for (v, s) in view.seats.iter().zip(&m.seats) {
            assert_eq!((v.number, &v.name, &v.group), (s.number, &s.name, &s.group));
        }
    }

    #[test]
    fn seats_are_found_by_number_whatever_their_order_in_the_file() {
        let text = with("number = 1", "number = 9").replacen("number = 2", "number = 1", 1);
        let text = text.replacen("number = 9", "number = 2", 1);
        let m = MeetingDefinition::parse(&text).unwrap();
        assert_eq!(m.seat(1).unwrap().name, "Trần Thị Bình");
        assert_eq!(m.seat(2).unwrap().name, "Nguyễn Văn An");
        assert_eq!(m.seat(2).unwrap().group, "");
        assert!(m.seat(0).is_none());
        assert!(m.seat(3).is_none());
    }

    #[test]
    fn the_minimal_meeting_gets_the_defaults() {
        let m = MeetingDefinition::parse(MINIMAL).unwrap();
        assert_eq!(m.labels.yes, DEFAULT_YES);
        assert_eq!(m.item(0).unwrap().vote, Some(VoteSettings::default()));
        assert_eq!(m.item(0).unwrap().topic, "Chủ đề");
        assert_eq!(m.quorum, Threshold::AtLeastTwoThirds);
    }

    #[test]
    fn the_quorum_is_a_share_of_all_seats_and_checked() {
        let quorum = |q: &str| {
            with(
                "total_seats = 2\n",
                &format!("total_seats = 2\nquorum = {q}\n"),
            )
        };
        let m = MeetingDefinition::parse(&quorum("\"more_than_half\"")).unwrap();
        assert_eq!(m.quorum, Threshold::MoreThanHalf);
        assert_eq!(m.view().quorum, Threshold::MoreThanHalf);
        let m = MeetingDefinition::parse(&quorum(
            "{ fraction = { num = 3, den = 5, strict = false } }",
        ))
        .unwrap();
        let three_fifths = Threshold::Fraction {
            num: 3,
            den: 5,
            strict: false,
        };
        assert_eq!(m.quorum, three_fifths);

        let (line, _, field, message) = error(&quorum(
            "{ fraction = { num = 5, den = 3, strict = false } }",
        ));
        assert_eq!((line, field.as_str()), (5, "quorum"), "{message}");
        let (_, _, field, _) = error(&quorum("\"most\""));
        assert_eq!(field, "quorum");
    }

    #[test]
    fn vote_is_on_by_kind_and_can_be_switched() {
        let kind = |k: &str, vote: &str| {
            let text = with(
                "kind = \"draft_resolution\"",
                &format!("kind = \"{k}\"\n{vote}"),
            );
            MeetingDefinition::parse(&text).unwrap().agenda[0].vote
        };
        let on = Some(VoteSettings::default());
        assert_eq!(kind("report", ""), None);
        assert_eq!(kind("question_session", ""), None);
        assert_eq!(kind("proposal", ""), on);
        assert_eq!(kind("election", ""), on);
        assert_eq!(kind("other", ""), on);
        assert_eq!(kind("report", "vote = true"), on);
        assert_eq!(kind("draft_resolution", "vote = false"), None);
        assert_eq!(
            kind("report", "vote = { allow_change = false }"),
            Some(VoteSettings {
                allow_change: false,
                ..VoteSettings::default()
            })
        );
    }

    #[test]
    fn item_settings_override_the_defaults_field_by_field() {
        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[vote_defaults]\nwindow_seconds = 45\nrequire_check_in = false\n\
             rule = { base = \"cast\", threshold = { fraction = { num = 3, den = 5, strict = true } } }\n",
        )
        .replacen(
            "title = \"Dự thảo nghị quyết\"",
            "title = \"Dự thảo nghị quyết\"\nvote = { window_seconds = 120 }",
            1,
        );
        let vote = MeetingDefinition::parse(&text).unwrap().agenda[0].vote;
        assert_eq!(
            vote,
            Some(VoteSettings {
                rule: Rule {
                    base: Base::Cast,
                    threshold: Threshold::Fraction {
                        num: 3,
                        den: 5,
                        strict: true
                    }
                },
                require_check_in: false,
                window_seconds: 120,
                ..VoteSettings::default()
            })
        );
    }

    #[test]
    fn rules_read_every_serde_shape_of_the_protocol() {
        #[derive(serde::Serialize)]
        struct Written {
            rule: Rule,
        }
        #[derive(Deserialize)]
        struct Read {
            rule: RawRule,
        }
        let thresholds = [
            Threshold::MoreThanHalf,
            Threshold::AtLeastTwoThirds,
            Threshold::AtLeastThreeQuarters,
            Threshold::Fraction {
                num: 3,
                den: 5,
                strict: false,
            },
        ];
        for base in [Base::AllSeats, Base::Present, Base::Cast, Base::YesNo] {
            for threshold in thresholds {
                // A threshold added to the protocol must be added here and to RawThreshold.
                match threshold {
                    Threshold::MoreThanHalf
                    | Threshold::AtLeastTwoThirds
                    | Threshold::AtLeastThreeQuarters
                    | Threshold::Fraction { .. } => {}
                }
                let rule = Rule { base, threshold };
                let text = toml::to_string(&Written { rule }).unwrap();
                let read: Read = toml::from_str(&text).unwrap();
                assert_eq!(read.rule.rule(), rule, "{text}");
            }
        }
    }

    #[test]
    fn errors_read_line_column_field_and_message() {
        let e = MeetingDefinition::parse(&with("number = 2", "number = 1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 11, column 10: seats[1].number: seat 1 is listed twice (first on line 7)"
        );
    }

    #[test]
    fn unknown_keys_are_refused_where_they_are() {
        let (line, column, field, message) = error(&with(
            "name = \"Trần Thị Bình\"",
            "nmae = \"Trần Thị Bình\"",
        ));
        assert_eq!((line, column, field.as_str()), (12, 1, "seats[1].nmae"));
        assert!(message.contains("unknown field `nmae`"), "{message}");

        let (line, _, field, _) = error(&with(
            "total_seats = 2\n",
            "total_seats = 2\nchairman = 1\n",
        ));
        assert_eq!((line, field.as_str()), (5, "chairman"));

        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[vote_defaults]\n\
             rule = { base = \"all_seats\", threshold = { fraction = { num = 3, den = 5, strcit = false } } }\n",
        );
        let (line, column, field, _) = error(&text);
        assert_eq!(
            (line, column, field.as_str()),
            (6, 75, "vote_defaults.rule.threshold.fraction.strcit")
        );

        let text = with(
            "title = \"Dự thảo nghị quyết\"",
            "title = \"Dự thảo nghị quyết\"\nvote = { windows = 90 }",
        );
        let (line, column, field, _) = error(&text);
        assert_eq!(
            (line, column, field.as_str()),
            (20, 10, "topics[0].items[0].vote.windows")
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let (line, column, field, message) =
            error(&with("name = \"Trần Thị Bình\"", "# name is missing"));
        assert_eq!((line, column, field.as_str()), (10, 1, "seats[1].name"));
        assert_eq!(message, "missing field `name`");

        let (line, column, field, _) = error(&with("id = \"thu\"", "# no id"));
        assert_eq!((line, column, field.as_str()), (1, 1, "id"));

        let (line, column, field, message) = error(&with("number = 2", "number = \"2\""));
        assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
        assert!(message.contains("expected u32"), "{message}");

        let (line, column, field, message) = error(&with(
            "kind = \"draft_resolution\"",
            "kind = \"resolution\"",
        ));
        assert_eq!(
            (line, column, field.as_str()),
            (18, 8, "topics[0].items[0].kind")
        );
        assert!(
            message.contains("unknown variant `resolution`"),
            "{message}"
        );

        let text = with(
            "title = \"Dự thảo nghị quyết\"",
            "title = \"Dự thảo nghị quyết\"\nvote = \"yes\"",
        );
        let (line, column, field, message) = error(&text);
        assert_eq!(
            (line, column, field.as_str()),
            (20, 8, "topics[0].items[0].vote")
        );
        assert!(message.contains("true, false or a table"), "{message}");
    }

    #[test]
    fn seat_numbers_must_cover_the_roster_once_each() {
        let (line, column, field, message) = error(&with("number = 2", "number = 1"));
        assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
        assert_eq!(message, "seat 1 is listed twice (first on line 7)");

        let (line, column, field, message) = error(&with("number = 2", "number = 3"));
        assert_eq!((line, column, field.as_str()), (11, 10, "seats[1].number"));
        assert_eq!(message, "seat 3 is outside 1..=2 (total_seats)");

        let (line, column, field, message) = error(&with("number = 1", "number = 0"));
        assert_eq!((line, column, field.as_str()), (7, 10, "seats[0].number"));
        assert!(message.starts_with("seat 0 is outside"), "{message}");

        let (line, column, field, message) = error(&with("total_seats = 2", "total_seats = 3"));
        assert_eq!((line, column, field.as_str()), (4, 15, "total_seats"));
        assert_eq!(
            message,
            "is 3 but 2 [[seats]] are listed: seat 3 is missing"
        );

        let (line, _, field, message) = error(&with("total_seats = 2", "total_seats = 40"));
        assert_eq!((line, field.as_str()), (4, "total_seats"));
        assert_eq!(
            message,
            "is 40 but 2 [[seats]] are listed: seats 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 28 more are missing"
        );

        let (line, _, field, _) = error(&with("total_seats = 2", "total_seats = 0"));
        assert_eq!((line, field.as_str()), (4, "total_seats"));
        let (line, _, field, _) = error(&with("total_seats = 2", "total_seats = 4000000000"));
        assert_eq!((line, field.as_str()), (4, "total_seats"));
    }

    #[test]
    fn text_fields_must_not_be_blank() {
        let (line, column, field, _) = error(&with("title = \"Phiên họp thử\"", "title = \"  \""));
        assert_eq!((line, column, field.as_str()), (2, 9, "title"));
        let (line, column, field, message) =
            error(&with("name = \"Nguyễn Văn An\"", "name = \"\""));
        assert_eq!((line, column, field.as_str()), (8, 8, "seats[0].name"));
        assert_eq!(message, "must not be empty");
        let (line, _, field, _) = error(&with("title = \"Chủ đề\"", "title = \"\""));
        assert_eq!((line, field.as_str()), (15, "topics[0].title"));
        let (line, _, field, _) = error(&with("title = \"Dự thảo nghị quyết\"", "title = \"\""));
        assert_eq!((line, field.as_str()), (19, "topics[0].items[0].title"));
    }

    #[test]
    fn the_meeting_id_must_be_a_slug() {
        let (line, column, field, message) = error(&with("id = \"thu\"", "id = \"Phúc Lợi\""));
        assert_eq!((line, column, field.as_str()), (1, 6, "id"));
        assert!(message.contains("a-z, 0-9 and '-'"), "{message}");
    }

    #[test]
    fn public_keys_must_be_valid_and_distinct() {
        let key = key_hex(7);
        let text = with(
            "name = \"Nguyễn Văn An\"\n",
            &format!("name = \"Nguyễn Văn An\"\npublic_key = \"{key}\"\n"),
        );
        let m = MeetingDefinition::parse(&text).unwrap();
        assert_eq!(m.seat(1).unwrap().public_key.unwrap().to_hex(), key);
        assert_eq!(m.seat(2).unwrap().public_key, None);

        let (line, column, field, message) = error(&with(
            "name = \"Nguyễn Văn An\"\n",
            "name = \"Nguyễn Văn An\"\npublic_key = \"abcd\"\n",
        ));
        assert_eq!(
            (line, column, field.as_str()),
            (9, 14, "seats[0].public_key")
        );
        assert!(message.contains("64 hex digits"), "{message}");

        let text = with(
            "name = \"Nguyễn Văn An\"\n",
            &format!("name = \"Nguyễn Văn An\"\npublic_key = \"{key}\"\n"),
        )
        .replacen(
            "name = \"Trần Thị Bình\"\n",
            &format!("name = \"Trần Thị Bình\"\npublic_key = \"{key}\"\n"),
            1,
        );
        let (line, _, field, message) = error(&text);
        assert_eq!((line, field.as_str()), (14, "seats[1].public_key"));
        assert_eq!(message, "this key is already given to seat 1");
    }

    #[test]
    fn invalid_vote_settings_blame_the_field_that_breaks_them() {
        let item_vote = |vote: &str| {
            with(
                "title = \"Dự thảo nghị quyết\"",
                &format!("title = \"Dự thảo nghị quyết\"\nvote = {vote}"),
            )
        };
        let (line, column, field, message) = error(&item_vote(
            "{ secrecy = \"secret\", interim = \"individual\" }",
        ));
        assert_eq!(
            (line, column, field.as_str()),
            (20, 40, "topics[0].items[0].vote.interim")
        );
        assert!(
            message.contains("secret vote cannot show individual"),
            "{message}"
        );

        let (line, column, field, message) = error(&item_vote("{ window_seconds = 0 }"));
        assert_eq!(
            (line, column, field.as_str()),
            (20, 27, "topics[0].items[0].vote.window_seconds")
        );
        assert!(message.contains("window_seconds"), "{message}");

        // The conflict is made by the item, with an interim from the defaults.
        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[vote_defaults]\ninterim = \"individual\"\n",
        )
        .replacen(
            "title = \"Dự thảo nghị quyết\"",
            "title = \"Dự thảo nghị quyết\"\nvote = { secrecy = \"secret\" }",
            1,
        );
        let (line, column, field, _) = error(&text);
        assert_eq!(
            (line, column, field.as_str()),
            (22, 20, "topics[0].items[0].vote.secrecy")
        );

        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[vote_defaults]\n\
             rule = { base = \"all_seats\", threshold = { fraction = { num = 3, den = 2, strict = false } } }\n",
        );
        let (line, column, field, message) = error(&text);
        assert_eq!((line, column, field.as_str()), (6, 8, "vote_defaults.rule"));
        assert!(message.contains("3/2"), "{message}");
    }

    #[test]
    fn topics_need_items_and_the_agenda_needs_topics() {
        let text = with(
            "[[topics.items]]\nkind = \"draft_resolution\"\ntitle = \"Dự thảo nghị quyết\"\n",
            "",
        );
        let (line, column, field, message) = error(&text);
        assert_eq!((line, column, field.as_str()), (14, 1, "topics[0]"));
        assert!(message.contains("no items"), "{message}");

        let (_, _, field, _) = error(&MINIMAL[..MINIMAL.find("[[topics]]").unwrap()]);
        assert_eq!(field, "topics");
    }

    #[test]
    fn labels_must_be_distinct_and_columns_count_characters() {
        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\nlabels = { yes = \"Đồng ý\", no = \"Đồng ý\" }\n",
        );
        let (line, column, field, message) = error(&text);
        assert_eq!((line, column, field.as_str()), (5, 33, "labels.no"));
        assert_eq!(
            message,
            "is the same as labels.yes; the three labels must differ"
        );

        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[labels]\nyes = \"Không biểu quyết\"\n",
        );
        let (line, column, field, message) = error(&text);
        assert_eq!((line, column, field.as_str()), (6, 7, "labels.yes"));
        assert_eq!(
            message,
            "is the same as labels.abstain; the three labels must differ"
        );

        let text = with(
            "total_seats = 2\n",
            "total_seats = 2\n[labels]\nyes = \"Đồng ý\"\nno = \"Không đồng ý\"\nabstain = \"Phiếu trắng\"\n",
        );
        let m = MeetingDefinition::parse(&text).unwrap();
        assert_eq!(
            (
                m.labels.yes.as_str(),
                m.labels.no.as_str(),
                m.labels.abstain.as_str()
            ),
            ("Đồng ý", "Không đồng ý", "Phiếu trắng")
        );
    }

    #[test]
    fn syntax_errors_name_the_nearest_field() {
        let (line, _, field, _) =
            error(&with("name = \"Trần Thị Bình\"", "name = \"Trần Thị Bình"));
        assert_eq!((line, field.as_str()), (12, "seats[1].name"));

        let (line, column, field, message) =
            error(&with("number = 2\n", "number = 2\nnumber = 3\n"));
        assert_eq!((line, column, field.as_str()), (12, 1, "seats[1].number"));
        assert!(message.contains("duplicate key"), "{message}");
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark_are_fine() {
        let crlf = MINIMAL.replace('\n', "\r\n");
        assert!(MeetingDefinition::parse(&crlf).is_ok());
        let bom = format!("\u{feff}{}", with("id = \"thu\"", "id = \"Thu\""));
        let (line, column, field, _) = error(&bom);
        assert_eq!((line, column, field.as_str()), (1, 6, "id"));
        let (line, column, _, _) = error(&crlf.replacen("number = 2", "number = 1", 1));
        assert_eq!((line, column), (11, 10));
    }
}
