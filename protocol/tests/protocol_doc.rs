//! PROTOCOL.md against the code: every message type, field, chair command,
//! object, enum value and refusal reason the document lists is one the crate
//! reads and writes, and the crate has none the document leaves out.
//!
//! Outside implementers write clients from PROTOCOL.md alone, so a variant or
//! field added without a line in the document is a bug in the protocol. The
//! document keeps its lists in tables of one convention (PROTOCOL.md §14):
//! the first column names a message, command, object or value kind, and in
//! the second the names in backticks outside parentheses are exactly its
//! fields. The code's side is taken from serde itself: the variants from the
//! error serde gives for an unknown one, the fields from the examples in
//! `vectors/frames.json` parsed into the crate's types and written back
//! (every field is always written, so a new field shows up there even
//! before the examples are regenerated).

use std::collections::{BTreeMap, BTreeSet};

use gavel_protocol::floor::{FloorKind, Speaker};
use gavel_protocol::messages::{
    Ballots, ByHand, ChairCommand, DocumentKind, ItemKind, ItemStatus, RoundStatus, StoreHealth,
};
use gavel_protocol::paper::{Mark, PaperKind};
use gavel_protocol::results::{ElectionResult, PaperResult, Turnout};
use gavel_protocol::rules::{Interim, Secrecy};
use gavel_protocol::{
    Base, Choice, ClientMsg, Principal, RefusalReason, Rule, ServerMsg, Threshold,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const DOC: &str = include_str!("../PROTOCOL.md");
const FRAMES: &str = include_str!("../vectors/frames.json");

type Names = BTreeSet<String>;

// ---------------------------------------------------------------------------
// Reading the document

/// The text under the heading that starts with `heading` (e.g. `"## 10."`),
/// up to the next heading of the same or a higher level.
fn section(heading: &str) -> &'static str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let is_end = |line: &str| {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        (1..=level).contains(&hashes) && line[hashes..].starts_with(' ')
    };
    let start = DOC
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| DOC[i..].starts_with(heading))
        .unwrap_or_else(|| panic!("PROTOCOL.md has no heading {heading:?}"));
    let body = &DOC[start..];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| is_end(&body[i..]))
        .unwrap_or(body.len());
    &body[..end]
}

/// A Markdown table: its header cells and rows of cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

fn tables(text: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') {
            continue;
        }
        let header = cells(line);
        lines.next(); // the |---| line
        let mut rows = Vec::new();
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            rows.push(cells(row));
        }
        tables.push(Table { header, rows });
    }
    tables
}

/// The one table in `text` whose first header cell is `first`.
fn table(text: &str, first: &str) -> Table {
    let mut found: Vec<Table> = tables(text)
        .into_iter()
        .filter(|t| t.header[0] == first)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one table headed {first:?} in:\n{text}"
    );
    found.remove(0)
}

/// `text` without what is in parentheses (parentheses in backticks do not count).
fn outside_parentheses(text: &str) -> String {
    let (mut depth, mut code, mut outside) = (0usize, false, String::new());
    for c in text.chars() {
        match c {
            '(' if !code => depth += 1,
            ')' if !code => depth = depth.checked_sub(1).expect("balanced parentheses"),
            _ => {
                if c == '`' {
                    code = !code;
                }
                if depth == 0 {
                    outside.push(c);
                }
            }
        }
    }
    assert!(
        !code && depth == 0,
        "unbalanced backticks or parentheses in {text:?}"
    );
    outside
}

