//! `gavel meeting import` of a meeting file that names documents, as a
//! secretary runs it, on each store: the documents are stored with the
//! meeting and in its audit chain; a missing file, a file that is not a PDF
//! or one over the size limit refuses the whole import with the file's name,
//! and nothing is stored; a changed file is the document's next version,
//! until its item has been voted on; a round records the versions it is
//! about; the record with its document entries still verifies, and a
//! changed byte in a copied document is named by `gavel verify`.

use ed25519_dalek::SigningKey;
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{DocumentKind, RoundStatus};
use gavel_protocol::rules::VoteSettings;
use gavel_protocol::{MeetingId, RoundId};
use gavel_records::bundle::document_file_name;
use gavel_records::chain::{Event, Sha};
use gavel_records::verify::{Mismatch, verify};
use gavel_server::documents::MAX_DOCUMENT_BYTES;
use gavel_server::store::{RoundRecord, Store};
use gavel_tests::databases;
use gavel_tests::documents::{DRAFT, SUBMISSION, example_with_documents, pdf, write};
use gavel_tests::process;
use std::path::Path;
use std::process::Output;

const MEETING: &str = "phuc-loi-2026-ky-12";

/// `gavel verify` of a record, run as the secretary runs it.
fn verify_file(data_dir: &Path, record: &Path) -> anyhow::Result<Output> {
    Ok(
        process::command(env!("CARGO_BIN_EXE_gavel"), data_dir, None)
            .arg("verify")
            .arg(record)
            .output()?,
    )
}

fn import(data_dir: &Path, database_url: &str, file: &Path) -> anyhow::Result<Output> {
    Ok(
        process::command(env!("CARGO_BIN_EXE_gavel"), data_dir, Some(database_url))
            .args(["meeting", "import"])
            .arg(file)
            .output()?,
    )
}

/// The stored versions as (item, slot, version, kind, public).
async fn versions(store: &Store) -> anyhow::Result<Vec<(u32, u32, u32, DocumentKind, bool)>> {
    let meeting = MeetingId::parse(MEETING).expect("a valid id");
    Ok(store
        .documents(&meeting)
        .await?
        .into_iter()
        .map(|d| (d.item, d.slot, d.view.version, d.view.kind, d.view.public))
        .collect())
}

/// How the draft's file is wrong.
enum Broken {
    Missing,
    Content(Vec<u8>),
    Oversized,
}

