//! The meeting file as written: serde reads it into private `Raw*` structs
//! that mirror it, and their checks build the public definition out of
//! `gavel-protocol` values, or name the first field that is wrong.

use super::source::{Source, join};
use super::{
    DefinitionError, DocumentSource, MeetingDefinition, RegisteredQuestion, SeatDefinition,
};
use gavel_protocol::floor::{FloorSettings, Respondent, check_topic};
use gavel_protocol::messages::{DocumentKind, ItemKind, ItemView, Labels, ListEntry, PaperList};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::rules::{Base, Interim, Rule, Secrecy, Threshold, VoteSettings};
use gavel_protocol::{MeetingId, PublicKey, SeatNo};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// The largest body a definition may describe: well above a party congress
/// (1,000–2,000 delegates), low enough that a typo cannot make the hub
/// allocate for millions of seats.
const MAX_SEATS: u32 = 10_000;

/// The longest list of candidates or officials: a confidence rating puts
/// some 30 officials on one paper; 200 marks still fit a ballot frame
/// ([`gavel_protocol::MAX_CLIENT_FRAME_BYTES`]) many times over.
const MAX_LIST: usize = 200;

// The file as written. Spans are kept where a check after serde needs them.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMeeting {
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
    #[serde(default)]
    floor: RawFloor,
    #[serde(default)]
    respondents: Vec<RawRespondent>,
    counting_board: Option<RawBoard>,
    topics: Spanned<Vec<Spanned<RawTopic>>>,
}

/// `[counting_board]`: the seats of the board that counts secret ballots.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    seats: Spanned<Vec<Spanned<u32>>>,
    /// How many members must confirm a secret round's count before the
    /// chair may announce it; all of them when absent.
    confirmations: Option<Spanned<u32>>,
}

/// `[floor]`: the time limits of turns, each optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFloor {
    speak_seconds: Option<u32>,
    reply_seconds: Option<u32>,
    question_seconds: Option<u32>,
    answer_seconds: Option<u32>,
    follow_up_seconds: Option<u32>,
    follow_ups: Option<u32>,
    replies_first: Option<bool>,
}

impl RawFloor {
    fn settings(&self) -> FloorSettings {
        let d = FloorSettings::default();
        FloorSettings {
            speak_seconds: self.speak_seconds.unwrap_or(d.speak_seconds),
            reply_seconds: self.reply_seconds.unwrap_or(d.reply_seconds),
            question_seconds: self.question_seconds.unwrap_or(d.question_seconds),
            answer_seconds: self.answer_seconds.unwrap_or(d.answer_seconds),
            follow_up_seconds: self.follow_up_seconds.unwrap_or(d.follow_up_seconds),
            follow_ups: self.follow_ups.unwrap_or(d.follow_ups),
            replies_first: self.replies_first.unwrap_or(d.replies_first),
        }
    }
}

/// `[[respondents]]`: who can be questioned.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRespondent {
    name: Spanned<String>,
    post: Spanned<String>,
}

/// `[[topics.items.questions]]`: a question registered before the session.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    seat: Spanned<u32>,
    /// 0-based index into `[[respondents]]`.
    respondent: Spanned<u32>,
    topic: Option<Spanned<String>>,
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
    #[serde(default)]
    title: String,
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
    /// `"election"`, `"rating"` or `"no_confidence"`: the item is voted on
    /// with a paper on its list; absent, with yes/no/abstain.
    ballot: Option<Spanned<PaperKind>>,
    /// An election's posts; 1 if not written.
    posts: Option<Spanned<u16>>,
    candidates: Option<Spanned<Vec<RawEntry>>>,
    officials: Option<Spanned<Vec<RawEntry>>>,
    #[serde(default)]
    documents: Vec<RawDocument>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: Spanned<String>,
    #[serde(default)]
    post: String,
}

