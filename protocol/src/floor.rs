//! The floor: who may speak on the item under discussion, in which order,
//! and for how long.
//!
//! Delegates ask for the floor from their tablets (`floor_request`,
//! `floor_withdraw`); the chair
//! runs the queue and the speaker's clock (the `floor_*` chair commands);
//! everyone is sent the state as a `floor` frame ([`FloorView`]). Every
//! change is one [`FloorChange`], which is also what the audit chain
//! records, so that the minutes can list each turn from the record alone.
//!
//! A topic a delegate types is text: [`check_topic`] keeps it to one line of
//! at most [`MAX_TOPIC_CHARS`] characters without control characters, and
//! every screen shows it as text, never as markup.

use crate::SeatNo;
use serde::{Deserialize, Serialize};

/// The longest topic, in characters: one line on the hall screen.
pub const MAX_TOPIC_CHARS: usize = 200;

/// What a turn at the floor is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorKind {
    /// Phát biểu: a contribution to the debate.
    Speak,
    /// Tranh luận: a reply to a speaker, which goes ahead of plain requests
    /// where the council's rules say so.
    Reply,
    /// Chất vấn: a question put to a respondent in a question session.
    Question,
    /// The respondent's answer, which follows a question.
    Answer,
    /// The questioner's follow-up, after the answer, where the rules allow one.
    FollowUp,
}

/// Someone who can be questioned in a question session (the People's
/// Committee's chair and members, department heads, the court president,
/// the head prosecutor): usually not a delegate, and without a seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Respondent {
    pub name: String,
    /// Their post, e.g. "Giám đốc Sở Tài chính".
    pub post: String,
}

/// Who speaks: written like a principal, `{"seat": 4}`, `{"respondent": 1}`
/// or `{"guest": {"name": …, "post": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// A delegate, by seat.
    Seat(SeatNo),
    /// A respondent of the meeting's list, by index.
    Respondent(u32),
    /// Someone without a tablet the chair gives the floor to.
    Guest(Guest),
}

/// A speaker without a tablet and not on the list of respondents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guest {
    pub name: String,
    pub post: String,
}

/// The time limits of each kind of turn, in seconds, from the meeting file.
/// The chair can give one turn another limit, or add time to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorSettings {
    pub speak_seconds: u32,
    pub reply_seconds: u32,
    pub question_seconds: u32,
    pub answer_seconds: u32,
    pub follow_up_seconds: u32,
    /// How many follow-ups a questioner may put after the answer (each is
    /// answered again); 0 for none.
    pub follow_ups: u32,
    /// Whether replies (tranh luận) go ahead of plain requests to speak.
    pub replies_first: bool,
}

/// The National Assembly's limits, which a meeting file that names none gets.
impl Default for FloorSettings {
    fn default() -> FloorSettings {
        FloorSettings {
            speak_seconds: 300,
            reply_seconds: 180,
            question_seconds: 180,
            answer_seconds: 300,
            follow_up_seconds: 60,
            follow_ups: 1,
            replies_first: true,
        }
    }
}

impl FloorSettings {
    /// The time limit of a turn of `kind`, in milliseconds.
    pub fn limit_ms(&self, kind: FloorKind) -> u64 {
        let seconds = match kind {
            FloorKind::Speak => self.speak_seconds,
            FloorKind::Reply => self.reply_seconds,
            FloorKind::Question => self.question_seconds,
            FloorKind::Answer => self.answer_seconds,
            FloorKind::FollowUp => self.follow_up_seconds,
        };
        u64::from(seconds) * 1000
    }
}

/// A waiting request, or the one a turn was given for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorRequest {
    /// Numbers the meeting's requests, from 1; the chair names a request by it.
    pub id: u64,
    pub item: u32,
    pub kind: FloorKind,
    pub speaker: Speaker,
    /// Whom a question (its answer, its follow-up) is put to.
    pub respondent: Option<u32>,
    pub topic: Option<String>,
    /// Unix milliseconds; 0 for a question registered before the session.
    pub requested_at: u64,
}

/// The turn under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnView {
    pub request: FloorRequest,
    /// Unix milliseconds.
    pub started_at: u64,
    /// When the time runs out (Unix ms): the limit, the time added and the
    /// pauses so far after `started_at`. A screen counts down to it, from
    /// `paused_at` while the turn is paused, and counts the overrun after.
    pub ends_at: u64,
    /// While the chair holds the clock: since when (Unix ms).
    pub paused_at: Option<u64>,
}

/// A delegate's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatPlace {
    pub seat: SeatNo,
    /// 1 for the next speaker.
    pub place: u32,
}

/// The floor on the item under discussion, as each audience is sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloorView {
    /// Grows with every `snapshot`, `tally` and `floor` frame.
    pub version: u64,
    pub server_time: u64,
    /// The item under discussion (the current item), or null.
    pub item: Option<u32>,
    pub turn: Option<TurnView>,
    /// The waiting requests on the item, next first: every one for the
    /// chair, the next few for everyone else.
    pub queue: Vec<FloorRequest>,
    /// How many requests wait.
    pub waiting: u32,
    /// Each delegate with a waiting request, and its place: a tablet finds
    /// its own here, however long the queue.
    pub places: Vec<SeatPlace>,
}

/// One change of the floor, as the audit chain records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case", deny_unknown_fields)]
pub enum FloorChange {
    /// A request joined the queue at `place` (0 for the front).
    Requested {
        request: FloorRequest,
        place: u32,
    },
    Withdrawn {
        request: u64,
    },
    /// The chair moved a request to `place`.
    Moved {
        request: u64,
        place: u32,
    },
    /// A turn began, with its time limit.
    TurnStarted {
        request: FloorRequest,
        started_at: u64,
        limit_ms: u64,
    },
    TurnPaused {
        at: u64,
    },
    TurnResumed {
        at: u64,
    },
    /// The chair gave the running turn `ms` more.
    TimeAdded {
        ms: u64,
    },
    TurnEnded {
        at: u64,
    },
}

/// Why a topic was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("a topic is at most {MAX_TOPIC_CHARS} characters")]
    TooLong,
    #[error("a topic is one line of text, without control characters")]
    NotText,
}

/// Checks a typed topic: one line, [`MAX_TOPIC_CHARS`] at most, no control
/// characters (a newline, a bell, an escape). Markup and right-to-left text
/// pass: they are text, and shown as text.
pub fn check_topic(topic: &str) -> Result<(), TopicError> {
    if topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(TopicError::TooLong);
    }
    if topic.chars().any(char::is_control) {
        return Err(TopicError::NotText);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_right_to_left_text_are_topics_control_characters_are_not() {
        assert_eq!(
            check_topic("<img src=x onerror=alert(1)> \u{202E}שלום"),
            Ok(())
        );
        assert_eq!(check_topic("a\u{7}b"), Err(TopicError::NotText));
        assert_eq!(check_topic("two\nlines"), Err(TopicError::NotText));
        let long = "ạ".repeat(MAX_TOPIC_CHARS);
        assert_eq!(check_topic(&long), Ok(()));
        assert_eq!(check_topic(&format!("{long}a")), Err(TopicError::TooLong));
    }

    #[test]
    fn speakers_are_written_like_principals() {
        let guest = Speaker::Guest(Guest {
            name: "Hoàng Văn C".into(),
            post: "Chánh án".into(),
        });
        assert_eq!(
            serde_json::to_string(&guest).unwrap(),
            r#"{"guest":{"name":"Hoàng Văn C","post":"Chánh án"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Speaker::Seat(4)).unwrap(),
            r#"{"seat":4}"#
        );
    }
}
