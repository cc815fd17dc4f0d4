//! The meeting file in the other direction: a checked definition written
//! back as the file's fields ([`MeetingForm`]), which the secretariat's app
//! edits as JSON and which serializes to the TOML text that
//! [`MeetingDefinition::parse`] reads. A form is never trusted as it stands:
//! [`MeetingForm::check`] writes it as TOML and parses that, so the app and
//! `gavel meeting import` share one validation and one stored form, the text.
//!
//! Every item is written with its complete vote settings (or `vote = false`)
//! and no `[vote_defaults]`: the defaults cascade is the hand-writer's
//! shorthand, and a written form must not change what an item means when a
//! default is later edited. Reading a written form back gives the same
//! definition, and writing that gives the same text.

use super::{DefinitionError, DocumentSource, MeetingDefinition, RegisteredQuestion};
use gavel_protocol::floor::{FloorSettings, Respondent};
use gavel_protocol::messages::{DocumentKind, ItemKind, ItemView, Labels, ListEntry};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::rules::{Threshold, VoteSettings};
use serde::{Deserialize, Serialize};

/// The meeting file's fields, as the app edits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingForm {
    pub id: String,
    pub title: String,
    pub body: String,
    pub total_seats: u32,
    pub quorum: Threshold,
    pub labels: Labels,
    /// Written whole, like an item's vote: a form names every limit.
    #[serde(default)]
    pub floor: FloorSettings,
    #[serde(default)]
    pub seats: Vec<SeatForm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub respondents: Vec<Respondent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counting_board: Option<BoardForm>,
    pub topics: Vec<TopicForm>,
}

