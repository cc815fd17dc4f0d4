//! The decoder under fuzzing, as property tests that run with the suite:
//! arbitrary text, arbitrary JSON values and mutations of the documented
//! frames (`vectors/frames.json`) are fed to `serde_json::from_str::<ClientMsg>`,
//! exactly what the server does with every text frame. None may panic, and
//! every frame that is accepted must re-serialize to a frame that parses to
//! the same message (so that what the server logs or forwards means what
//! the tablet sent).
//!
//! `fuzz/corpus/*.txt` holds frames that once were interesting (one frame
//! per file, exactly as sent); they run here as a regression test, and
//! against a real hub in the end-to-end tests (`tests/tests/fuzz_hub.rs`).

use gavel_protocol::ClientMsg;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// What the decoder must promise for any input.
fn decodes_safely(text: &str) -> Result<(), TestCaseError> {
    if let Ok(msg) = serde_json::from_str::<ClientMsg>(text) {
        let again = serde_json::to_string(&msg).expect("a parsed message serializes");
        let back = serde_json::from_str::<ClientMsg>(&again)
            .map_err(|e| TestCaseError::fail(format!("{again} no longer parses: {e}")))?;
        prop_assert_eq!(back, msg, "re-serialized as {}", again);
    }
    Ok(())
}

/// Names the decoder knows, so that random objects often come close to a
/// real frame instead of failing at the first key.
const FIELDS: &[&str] = &[
    "type",
    "id",
    "v",
    "code",
    "meeting",
    "public_key",
    "signature",
    "round",
    "choice",
    "seq",
    "command",
    "action",
    "item",
    "window_seconds",
    "seconds",
];
const TYPES: &[&str] = &[
    "enroll", "auth", "watch", "check_in", "cast", "chair", "sync", "close", "open", "set_item",
    "extend", "void", "yes", "no", "abstain",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(TYPES).prop_map(Value::from),
        "[0-9a-f]{0,130}".prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..7)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The client frames of `vectors/frames.json`.
fn documented_frames() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/frames.json");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("frames.json is readable"))
            .expect("frames.json is JSON");
    file["client"]
        .as_array()
        .expect("a list of client frames")
        .iter()
        .map(|example| example["frame"].clone())
        .collect()
}

/// One change to a valid frame.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(Index),
    Replace(Index, Value),
    Add(String, Value),
    /// Cuts the frame's text at a byte position.
    Truncate(Index),
    /// Replaces one character of the frame's text.
    Splice(Index, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Remove),
        (any::<Index>(), json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (key(), json()).prop_map(|(k, v)| Mutation::Add(k, v)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| Mutation::Splice(i, c)),
    ]
}

fn mutate(frame: &Value, mutations: &[Mutation]) -> String {
    let mut value = frame.clone();
    let mut text = None;
    for m in mutations {
        let object = value.as_object_mut().expect("frames are objects");
        let keys: Vec<String> = object.keys().cloned().collect();
        match m {
            Mutation::Remove(i) if !keys.is_empty() => {
                object.remove(i.get(&keys));
            }
            Mutation::Replace(i, v) if !keys.is_empty() => {
                object.insert(i.get(&keys).clone(), v.clone());
            }
            Mutation::Add(k, v) => {
                object.insert(k.clone(), v.clone());
            }
            Mutation::Truncate(i) => {
                let s = text.get_or_insert_with(|| value.to_string());
                let cut = i.index(s.len() + 1);
                let cut = (0..=cut)
                    .rev()
                    .find(|&c| s.is_char_boundary(c))
                    .unwrap_or(0);
                s.truncate(cut);
            }
            Mutation::Splice(i, c) => {
                let s = text.get_or_insert_with(|| value.to_string());
                if let Some((at, old)) = s.char_indices().nth(i.index(s.chars().count().max(1))) {
                    s.replace_range(at..at + old.len_utf8(), &c.to_string());
                }
            }
            Mutation::Remove(_) | Mutation::Replace(..) => {}
        }
    }
    text.unwrap_or_else(|| value.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics_the_decoder(text in any::<String>()) {
        decodes_safely(&text)?;
    }

    #[test]
    fn arbitrary_json_never_panics_the_decoder(value in json()) {
        decodes_safely(&value.to_string())?;
    }

    #[test]
    fn mutated_documented_frames_never_panic_the_decoder(
        frame in prop::sample::select(documented_frames()),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        decodes_safely(&mutate(&frame, &mutations))?;
    }
}

#[test]
fn the_documented_frames_are_accepted_as_they_are() {
    for frame in documented_frames() {
        let text = frame.to_string();
        assert!(
            serde_json::from_str::<ClientMsg>(&text).is_ok(),
            "{text} is refused"
        );
        decodes_safely(&text).expect("round trip");
    }
}

#[test]
fn the_corpus_never_panics_the_decoder() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus directory") {
        let path = entry.expect("a corpus entry").path();
        let text = std::fs::read_to_string(&path).expect("corpus frames are UTF-8");
        decodes_safely(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    assert!(seen >= 20, "the corpus has {seen} frames");
}