impl RawItem {
    /// The item's paper, if it names a `ballot` kind: the list it needs
    /// (candidates for an election, officials otherwise) and nothing else,
    /// no name twice, at most as many posts as candidates; and a vote whose
    /// rule a paper can be measured against.
    fn paper(
        &self,
        vote: Option<&VoteSettings>,
        path: &str,
        source: &Source,
    ) -> Result<Option<PaperList>, DefinitionError> {
        let Some(kind_at) = &self.ballot else {
            for (field, written) in [
                ("candidates", self.candidates.as_ref().map(Spanned::span)),
                ("officials", self.officials.as_ref().map(Spanned::span)),
                ("posts", self.posts.as_ref().map(Spanned::span)),
            ] {
                if let Some(at) = written {
                    return Err(source.error(at, join(path, field), "is only read with `ballot` = \"election\", \"rating\" or \"no_confidence\""));
                }
            }
            return Ok(None);
        };
        let kind = *kind_at.get_ref();
        let ballot_field = join(path, "ballot");
        let Some(vote) = vote else {
            return Err(source.error(
                kind_at.span(),
                ballot_field,
                "the item is not voted on (`vote = false`, or a report or question session)",
            ));
        };
        if vote.rule.base == gavel_protocol::Base::YesNo {
            return Err(source.error(kind_at.span(), join(path, "vote.rule"), "base \"yes_no\" does not apply to a paper on a list: use \"all_seats\", \"present\" or \"cast\""));
        }
        if vote.interim == Interim::Individual {
            return Err(source.error(kind_at.span(), join(path, "vote.interim"), "a paper on a list shows totals per candidate or official, not each seat's paper: use \"totals\" or \"none\""));
        }
        let (wanted, other) = match kind {
            PaperKind::Election => (
                ("candidates", &self.candidates),
                ("officials", &self.officials),
            ),
            PaperKind::Rating | PaperKind::NoConfidence => (
                ("officials", &self.officials),
                ("candidates", &self.candidates),
            ),
        };
        if let Some(at) = other.1 {
            return Err(source.error(
                at.span(),
                join(path, other.0),
                format!("a {} ballot lists `{}`", kind.as_str(), wanted.0),
            ));
        }
        let Some(list) = wanted.1 else {
            return Err(source.error(
                kind_at.span(),
                join(path, wanted.0),
                format!("a {} ballot needs its `{}`", kind.as_str(), wanted.0),
            ));
        };
        let list_field = join(path, wanted.0);
        let entries: Vec<ListEntry> = list
            .get_ref()
            .iter()
            .map(|raw| ListEntry {
                name: raw.name.get_ref().clone(),
                post: raw.post.clone(),
            })
            .collect();
        let posts = check_list(kind, self.posts.as_ref().map(|p| *p.get_ref()), &entries).map_err(
            |fault| {
                let name_at = |e: usize| list.get_ref()[e].name.span();
                let posts_at = || self.posts.as_ref().map_or(kind_at.span(), Spanned::span);
                match &fault {
                    ListFault::Length => {
                        source.error(list.span(), list_field.clone(), fault.to_string())
                    }
                    ListFault::NameMissing { entry } => source.error(
                        name_at(*entry),
                        format!("{list_field}[{entry}].name"),
                        fault.to_string(),
                    ),
                    ListFault::NameTwice { entry, first, name } => source.error(
                        name_at(*entry),
                        format!("{list_field}[{entry}].name"),
                        format!("{name:?} is listed twice (first as {list_field}[{first}])"),
                    ),
                    ListFault::PostsOutOfRange { .. } | ListFault::PostsNotElection => {
                        source.error(posts_at(), join(path, "posts"), fault.to_string())
                    }
                }
            },
        )?;
        Ok(Some(PaperList {
            kind,
            posts,
            entries,
        }))
    }
}