/// `[counting_board]`: the seats of the board that counts secret ballots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardForm {
    pub seats: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatForm {
    pub number: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicForm {
    pub title: String,
    pub items: Vec<ItemForm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemForm {
    pub kind: ItemKind,
    pub title: String,
    pub vote: VoteForm,
    /// A paper on a list: its kind, an election's posts, and the
    /// candidates (an election) or officials (a rating, a no-confidence vote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballot: Option<PaperKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posts: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<ListEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub officials: Vec<ListEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentForm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<QuestionForm>,
}

/// A question registered on a question_session item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionForm {
    pub seat: u32,
    /// 0-based index into the meeting's respondents.
    pub respondent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// `vote = false`, or the item's complete settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VoteForm {
    NotVoted(bool),
    Settings(VoteSettings),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentForm {
    pub title: String,
    pub kind: DocumentKind,
    pub file: String,
    pub public: bool,
}

impl MeetingForm {
    /// The form of a checked definition: topics are runs of consecutive
    /// items under one title.
    pub fn of(definition: &MeetingDefinition) -> MeetingForm {
        let mut topics: Vec<TopicForm> = Vec::new();
        for item in &definition.agenda {
            let form = ItemForm {
                kind: item.kind,
                title: item.title.clone(),
                vote: item
                    .vote
                    .map_or(VoteForm::NotVoted(false), VoteForm::Settings),
                ballot: item.paper.as_ref().map(|p| p.kind),
                posts: item
                    .paper
                    .as_ref()
                    .filter(|p| p.kind == PaperKind::Election)
                    .map(|p| p.posts),
                candidates: list_of(item, PaperKind::Election, true),
                officials: list_of(item, PaperKind::Election, false),
                documents: documents_of(&definition.documents, item.index),
                questions: questions_of(&definition.questions, item.index),
            };
            match topics.last_mut() {
                Some(topic) if topic.title == item.topic => topic.items.push(form),
                _ => topics.push(TopicForm {
                    title: item.topic.clone(),
                    items: vec![form],
                }),
            }
        }
        MeetingForm {
            id: definition.id.to_string(),
            title: definition.title.clone(),
            body: definition.body.clone(),
            total_seats: definition.total_seats,
            quorum: definition.quorum,
            labels: definition.labels.clone(),
            floor: definition.floor,
            seats: definition
                .seats
                .iter()
                .map(|s| SeatForm {
                    number: s.number,
                    name: s.name.clone(),
                    group: s.group.clone(),
                    title: s.title.clone(),
                    public_key: s.public_key.map(|k| k.to_hex()),
                })
                .collect(),
            respondents: definition.respondents.clone(),
            counting_board: (!definition.counting_board.is_empty()).then(|| BoardForm {
                seats: definition.counting_board.clone(),
            }),
            topics,
        }
    }

    /// Where agenda item `index` is in the form: its topic's and its own
    /// position.
    pub fn place(&self, index: u32) -> Option<(usize, usize)> {
        let mut at = 0;
        for (t, topic) in self.topics.iter().enumerate() {
            for i in 0..topic.items.len() {
                if at == index {
                    return Some((t, i));
                }
                at += 1;
            }
        }
        None
    }

    /// The meeting file's text for this form.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a meeting form has only values TOML can hold")
    }

    /// The form written as the file and checked as `gavel meeting import`
    /// checks it: the text to store and its definition, or the first error,
    /// whose field path is the form's own (`topics[1].items[0].title`).
    pub fn check(&self) -> Result<(String, MeetingDefinition), DefinitionError> {
        let text = self.to_toml();
        let definition = MeetingDefinition::parse(&text)?;
        Ok((text, definition))
    }
}

/// The item's list if its paper is of `kind` (`is`) or of another kind
/// (not `is`): an election's candidates, or a rating's or no-confidence
/// vote's officials.
fn list_of(item: &ItemView, kind: PaperKind, is: bool) -> Vec<ListEntry> {
    item.paper
        .as_ref()
        .filter(|p| (p.kind == kind) == is)
        .map(|p| p.entries.clone())
        .unwrap_or_default()
}

/// The questions registered on the item, in the file's order.
fn questions_of(questions: &[RegisteredQuestion], item: u32) -> Vec<QuestionForm> {
    questions
        .iter()
        .filter(|q| q.item == item)
        .map(|q| QuestionForm {
            seat: q.seat,
            respondent: q.respondent,
            topic: q.topic.clone(),
        })
        .collect()
}

/// The item's documents in their order.
fn documents_of(documents: &[DocumentSource], item: u32) -> Vec<DocumentForm> {
    let mut of_item: Vec<&DocumentSource> = documents.iter().filter(|d| d.item == item).collect();
    of_item.sort_by_key(|d| d.slot);
    of_item
        .into_iter()
        .map(|d| DocumentForm {
            title: d.title.clone(),
            kind: d.kind,
            file: d.file.clone(),
            public: d.public,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::EXAMPLE;

    #[test]
    fn the_example_written_as_a_form_reads_back_identical_and_writes_the_same_text() {
        let definition = MeetingDefinition::parse(EXAMPLE).unwrap();
        let form = MeetingForm::of(&definition);
        let (text, read_back) = form.check().unwrap();
        assert_eq!(read_back, definition);
        assert_eq!(MeetingForm::of(&read_back).to_toml(), text);
    }

    #[test]
    fn a_form_from_the_app_is_checked_as_the_file_is() {
        let definition = MeetingDefinition::parse(EXAMPLE).unwrap();
        let mut form = MeetingForm::of(&definition);
        form.topics[1].items[0].title = "  ".into();
        let error = form.check().unwrap_err();
        assert_eq!(error.field, "topics[1].items[0].title");
        assert!(error.message.contains("must not be empty"), "{error}");

        let mut form = MeetingForm::of(&definition);
        form.seats[4].number = 4;
        let error = form.check().unwrap_err();
        assert_eq!(error.field, "seats[4].number");
        assert!(error.message.contains("listed twice"), "{error}");
    }

    #[test]
    fn the_app_sends_the_form_as_json_and_unknown_fields_are_refused() {
        let definition = MeetingDefinition::parse(EXAMPLE).unwrap();
        let form = MeetingForm::of(&definition);
        let json = serde_json::to_value(&form).unwrap();
        let back: MeetingForm = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, form);
        let mut extra = json;
        extra["topics"][0]["items"][0]["colour"] = "red".into();
        assert!(serde_json::from_value::<MeetingForm>(extra).is_err());
    }
}