/// The names in backticks in `text` that are outside parentheses.
fn names(text: &str) -> Names {
    outside_parentheses(text)
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The one name in backticks a first-column cell holds.
fn name(cell: &str) -> String {
    let found = names(cell);
    assert_eq!(found.len(), 1, "one name in backticks expected in {cell:?}");
    found.into_iter().next().unwrap()
}

/// Rows keyed by their first cell (one backticked name, or plain text when
/// `plain`), with the names of their second cell.
fn rows(table: &Table, plain: bool) -> BTreeMap<String, Names> {
    let mut rows = BTreeMap::new();
    for row in &table.rows {
        let key = if plain { row[0].clone() } else { name(&row[0]) };
        let previous = rows.insert(key.clone(), names(&row[1]));
        assert!(previous.is_none(), "{key} is listed twice");
    }
    rows
}

// ---------------------------------------------------------------------------
// Reading the code

/// The wire names of `T`'s variants, as serde lists them when it is given
/// one it does not know (`probe`).
fn variants<T: DeserializeOwned + std::fmt::Debug>(probe: Value) -> Names {
    let error = serde_json::from_value::<T>(probe)
        .expect_err("the probe names no variant")
        .to_string();
    let (_, expected) = error
        .split_once("expected")
        .unwrap_or_else(|| panic!("serde's error lists no variants: {error}"));
    let found = names(expected);
    assert!(
        !found.is_empty(),
        "serde's error lists no variants: {error}"
    );
    found
}

fn unit_variants<T: DeserializeOwned + std::fmt::Debug>() -> Names {
    variants::<T>(json!("~"))
}

fn frames(side: &str) -> Vec<Value> {
    let file: Value = serde_json::from_str(FRAMES).expect("frames.json parses");
    file[side]
        .as_array()
        .unwrap_or_else(|| panic!("frames.json has no {side} list"))
        .iter()
        .map(|e| e["frame"].clone())
        .collect()
}

/// The example frames of one side, parsed into the crate's type and written
/// back, so that they hold every field the code has now.
fn written<T: DeserializeOwned + serde::Serialize>(side: &str) -> Vec<Value> {
    frames(side)
        .into_iter()
        .map(|frame| {
            let msg: T = serde_json::from_value(frame.clone()).unwrap_or_else(|e| {
                panic!("{frame} no longer parses ({e}); regenerate vectors/frames.json")
            });
            serde_json::to_value(msg).unwrap()
        })
        .collect()
}

fn keys(object: &Value) -> Names {
    object
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// The fields of each kind of object in `values`, keyed by its `tag` field,
/// which is not counted. Every example of a kind has the same fields.
fn fields_by_tag(values: &[Value], tag: &str) -> BTreeMap<String, Names> {
    let mut by_tag: BTreeMap<String, Names> = BTreeMap::new();
    for value in values {
        let kind = value[tag].as_str().expect("a tag").to_owned();
        let mut fields = keys(value);
        fields.remove(tag);
        if let Some(seen) = by_tag.insert(kind.clone(), fields.clone()) {
            assert_eq!(seen, fields, "two {kind} examples have different fields");
        }
    }
    by_tag
}

fn client_frames() -> Vec<Value> {
    written::<ClientMsg>("client")
}

fn server_frames() -> Vec<Value> {
    written::<ServerMsg>("server")
}

// ---------------------------------------------------------------------------
// Messages and chair commands

/// The table headed `first` under `heading` lists exactly `variants`, each
/// with the fields its examples (told apart by their `tag` field) have.
fn assert_documented(heading: &str, first: &str, variants: Names, examples: &[Value], tag: &str) {
    let documented = rows(&table(section(heading), first), false);
    assert_eq!(
        documented.keys().cloned().collect::<Names>(),
        variants,
        "the {first} column of PROTOCOL.md's table under {heading:?} vs the code"
    );
    let examples = fields_by_tag(examples, tag);
    for (kind, fields) in &documented {
        let example = examples
            .get(kind)
            .unwrap_or_else(|| panic!("vectors/frames.json has no {kind} example"));
        assert_eq!(fields, example, "fields of {kind} under {heading:?}");
    }
}

#[test]
fn every_client_message_and_its_fields_are_documented() {
    assert_documented(
        "### Client → server",
        "`type`",
        variants::<ClientMsg>(json!({"type": "~"})),
        &client_frames(),
        "type",
    );
}

#[test]
fn every_server_message_and_its_fields_are_documented() {
    assert_documented(
        "### Server → client",
        "`type`",
        variants::<ServerMsg>(json!({"type": "~"})),
        &server_frames(),
        "type",
    );
}

#[test]
fn every_chair_command_and_its_fields_are_documented() {
    let commands: Vec<Value> = client_frames()
        .into_iter()
        .filter(|f| f["type"] == "chair")
        .map(|f| f["command"].clone())
        .collect();
    assert_documented(
        "### Chair commands",
        "`action`",
        variants::<ChairCommand>(json!({"action": "~"})),
        &commands,
        "action",
    );
}

// ---------------------------------------------------------------------------
// Objects and values

/// What the value of a field with this name is, where it is an object: a
/// row of the Objects table, or a Values row whose variants carry data and
/// are written as `{"variant": …}`.
enum Holds {
    Object(&'static str),
    Tagged(&'static str),
}

const OBJECT_FIELDS: [(&str, Holds); 41] = [
    ("labels", Holds::Object("Labels")),
    ("seats", Holds::Object("SeatView")),
    ("agenda", Holds::Object("ItemView")),
    ("documents", Holds::Object("DocumentView")),
    ("versions", Holds::Object("RoundDocuments")),
    ("vote", Holds::Object("VoteSettings")),
    ("settings", Holds::Object("VoteSettings")),
    ("rule", Holds::Object("Rule")),
    ("fraction", Holds::Object("Fraction")),
    ("items", Holds::Object("ItemState")),
    ("round", Holds::Object("RoundView")),
    ("live", Holds::Object("LiveTally")),
    ("choices", Holds::Object("SeatChoice")),
    ("counts", Holds::Object("Counts")),
    ("result", Holds::Object("TallyResult")),
    ("receipt", Holds::Object("Receipt")),
    ("ballot", Holds::Object("Receipt")),
    ("paper", Holds::Object("PaperList")),
    ("entries", Holds::Object("ListEntry")),
    ("paper_receipt", Holds::Object("PaperReceipt")),
    ("turnout", Holds::Object("Turnout")),
    ("tie", Holds::Object("Tie")),
    ("ratings", Holds::Object("RatingRow")),
    ("votes", Holds::Object("NoConfidenceRow")),
    ("principal", Holds::Tagged("Principal")),
    ("threshold", Holds::Tagged("Threshold")),
    ("respondents", Holds::Object("Respondent")),
    ("floor", Holds::Object("FloorSettings")),
    ("turn", Holds::Object("TurnView")),
    ("request", Holds::Object("FloorRequest")),
    ("queue", Holds::Object("FloorRequest")),
    ("places", Holds::Object("SeatPlace")),
    ("speaker", Holds::Tagged("Speaker")),
    ("guest", Holds::Object("Guest")),
    ("presentation", Holds::Object("Presentation")),
    ("to_confirm", Holds::Object("ToConfirm")),
    ("count", Holds::Object("Count")),
    ("board", Holds::Object("BoardView")),
    ("by_hand", Holds::Object("ByHand")),
    ("ballots", Holds::Object("Ballots")),
    ("confirmed", Holds::Object("Confirmed")),
];

/// Every object inside `value` (and, through arrays, every object in a
/// list), by the name the document gives it: its fields, in each example.
fn collect_objects(value: &Value, found: &mut BTreeMap<&'static str, Vec<Names>>) {
    let Some(object) = value.as_object() else {
        return;
    };
    for (field, inner) in object {
        // The chair's command is checked against its own table.
        if field == "command" {
            continue;
        }
        let elements: Vec<&Value> = match inner {
            Value::Array(list) => list.iter().collect(),
            other => vec![other],
        };
        for element in elements.into_iter().filter(|e| e.is_object()) {
            let (_, holds) = OBJECT_FIELDS
                .iter()
                .find(|(name, _)| name == field)
                .unwrap_or_else(|| {
                    panic!(
                        "the field `{field}` holds an object ({element}) that PROTOCOL.md §14 \
                         does not describe: add a row to its Objects table (and to OBJECT_FIELDS)"
                    )
                });
            let name = match holds {
                // A result on a list is named by its kind (a tally has none).
                Holds::Object("TallyResult") => match element.get("kind").and_then(Value::as_str) {
                    Some("election") => "ElectionResult",
                    Some("rating") => "RatingResult",
                    Some("no_confidence") => "NoConfidenceResult",
                    _ => "TallyResult",
                },
                Holds::Object(name) | Holds::Tagged(name) => *name,
            };
            found.entry(name).or_default().push(keys(element));
            collect_objects(element, found);
        }
    }
}

/// The served meeting view, every server and client frame, a rule with a
/// fraction threshold and a result of each kind of list (which no example
/// frame has).
fn every_object() -> BTreeMap<&'static str, Vec<Names>> {
    let file: Value = serde_json::from_str(FRAMES).unwrap();
    let view: Value = serde_json::from_str(file["view"]["bytes"].as_str().unwrap()).unwrap();
    let fraction = Rule {
        base: Base::AllSeats,
        threshold: Threshold::Fraction {
            num: 3,
            den: 5,
            strict: false,
        },
    };
    let mut found = BTreeMap::new();
    found.insert("MeetingView", vec![keys(&view)]);
    collect_objects(&view, &mut found);
    for frame in server_frames().iter().chain(&client_frames()) {
        collect_objects(frame, &mut found);
    }
    collect_objects(&json!({ "rule": fraction }), &mut found);
    let turnout = Turnout {
        total_seats: 5,
        present: 5,
        papers: 5,
    };
    let papers: [&[Mark]; 1] = [&[Mark { entry: 0, mark: 1 }]];
    for kind in PaperKind::ALL {
        let result = PaperResult::decide(kind, Rule::MAJORITY_OF_ALL_SEATS, 2, 1, turnout, papers);
        collect_objects(&json!({ "result": result }), &mut found);
    }
    let tie = ElectionResult::decide(Rule::MAJORITY_OF_ALL_SEATS, 1, turnout, vec![3, 3]);
    collect_objects(&json!({ "result": PaperResult::Election(tie) }), &mut found);
    // A count by hand of paper ballots, with the counting board's figures.
    let on_paper = ByHand {
        by: "Lê Thị Thu".to_owned(),
        device: gavel_protocol::PublicKey::from_hex(
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        )
        .unwrap(),
        at: 1,
        ballots: Some(Ballots {
            issued: 5,
            returned: 5,
            invalid: 0,
        }),
    };
    collect_objects(&json!({ "by_hand": on_paper }), &mut found);
    found
}

/// Fields an object leaves out when they do not apply, rather than writing
/// `null`, because records written before them are hashed without them.
const OMITTED_WHEN_ABSENT: [(&str, &str); 1] = [("ByHand", "ballots")];

/// The enums written as strings (or, for data-carrying variants, as a
/// one-field object), by the name PROTOCOL.md's Values table gives them.
fn value_kinds() -> BTreeMap<&'static str, Names> {
    BTreeMap::from([
        ("Choice", unit_variants::<Choice>()),
        ("PaperKind", unit_variants::<PaperKind>()),
        ("ItemKind", unit_variants::<ItemKind>()),
        ("DocumentKind", unit_variants::<DocumentKind>()),
        ("ItemStatus", unit_variants::<ItemStatus>()),
        ("RoundStatus", unit_variants::<RoundStatus>()),
        ("StoreHealth", unit_variants::<StoreHealth>()),
        ("Secrecy", unit_variants::<Secrecy>()),
        ("Interim", unit_variants::<Interim>()),
        ("Base", unit_variants::<Base>()),
        ("Threshold", unit_variants::<Threshold>()),
        ("Principal", unit_variants::<Principal>()),
        ("FloorKind", unit_variants::<FloorKind>()),
        ("Speaker", unit_variants::<Speaker>()),
    ])
}

#[test]
fn every_object_in_the_frames_has_its_documented_fields() {
    let documented = rows(&table(section("### Objects"), "object"), true);
    let values = rows(&table(section("### Values"), "value"), true);
    let found = every_object();
    for (name, examples) in &found {
        let allowed = match (documented.get(*name), values.get(*name)) {
            (Some(fields), _) => fields,
            (None, Some(variants)) => variants,
            (None, None) => panic!("PROTOCOL.md §14 does not describe {name}"),
        };
        for fields in examples {
            if documented.contains_key(*name) {
                let mut with_omitted = fields.clone();
                with_omitted.extend(
                    OMITTED_WHEN_ABSENT
                        .iter()
                        .filter(|(object, _)| object == name)
                        .map(|(_, field)| (*field).to_owned()),
                );
                assert_eq!(&with_omitted, allowed, "fields of {name}");
            } else {
                // A data-carrying variant: one field, named after the variant.
                assert!(
                    fields.len() == 1 && fields.is_subset(allowed),
                    "{name} written as {fields:?}, not one of its variants {allowed:?}"
                );
            }
        }
    }
    for name in documented.keys() {
        assert!(
            found.contains_key(name.as_str()),
            "PROTOCOL.md §14 describes the object {name}, which no frame holds"
        );
    }
}

#[test]
fn every_enum_value_is_documented() {
    let documented = rows(&table(section("### Values"), "value"), true);
    let code = value_kinds();
    assert_eq!(
        documented
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        code.keys().copied().collect::<BTreeSet<_>>(),
        "the kinds of value in PROTOCOL.md §14"
    );
    for (kind, variants) in &code {
        assert_eq!(&documented[*kind], variants, "the values of {kind}");
    }
}

// ---------------------------------------------------------------------------
// Refusals and who may send what

fn reasons() -> Names {
    unit_variants::<RefusalReason>()
}

#[test]
fn every_refusal_reason_is_in_the_reasons_table() {
    let refusals = table(section("## 10."), "`reason`");
    let documented: Names = refusals.rows.iter().map(|r| name(&r[0])).collect();
    assert_eq!(
        documented,
        reasons(),
        "reasons in PROTOCOL.md §10 vs RefusalReason"
    );
    // The requests column names real requests.
    let requests = variants::<ClientMsg>(json!({"type": "~"}));
    for row in &refusals.rows {
        let outside = outside_parentheses(&row[1]);
        for request in outside.split(',').map(str::trim) {
            assert!(
                requests.contains(request) || request == "any" || request == "any request",
                "§10 lists {request:?} for {}, which is no request",
                row[0]
            );
        }
    }
}

#[test]
fn every_refusal_named_in_a_table_exists() {
    let reasons = reasons();
    for table in tables(DOC).iter().filter(|t| t.header[0] == "refusal") {
        for row in &table.rows {
            for reason in names(&row[0]) {
                assert!(
                    reasons.contains(&reason),
                    "PROTOCOL.md lists the refusal {reason}, which RefusalReason does not have"
                );
            }
        }
    }
}

/// §4's table lists every request (every client message with an `id`), who
/// may send it, and its answer, in names the code has.
#[test]
fn the_request_table_lists_every_request() {
    let roles = table(section("## 4."), "request");
    let documented: Names = roles.rows.iter().map(|r| name(&r[0])).collect();
    let requests: Names = fields_by_tag(&client_frames(), "type")
        .into_iter()
        .filter(|(_, fields)| fields.contains("id"))
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        documented, requests,
        "requests in PROTOCOL.md §4 vs client messages with an id"
    );
    let reasons = reasons();
    let answers = variants::<ServerMsg>(json!({"type": "~"}));
    for row in &roles.rows {
        for cell in &row[1..4] {
            assert!(
                cell == "yes" || (!names(cell).is_empty() && names(cell).is_subset(&reasons)),
                "§4: {cell:?} for {} is neither yes nor a refusal reason",
                row[0]
            );
        }
        let answer = names(&row[4]);
        assert!(
            !answer.is_empty() && answer.is_subset(&answers),
            "§4: the answer to {} names a message that does not exist: {answer:?}",
            row[0]
        );
    }
}

/// The convention the tables above are read by.
#[test]
fn names_are_the_backticked_words_outside_parentheses() {
    let cell = "`a`, `b` (`not`, [§1](#1-x)), `c` (`x (y)` z), `d`";
    assert_eq!(
        names(cell),
        Names::from(["a", "b", "c", "d"].map(String::from))
    );
}
