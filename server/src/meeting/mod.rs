//! The secretary's meeting definition file: one TOML file per session that
//! holds the roster, the vote labels, the default vote settings and the
//! agenda (see `meetings/phuc-loi.toml`, a commented example).
//!
//! Map of the module: this file holds the checked definition; `amend` what
//! a change of a stored definition may change, given its record; `file` the
//! file as written (private `Raw*` structs) and the checks that turn it into
//! the definition; `source` turns byte spans into lines, columns and field
//! paths for the errors; `form` the definition written back as the file's
//! fields, which the secretariat's app edits and which is checked by being
//! written as the file and read again.
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
//! - **Documents are named, not held.** An item's `documents` give each
//!   paper's title, kind, file (relative to the meeting file) and whether it
//!   is public; the import reads and checks the files
//!   ([`crate::documents`]) and the store keeps their bytes and versions, so
//!   the agenda here carries none and [`MeetingDefinition::view`] is given
//!   the stored ones.
//! - **The floor.** `[floor]` sets the time limits of turns (the
//!   council's own rules, nội quy kỳ họp), `[[respondents]]` lists who can
//!   be questioned, and a question session's `[[topics.items.questions]]`
//!   are the questions registered before the session: its queue when the
//!   meeting is first loaded.
//! - **The counting board.** `[counting_board] seats = [...]` names the
//!   delegates the council elected to count its secret ballots (Ban kiểm
//!   phiếu), the head first; the minutes print them under the board's record
//!   of each secret ballot on a list. `confirmations` (all members when
//!   absent) is how many must confirm a secret round's count on their
//!   tablets before the chair may announce it.
//! - **Seats are dense.** Seats must be numbered `1..=total_seats`, each once,
//!   so the definition keeps them sorted and finds seat `n` at index `n - 1`.

pub mod amend;
mod file;
mod form;
mod source;
#[cfg(test)]
mod tests;

use file::RawMeeting;
pub use file::{ListFault, check_list};
pub use form::{
    BoardForm, DocumentForm, ItemForm, MeetingForm, QuestionForm, SeatForm, TopicForm, VoteForm,
};
use gavel_protocol::floor::{FloorSettings, Respondent};
use gavel_protocol::messages::{
    DocumentKind, DocumentView, ItemView, Labels, MeetingView, SeatView,
};
use gavel_protocol::rules::Threshold;
use gavel_protocol::{MeetingId, PublicKey, SeatNo};
use serde::Deserialize as _;
use source::{Find, Source, path_at};
use toml::de::DeTable;

/// The example meeting, embedded for `gavel demo` and tests.
pub const EXAMPLE: &str = include_str!("../../meetings/phuc-loi.toml");

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
    /// Index = position across all topics, 0-based; without documents.
    pub agenda: Vec<ItemView>,
    /// Every item's documents as the file names them, by item then slot.
    pub documents: Vec<DocumentSource>,
    /// `[floor]`: the time limits of turns.
    pub floor: FloorSettings,
    /// `[[respondents]]`: who can be questioned in a question session.
    pub respondents: Vec<Respondent>,
    /// Questions registered before the session (the secretariat's list),
    /// in the order the file gives them: the first queue of their item.
    pub questions: Vec<RegisteredQuestion>,
    /// `[counting_board]`: the seats of the board (Ban kiểm phiếu) that
    /// counts the secret ballots, its head first; empty when the file names
    /// none.
    pub counting_board: Vec<SeatNo>,
    /// `[counting_board] confirmations`: how many members must confirm a
    /// secret round's count before the chair announces it (0 without a
    /// board). Until then the round's result is provisional.
    pub confirmations_required: u32,
}

/// A question registered before the session.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredQuestion {
    pub item: u32,
    pub seat: SeatNo,
    /// Index into the meeting's respondents.
    pub respondent: u32,
    pub topic: Option<String>,
}

/// A document as the meeting file names it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSource {
    /// The agenda item's index.
    pub item: u32,
    /// Its place among the item's documents, from 0: what a new version of
    /// the file replaces.
    pub slot: u32,
    pub title: String,
    pub kind: DocumentKind,
    /// The path as written, relative to the meeting file.
    pub file: String,
    pub public: bool,
}

/// One delegate's seat.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatDefinition {
    pub number: SeatNo,
    pub name: String,
    /// Empty when the file gives none.
    pub group: String,
    /// The delegate's office (chức vụ), for the secretariat's lists; empty
    /// when the file gives none.
    pub title: String,
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

    /// What clients are told about the meeting, with each item's stored
    /// documents (`(item, document)` pairs, in order).
    pub fn view(&self, documents: &[(u32, DocumentView)]) -> MeetingView {
        let mut agenda = self.agenda.clone();
        for (item, document) in documents {
            if let Some(view) = usize::try_from(*item).ok().and_then(|i| agenda.get_mut(i)) {
                view.documents.push(document.clone());
            }
        }
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
            agenda,
            respondents: self.respondents.clone(),
            floor: self.floor,
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
