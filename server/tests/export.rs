//! `gavel export` and `gavel verify` as a secretary runs them, on the
//! meeting `gavel demo` ran: the real binaries, the demo's simulated tablets
//! and chair, and the exit codes a script relies on (0 verified, 1 mismatch,
//! 2 not a record).

use gavel_client::Client;
use gavel_protocol::MeetingId;
use gavel_protocol::messages::RoundStatus;
use gavel_tests::process::{self, Gavel};
use std::path::Path;
use std::process::{Command, Output};

const MEETING: &str = "phuc-loi-2026-ky-12";

fn gavel(data_dir: &Path) -> Command {
    process::command(env!("CARGO_BIN_EXE_gavel"), data_dir, None)
}

fn verify(data_dir: &Path, bundle: &Path) -> anyhow::Result<Output> {
    Ok(gavel(data_dir).arg("verify").arg(bundle).output()?)
}

/// `gavel verify` on a copy of `bundle` with `change` made to its JSON.
fn verify_changed(
    data_dir: &Path,
    bundle: &Path,
    change: impl FnOnce(&mut serde_json::Value),
) -> anyhow::Result<Output> {
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(bundle)?)?;
    change(&mut json);
    let changed = data_dir.join("changed.record.json");
    std::fs::write(&changed, serde_json::to_string(&json)?)?;
    verify(data_dir, &changed)
}

/// Runs the demo until its first round has closed, then stops it.
async fn run_demo_until_a_round_closes(data_dir: &Path) -> anyhow::Result<()> {
    let mut demo = Gavel::start(process::demo(env!("CARGO_BIN_EXE_gavel"), data_dir, 12, 5))?;
    let meeting = MeetingId::parse(MEETING).unwrap();
    let mut watcher = Client::connect(&demo.url()).await?.watch(&meeting).await?;
    watcher
        .wait_until(|s| s.round().is_some_and(|r| r.status == RoundStatus::Closed))
        .await?;
    assert!(
        demo.terminate()?.success(),
        "the demo stops cleanly on SIGTERM"
    );
    Ok(())
}

#[tokio::test]
async fn the_demo_meeting_exports_a_record_that_verifies_and_a_changed_one_does_not()
-> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    run_demo_until_a_round_closes(data.path()).await?;

    let out = data.path().join("records");
    let export = gavel(data.path())
        .args(["export", "--meeting", MEETING, "--out"])
        .arg(&out)
        .output()?;
    assert!(
        export.status.success(),
        "gavel export: {}",
        String::from_utf8_lossy(&export.stderr)
    );
    let bundle = out.join(format!("{MEETING}.record.json"));
    for name in [
        "record.json",
        "results.csv",
        "minutes.vi.html",
        "minutes.en.html",
    ] {
        let path = out.join(format!("{MEETING}.{name}"));
        assert!(
            std::fs::metadata(&path)?.len() > 0,
            "{} is written",
            path.display()
        );
    }
    let minutes = std::fs::read_to_string(out.join(format!("{MEETING}.minutes.vi.html")))?;
    assert!(minutes.contains("đại biểu tham gia biểu quyết"));
    // Both minutes name the record they were made from: its chain's final
    // hash and the server's key, as the bundle holds them.
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle)?)?;
    let head = record["head"]["hash"].as_str().expect("the head's hash");
    let server_key = record["server_key"].as_str().expect("the server key");
    for lang in ["vi", "en"] {
        let minutes = std::fs::read_to_string(out.join(format!("{MEETING}.minutes.{lang}.html")))?;
        assert!(
            minutes.contains(head) && minutes.contains(server_key),
            "the {lang} minutes name the record's head {head} and key {server_key}"
        );
    }

    let ok = verify(data.path(), &bundle)?;
    let said = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{said}");
    assert!(
        said.starts_with(&format!("ok: {MEETING} verifies")),
        "{said}"
    );

    // One changed time in the chain: exit 1, and the entry is named.
    let bad = verify_changed(data.path(), &bundle, |json| {
        let at = json["chain"][0]["at"].as_u64().expect("an entry's time");
        json["chain"][0]["at"] = (at + 1).into();
    })?;
    let said = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{said}");
    assert!(
        said.contains("mismatch: audit entry 0 (meeting_defined) has been altered"),
        "{said}"
    );

    // A format this gavel does not know: exit 2, refused by its name.
    let refused = verify_changed(data.path(), &bundle, |json| {
        json["format"] = "gavel-record/3".into();
        json["ballot_boxes"] = serde_json::json!([]);
    })?;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(
        said.contains("the record's format is \"gavel-record/3\""),
        "{said}"
    );

    // Not a record at all: exit 2.
    let garbage = data.path().join("garbage.json");
    std::fs::write(&garbage, "{\"format\": \"something else\"}")?;
    assert_eq!(verify(data.path(), &garbage)?.status.code(), Some(2));
    let missing = data.path().join("missing.json");
    assert_eq!(verify(data.path(), &missing)?.status.code(), Some(2));
    Ok(())
}

#[test]
fn export_refuses_without_the_servers_key() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let export = gavel(data.path())
        .args(["export", "--meeting", MEETING])
        .output()?;
    assert!(!export.status.success());
    let said = String::from_utf8_lossy(&export.stderr);
    assert!(said.contains("no server key"), "{said}");
    assert!(
        !data.path().join("server.key").exists(),
        "export never makes a key of its own"
    );
    Ok(())
}