#[tokio::test]
async fn a_refused_document_refuses_the_whole_import_and_names_its_file() -> anyhow::Result<()> {
    for db in databases().await {
        let data = tempfile::tempdir()?;
        let dir = tempfile::tempdir()?;
        let meeting = example_with_documents(dir.path(), &[SUBMISSION, DRAFT])?;
        write(dir.path(), SUBMISSION.file, &pdf("To trinh"))?;
        let draft = dir.path().join(DRAFT.file);

        let mut truncated = pdf("Du thao");
        truncated.truncate(truncated.len() / 2);
        let cases = [
            ("missing", Broken::Missing, "cannot be read"),
            (
                "not a PDF",
                Broken::Content(b"%PDF-1.5 not really".to_vec()),
                "is not a PDF",
            ),
            ("truncated", Broken::Content(truncated), "is not a PDF"),
            ("oversized", Broken::Oversized, "more than the 67108864"),
        ];
        for (case, broken, reason) in cases {
            let _ = std::fs::remove_file(&draft);
            match broken {
                Broken::Missing => {}
                Broken::Content(bytes) => std::fs::write(&draft, bytes)?,
                // Sparse: the size is refused before anything is read.
                Broken::Oversized => {
                    std::fs::File::create(&draft)?.set_len(MAX_DOCUMENT_BYTES + 1)?
                }
            }
            let out = import(data.path(), &db.url, &meeting)?;
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{}: {case} was imported", db.name);
            assert!(
                said.contains(&draft.display().to_string()) && said.contains(reason),
                "{}: {case}: {said}",
                db.name
            );
            let store = Store::connect(&db.url).await?;
            assert_eq!(store.meetings().await?, vec![], "{}: {case}", db.name);
            assert_eq!(versions(&store).await?, vec![], "{}: {case}", db.name);
            store.close().await;
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_changed_document_is_a_new_version_until_its_item_is_voted_on() -> anyhow::Result<()> {
    for db in databases().await {
        let data = tempfile::tempdir()?;
        let dir = tempfile::tempdir()?;
        let meeting = example_with_documents(dir.path(), &[SUBMISSION, DRAFT])?;
        write(dir.path(), SUBMISSION.file, &pdf("To trinh"))?;
        write(dir.path(), DRAFT.file, &pdf("Du thao, ban 1"))?;

        let out = import(data.path(), &db.url, &meeting)?;
        assert!(
            out.status.success(),
            "{}: {}",
            db.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("2 documents"));
        let store = Store::connect(&db.url).await?;
        let id = MeetingId::parse(MEETING).expect("a valid id");
        let item = store.documents(&id).await?[0].item;
        let submission = (item, 0, 1, DocumentKind::Submission, true);
        let first = (item, 1, 1, DocumentKind::DraftResolution, false);
        assert_eq!(versions(&store).await?, [submission, first], "{}", db.name);

        // The same files again store nothing new; a changed draft is version 2.
        assert!(import(data.path(), &db.url, &meeting)?.status.success());
        assert_eq!(versions(&store).await?.len(), 2);
        write(dir.path(), DRAFT.file, &pdf("Du thao, ban 2"))?;
        assert!(import(data.path(), &db.url, &meeting)?.status.success());
        let second = (item, 1, 2, DocumentKind::DraftResolution, false);
        assert_eq!(
            versions(&store).await?,
            [submission, first, second],
            "{}",
            db.name
        );
        let stored: Vec<(u32, u32)> = store
            .audit_log(&id)
            .await?
            .into_iter()
            .filter_map(|e| match e.event {
                Event::DocumentStored { slot, version, .. } => Some((slot, version)),
                _ => None,
            })
            .collect();
        assert_eq!(stored, [(0, 1), (1, 1), (1, 2)], "{}", db.name);

        // A round opened on the item records its documents' latest versions,
        // in the item's order, with their digest; the chain and the stored
        // round say the same.
        let settings = VoteSettings::default();
        let round = RoundId([7; 16]);
        let recorded = store
            .open_round(&RoundRecord {
                id: round,
                meeting: id.clone(),
                item,
                settings,
                opened_at: 1,
                deadline: 2,
                paused_at: None,
                status: RoundStatus::Open,
                closed_at: None,
                announced_at: None,
                result: None,
                documents: None,
                by_hand: None,
            })
            .await?;
        let expected = RoundDocuments::of(vec![
            Sha::of(&pdf("To trinh")),
            Sha::of(&pdf("Du thao, ban 2")),
        ]);
        assert_eq!(recorded, expected, "{}", db.name);
        assert_eq!(
            recorded.digest,
            gavel_protocol::documents::digest(&expected.sha256)
        );
        let stored = store.rounds(&id).await?;
        assert_eq!(stored[0].documents.as_ref(), Some(&expected), "{}", db.name);
        let chained = store
            .audit_log(&id)
            .await?
            .into_iter()
            .find_map(|e| match e.event {
                Event::RoundOpened { documents, .. } => documents,
                _ => None,
            });
        assert_eq!(chained, Some(expected.clone()), "{}", db.name);

        // Once a round was opened on the item, its documents stay as voted.
        write(dir.path(), DRAFT.file, &pdf("Du thao, ban 3"))?;
        let out = import(data.path(), &db.url, &meeting)?;
        assert!(!out.status.success(), "{}: replaced after a vote", db.name);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("has been voted on"), "{}: {said}", db.name);
        assert_eq!(versions(&store).await?.len(), 3, "{}", db.name);

        // The record, document entries included, verifies; it lists every
        // version, and the round the versions it was about.
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let bundle = gavel_server::export::bundle(&store, &key, &id).await?;
        assert_eq!(verify(&bundle), vec![], "{}", db.name);
        assert_eq!(bundle.documents.len(), 3, "{}", db.name);
        assert_eq!(bundle.rounds[0].documents.as_ref(), Some(&expected));
        // A record that says the round was about the draft's first version,
        // digest and all, is caught: it was not the latest when it opened.
        let mut stale = bundle.clone();
        stale.rounds[0].documents = Some(RoundDocuments::of(vec![
            Sha::of(&pdf("To trinh")),
            Sha::of(&pdf("Du thao, ban 1")),
        ]));
        assert!(
            verify(&stale)
                .iter()
                .any(|m| matches!(m, Mismatch::RoundDocumentsNotLatest { .. })),
            "{}",
            db.name
        );
        store.close().await;

        // `gavel export --documents` copies the files beside the bundle;
        // `gavel verify` checks them, and names a changed byte's block.
        let key_file = data.path().join("server.key");
        std::fs::write(&key_file, hex::encode(key.to_bytes()))?;
        let out_dir = tempfile::tempdir()?;
        let exported = process::command(env!("CARGO_BIN_EXE_gavel"), data.path(), Some(&db.url))
            .args(["export", "--meeting", MEETING, "--documents", "--out"])
            .arg(out_dir.path())
            .output()?;
        assert!(
            exported.status.success(),
            "{}: {}",
            db.name,
            String::from_utf8_lossy(&exported.stderr)
        );
        let record = out_dir.path().join(format!("{MEETING}.record.json"));
        let verified = verify_file(data.path(), &record)?;
        assert!(verified.status.success(), "{}: {verified:?}", db.name);
        assert!(
            String::from_utf8_lossy(&verified.stdout).contains("(3 copies checked)"),
            "{}: {verified:?}",
            db.name
        );
        let copy = out_dir
            .path()
            .join("documents")
            .join(document_file_name(&expected.sha256[1]));
        let mut bytes = std::fs::read(&copy)?;
        bytes[20] ^= 0x01;
        std::fs::write(&copy, &bytes)?;
        let verified = verify_file(data.path(), &record)?;
        assert_eq!(verified.status.code(), Some(1), "{}: {verified:?}", db.name);
        let said = String::from_utf8_lossy(&verified.stdout);
        let size = bytes.len() - 1;
        assert!(
            said.contains(&format!(
                "document file {}: its SHA-256 is {}, the record says {}",
                copy.display(),
                Sha::of(&bytes),
                expected.sha256[1]
            )) && said.contains(&format!(
                "the first changed byte is in bytes 0–{size} (block 0 of 1)"
            )),
            "{}: {said}",
            db.name
        );
    }
    Ok(())
}