/// What is wrong with a paper's list: its length, an entry's name, or its
/// posts. Told by the meeting file's checks with the field, and by the
/// chair's edit of a list with a reason of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListFault {
    #[error("must list between 1 and {MAX_LIST}")]
    Length,
    #[error("must not be empty")]
    NameMissing { entry: usize },
    #[error("{name:?} is listed twice")]
    NameTwice {
        entry: usize,
        first: usize,
        name: String,
    },
    #[error("must be between 1 and the {entries} candidates")]
    PostsOutOfRange { entries: usize },
    #[error("only an election has posts")]
    PostsNotElection,
}

/// Checks a paper's list of `kind`: between 1 and `MAX_LIST` (200) entries,
/// each named, no name twice; an election's `posts` (1 if not given)
/// between 1 and its candidates, and no posts on another kind. The posts
/// the paper fills (0 for a rating or a no-confidence vote).
pub fn check_list(
    kind: PaperKind,
    posts: Option<u16>,
    entries: &[ListEntry],
) -> Result<u16, ListFault> {
    if entries.is_empty() || entries.len() > MAX_LIST {
        return Err(ListFault::Length);
    }
    for (entry, e) in entries.iter().enumerate() {
        if e.name.trim().is_empty() {
            return Err(ListFault::NameMissing { entry });
        }
        if let Some(first) = entries[..entry].iter().position(|x| x.name == e.name) {
            return Err(ListFault::NameTwice {
                entry,
                first,
                name: e.name.clone(),
            });
        }
    }
    match (posts, kind) {
        (None, PaperKind::Election) => Ok(1),
        (Some(posts), PaperKind::Election) => {
            if posts == 0 || usize::from(posts) > entries.len() {
                Err(ListFault::PostsOutOfRange {
                    entries: entries.len(),
                })
            } else {
                Ok(posts)
            }
        }
        (Some(_), _) => Err(ListFault::PostsNotElection),
        (None, _) => Ok(0),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    title: Spanned<String>,
    kind: DocumentKind,
    file: Spanned<String>,
    #[serde(default)]
    public: bool,
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
pub(super) struct RawRule {
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
    pub(super) fn rule(self) -> Rule {
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
    pub(super) fn check(self, source: &Source) -> Result<MeetingDefinition, DefinitionError> {
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
        let mut respondents = Vec::with_capacity(self.respondents.len());
        for (i, raw) in self.respondents.iter().enumerate() {
            respondents.push(Respondent {
                name: source.nonblank(&raw.name, &format!("respondents[{i}].name"))?,
                post: source.nonblank(&raw.post, &format!("respondents[{i}].post"))?,
            });
        }
        let (agenda, documents) = check_agenda(&self.topics, defaults, source)?;
        let questions = check_questions(&self.topics, total_seats, respondents.len(), source)?;
        let (counting_board, confirmations_required) = match &self.counting_board {
            Some(board) => check_board(board, total_seats, source)?,
            None => (Vec::new(), 0),
        };
        Ok(MeetingDefinition {
            id,
            title,
            body,
            total_seats,
            quorum,
            labels,
            seats,
            agenda,
            documents,
            floor: self.floor.settings(),
            respondents,
            questions,
            counting_board,
            confirmations_required,
        })
    }
}

/// The counting board's seats (at least one, each on the roster, each once)
/// and how many of them must confirm a count (1 to all, all by default).
fn check_board(
    board: &RawBoard,
    total_seats: u32,
    source: &Source,
) -> Result<(Vec<SeatNo>, u32), DefinitionError> {
    let list = board.seats.get_ref();
    if list.is_empty() {
        return Err(source.error(
            board.seats.span(),
            "counting_board.seats",
            "a counting board has at least one member",
        ));
    }
    let mut seats = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let seat = *raw.get_ref();
        let field = format!("counting_board.seats[{i}]");
        if !(1..=total_seats).contains(&seat) {
            return Err(source.error(
                raw.span(),
                field,
                format!("seat {seat} is outside 1..={total_seats} (total_seats)"),
            ));
        }
        if seats.contains(&seat) {
            return Err(source.error(
                raw.span(),
                field,
                format!("seat {seat} is on the board twice"),
            ));
        }
        seats.push(seat);
    }
    let members = seats.len() as u32;
    let required = match &board.confirmations {
        None => members,
        Some(n) if (1..=members).contains(n.get_ref()) => *n.get_ref(),
        Some(n) => {
            return Err(source.error(
                n.span(),
                "counting_board.confirmations",
                format!(
                    "{} confirmations cannot be required of a board of {members}: 1 to {members}",
                    n.get_ref()
                ),
            ));
        }
    };
    Ok((seats, required))
}

/// The questions registered before the session, each on a question
/// session's item, from a seat of the roster, to a listed respondent.
fn check_questions(
    topics: &Spanned<Vec<Spanned<RawTopic>>>,
    total_seats: u32,
    respondents: usize,
    source: &Source,
) -> Result<Vec<RegisteredQuestion>, DefinitionError> {
    let mut questions = Vec::new();
    let items = topics.get_ref().iter().enumerate().flat_map(|(t, topic)| {
        let items = topic.get_ref().items.iter().enumerate();
        items.map(move |(i, item)| (format!("topics[{t}].items[{i}]"), item))
    });
    for (index, (path, item)) in (0u32..).zip(items) {
        for (q, raw) in item.questions.iter().enumerate() {
            let path = format!("{path}.questions[{q}]");
            if item.kind != ItemKind::QuestionSession {
                return Err(source.error(
                    raw.seat.span(),
                    path,
                    "questions are registered on a question_session item only",
                ));
            }
            let seat = *raw.seat.get_ref();
            if !(1..=total_seats).contains(&seat) {
                return Err(source.error(
                    raw.seat.span(),
                    format!("{path}.seat"),
                    format!("seat {seat} is outside 1..={total_seats} (total_seats)"),
                ));
            }
            let respondent = *raw.respondent.get_ref();
            if respondent as usize >= respondents {
                return Err(source.error(
                    raw.respondent.span(),
                    format!("{path}.respondent"),
                    format!(
                        "there is no respondents[{respondent}] ({respondents} are listed, from 0)"
                    ),
                ));
            }
            let topic = match &raw.topic {
                Some(topic) => {
                    check_topic(topic.get_ref()).map_err(|e| {
                        source.error(topic.span(), format!("{path}.topic"), e.to_string())
                    })?;
                    Some(topic.get_ref().clone())
                }
                None => None,
            };
            questions.push(RegisteredQuestion {
                item: index,
                seat,
                respondent,
                topic,
            });
        }
    }
    Ok(questions)
}

impl RawLabels {
    fn check(&self, source: &Source) -> Result<Labels, DefinitionError> {
        let written = [
            ("yes", &self.yes),
            ("no", &self.no),
            ("abstain", &self.abstain),
        ];
        let Labels { yes, no, abstain } = Labels::default();
        let mut labels = [yes, no, abstain];
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
            title: seat.title.clone(),
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
) -> Result<(Vec<ItemView>, Vec<DocumentSource>), DefinitionError> {
    if topics.get_ref().is_empty() {
        return Err(source.error(topics.span(), "topics", "the agenda has no [[topics]]"));
    }
    let mut agenda = Vec::new();
    let mut documents = Vec::new();
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
            let paper = item.paper(vote.as_ref(), &path, source)?;
            let index = u32::try_from(agenda.len()).expect("an agenda of fewer than 2^32 items");
            for (d, document) in item.documents.iter().enumerate() {
                let path = format!("{path}.documents[{d}]");
                documents.push(DocumentSource {
                    item: index,
                    slot: u32::try_from(d).expect("fewer than 2^32 documents"),
                    title: source.nonblank(&document.title, &format!("{path}.title"))?,
                    kind: document.kind,
                    file: source.nonblank(&document.file, &format!("{path}.file"))?,
                    public: document.public,
                });
            }
            agenda.push(ItemView {
                index,
                topic: topic_title.clone(),
                kind: item.kind,
                title,
                vote,
                documents: Vec::new(),
                paper,
            });
        }
    }
    Ok((agenda, documents))
}
