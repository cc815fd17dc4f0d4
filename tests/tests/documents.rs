//! An agenda item's documents served by a real server on each store:
//! listed in the meeting view, fetched by meeting and hash with a strong
//! ETag and byte ranges, public ones open to anyone, delegates-only ones
//! with the session's `document_access` token alone, and every other
//! request refused with its own status, never with another meeting's bytes
//! nor with bytes that are not those of the hash. A vote on the item signs
//! the versions its round recorded. A version imported with `gavel meeting
//! import` while the server runs reaches the tablets connected to it.

use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{ChairCommand, DocumentKind, MeetingView};
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{Choice, ClientMsg, MeetingId, Principal, RefusalReason, Sha, Signature};
use gavel_records::verify::verify;
use gavel_server::app::Options;
use gavel_server::limits::LimitSettings;
use gavel_server::meeting::MeetingDefinition;
use gavel_server::store::{Pool, Store};
use gavel_tests::chair::open_round;
use gavel_tests::databases;
use gavel_tests::documents::{
    DRAFT, SUBMISSION, example_with_documents, import, import_another_meeting, pdf, pdf_of_size,
    write,
};
use gavel_tests::http;
use gavel_tests::server::{TestServer, example_meeting};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// Another meeting, with a document of its own on the same server.
const OTHER: &str = "phuc-loi-2026-ky-13";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The example meeting imported into a store with two documents on its
/// last item, a submission and a draft resolution, and their bytes.
struct TwoDocuments {
    definition: MeetingDefinition,
    submission: Vec<u8>,
    draft: Vec<u8>,
}

async fn two_documents(store: &Store) -> anyhow::Result<TwoDocuments> {
    let dir = tempfile::tempdir()?;
    // Large enough to go out in several slices (the server sends 256 KiB a turn).
    let submission = pdf_of_size("To trinh ve du thao Nghi quyet", 1_100_000);
    let draft = pdf("Du thao Nghi quyet ky hop thu muoi hai");
    write(dir.path(), SUBMISSION.file, &submission)?;
    write(dir.path(), DRAFT.file, &draft)?;
    let meeting = example_with_documents(dir.path(), &[SUBMISSION, DRAFT])?;
    Ok(TwoDocuments {
        definition: import(store, &meeting).await?,
        submission,
        draft,
    })
}

/// Replaces the bytes the store keeps under `sha256`, as a damaged disk or a
/// hand in the database would.
async fn tamper(store: &Store, sha256: &str) -> anyhow::Result<()> {
    let statement = "UPDATE document_blobs SET content = $1 WHERE sha256 = $2";
    let garbage = pdf("Not the document that was imported");
    let updated = match store.pool() {
        Pool::Sqlite(pool) => sqlx::query(statement)
            .bind(garbage)
            .bind(sha256)
            .execute(pool)
            .await?
            .rows_affected(),
        Pool::Postgres(pool) => sqlx::query(statement)
            .bind(garbage)
            .bind(sha256)
            .execute(pool)
            .await?
            .rows_affected(),
    };
    assert_eq!(updated, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_served_by_hash_to_those_who_may_read_them() -> anyhow::Result<()> {
    for db in databases().await {
        let store = Store::connect(&db.url).await?;
        let TwoDocuments {
            definition,
            submission,
            draft,
        } = two_documents(&store).await?;

        // A second meeting whose only document is the first's business alone.
        let other_pdf = pdf("Another meeting's paper");
        import_another_meeting(&store, OTHER, DRAFT, &other_pdf).await?;
        store.close().await;

        // No grace, and pings every second: a session's token lasts two
        // seconds (two pings) from when it was sent, and the session is
        // sent a new one at each ping.
        let options = Options {
            limits: LimitSettings {
                document_access_grace: Duration::ZERO,
                ping_interval: Duration::from_secs(1),
                ..LimitSettings::default()
            },
            ..Options::default()
        };
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let server = TestServer::start_with(&db.url, key, options);
        let addr = http::address_of(&server.url);
        let meeting = example_meeting();
        let at = |hash: &str| format!("/api/meetings/{meeting}/documents/{hash}");

        // The view lists the last item's documents, version 1 each.
        let (view, _) = http::get_with(addr, &format!("/api/meetings/{meeting}/view"), &[]).await?;
        let view: MeetingView = serde_json::from_str(&view.body)?;
        let last = view.agenda.last().unwrap();
        assert_eq!(last.index as usize, definition.agenda.len() - 1);
        let listed: Vec<_> = last
            .documents
            .iter()
            .map(|d| {
                (
                    d.title.as_str(),
                    d.kind,
                    d.sha256.clone(),
                    d.size,
                    d.public,
                    d.version,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (
                    SUBMISSION.title,
                    DocumentKind::Submission,
                    sha(&submission),
                    submission.len() as u64,
                    true,
                    1
                ),
                (
                    DRAFT.title,
                    DocumentKind::DraftResolution,
                    sha(&draft),
                    draft.len() as u64,
                    false,
                    1
                ),
            ],
            "{}",
            db.name
        );
        assert!(view.agenda[0].documents.is_empty());

        // A public document: the bytes, a strong ETag, cached for good.
        let public = at(&sha(&submission));
        let (status, headers, body) = http::get_bytes(addr, &public, &[]).await?;
        assert_eq!(
            (status, body.as_slice()),
            (200, submission.as_slice()),
            "{}",
            db.name
        );
        let etag = format!("\"{}\"", sha(&submission));
        assert_eq!(headers.get("etag"), Some(etag.as_str()));
        assert_eq!(headers.get("content-type"), Some("application/pdf"));
        assert_eq!(headers.get("accept-ranges"), Some("bytes"));
        assert_eq!(
            headers.get("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        // Sent a slice at a time, yet with its length told up front.
        let length = submission.len().to_string();
        assert_eq!(headers.get("content-length"), Some(length.as_str()));
        assert_eq!(headers.get("transfer-encoding"), None);
        let (status, _, body) = http::get_bytes(addr, &public, &[("If-None-Match", &etag)]).await?;
        assert_eq!((status, body.len()), (304, 0));

        // Ranges: a slice of the document, or 416 past its end.
        let len = submission.len();
        let (status, headers, body) =
            http::get_bytes(addr, &public, &[("Range", "bytes=0-9")]).await?;
        assert_eq!((status, body.as_slice()), (206, &submission[..10]));
        let whole = format!("bytes 0-9/{len}");
        assert_eq!(headers.get("content-range"), Some(whole.as_str()));
        let (status, _, body) = http::get_bytes(addr, &public, &[("Range", "bytes=-8")]).await?;
        assert_eq!((status, body.as_slice()), (206, &submission[len - 8..]));
        let across = "bytes=262000-800000";
        let (status, headers, body) = http::get_bytes(addr, &public, &[("Range", across)]).await?;
        assert_eq!(
            (status, body.as_slice()),
            (206, &submission[262000..=800000])
        );
        assert_eq!(headers.get("content-length"), Some("538001"));
        let past = format!("bytes={len}-");
        let (status, headers, _) = http::get_bytes(addr, &public, &[("Range", &past)]).await?;
        assert_eq!(status, 416);
        let star = format!("bytes */{len}");
        assert_eq!(headers.get("content-range"), Some(star.as_str()));

        // Delegates only: no token, a wrong one, then the session's.
        let private = at(&sha(&draft));
        let (status, _, body) = http::get_bytes(addr, &private, &[]).await?;
        assert_eq!(
            (status, body.starts_with(b"%PDF")),
            (401, false),
            "{}",
            db.name
        );
        let wrong = [("X-Gavel-Document-Access", "0".repeat(64))];
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(http::get_bytes(addr, &private, &wrong).await?.0, 403);
        let (_, session) = server.enroll(Principal::Seat(1)).await?;
        let token = session
            .state
            .document_access
            .clone()
            .expect("a delegate is given a document_access token");
        let (status, headers, body) =
            http::get_bytes(addr, &private, &[("X-Gavel-Document-Access", &token)]).await?;
        assert_eq!(
            (status, body.as_slice()),
            (200, draft.as_slice()),
            "{}",
            db.name
        );
        assert_eq!(
            headers.get("cache-control"),
            Some("private, max-age=31536000, immutable")
        );
        let link = format!("{private}?access={token}");
        let (status, _, body) = http::get_bytes(addr, &link, &[]).await?;
        assert_eq!((status, body.as_slice()), (200, draft.as_slice()));

        // Names that are not a document of this meeting.
        for (path, expected) in [
            (at(&sha(b"no such document")), 404),
            (at(&sha(&other_pdf)), 404),
            (at(&sha(&submission).to_uppercase()), 400),
            (at(".."), 400),
            (at("..%2F..%2Fview"), 400),
            (at("%2e%2e%2fview"), 400),
            (
                format!(
                    "/api/meetings/no-such-meeting/documents/{}",
                    sha(&submission)
                ),
                404,
            ),
        ] {
            let (status, _, body) = http::get_bytes(addr, &path, &[]).await?;
            assert_eq!(status, expected, "{}: {path}", db.name);
            assert!(!body.starts_with(b"%PDF"), "{path} served a document");
        }

        // The other meeting serves its own document, until its bytes differ
        // from their hash: then nothing is served.
        let theirs = format!("/api/meetings/{OTHER}/documents/{}", sha(&other_pdf));
        let other_session_link = format!("{theirs}?access={token}");
        assert_eq!(
            http::get_bytes(addr, &other_session_link, &[]).await?.0,
            403,
            "a token opens its own meeting's documents only"
        );
        tamper(&server.store().await?, &sha(&other_pdf)).await?;
        let chair_of_other = MeetingId::parse(OTHER).expect("a valid id");
        let codes = gavel_server::enrollment::issue(
            &server.store().await?,
            &chair_of_other,
            &[Principal::Chair],
            1,
        )
        .await?;
        let chair_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let mut client = gavel_client::Client::connect(&server.url).await?;
        client.enroll(&codes[0].1, &chair_key).await?;
        let chair = client.login(&chair_of_other, &chair_key).await?;
        let chair_token = chair
            .state
            .document_access
            .clone()
            .expect("the chair's token");
        let (status, _, body) =
            http::get_bytes(addr, &format!("{theirs}?access={chair_token}"), &[]).await?;
        assert_eq!(
            (status, body.starts_with(b"%PDF")),
            (500, false),
            "{}",
            db.name
        );

        // While the session lasts it is sent a new token at each ping: the
        // first runs out, and the newest opens the document.
        let mut session = session;
        let deadline = Instant::now() + Duration::from_secs(10);
        while http::get_bytes(addr, &link, &[]).await?.0 == 200 {
            assert!(Instant::now() < deadline, "the first token runs out");
            // Read meanwhile, so that the session answers its pings.
            let _ = tokio::time::timeout(Duration::from_millis(100), session.next()).await;
        }
        let first = session.state.document_access.clone();
        tokio::time::timeout(
            Duration::from_secs(10),
            session.wait_until(|s| s.document_access != first),
        )
        .await??;
        let newest = session.state.document_access.clone().expect("a token");
        let link = format!("{private}?access={newest}");
        let (status, _, body) = http::get_bytes(addr, &link, &[]).await?;
        assert_eq!((status, body.as_slice()), (200, draft.as_slice()));

        // Once the delegate's session has ended, its token opens nothing
        // after at most two pings.
        drop(session);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = http::get_bytes(addr, &link, &[]).await?.0;
            if status == 403 {
                break;
            }
            assert_eq!(status, 200);
            assert!(Instant::now() < deadline, "the token outlived its session");
            tokio::task::yield_now().await;
        }
        server.stop()?;
    }
    Ok(())
}

/// A vote on an item with documents, over real WebSockets on each store:
/// the round records the item's versions and their digest, which the
/// tablet sees and its ballot signs; a ballot signed on another version is
/// refused with `documents_changed` and nothing is recorded; the exported
/// record holds the versions and verifies.
#[tokio::test]
async fn a_vote_on_an_item_with_documents_signs_the_versions_it_is_about() -> anyhow::Result<()> {
    for db in databases().await {
        let store = Store::connect(&db.url).await?;
        let TwoDocuments {
            definition,
            submission,
            draft,
        } = two_documents(&store).await?;
        store.close().await;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let server = TestServer::start(&db.url, key);
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (seat_key, mut delegate) = server.enroll(Principal::Seat(1)).await?;
        delegate.check_in().await?;
        let item = u32::try_from(definition.agenda.len())? - 1;
        let round = open_round(&mut chair, item, 120).await?;
        delegate
            .wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        let shown = delegate.state.open_round().and_then(|r| r.versions.clone());
        let expected = RoundDocuments::of(vec![Sha::of(&submission), Sha::of(&draft)]);
        assert_eq!(shown.as_ref(), Some(&expected), "{}", db.name);

        // The seat's own signature, over a ballot on the submission alone.
        let seq = delegate.next_seq();
        let other_text = RoundDocuments::of(vec![Sha::of(&submission)]).digest;
        let content = BallotContent {
            meeting: &example_meeting(),
            round,
            documents: Some(other_text),
            seat: 1,
            choice: Choice::Yes,
            seq,
        };
        let signature = Signature::sign(&seat_key, &content.signed_bytes());
        let err = delegate
            .request(|id| ClientMsg::Cast {
                id,
                round,
                documents: other_text,
                choice: Choice::Yes,
                seq,
                signature,
            })
            .await
            .expect_err("a ballot on another text");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::DocumentsChanged),
            "{}",
            db.name
        );
        let store = server.store().await?;
        assert!(store.ballots(round).await?.is_empty(), "{}", db.name);

        // The tablet's own ballot signs the round's digest and is recorded;
        // its receipt, checked by the session, repeats the digest.
        let receipt = delegate.cast(Choice::No).await?;
        assert_eq!(receipt.documents, Some(expected.digest), "{}", db.name);
        assert_eq!(store.ballots(round).await?.len(), 1, "{}", db.name);
        chair.chair(ChairCommand::Close).await?;
        let bundle =
            gavel_server::export::bundle(&store, &server.server_key, &example_meeting()).await?;
        assert_eq!(verify(&bundle), vec![], "{}", db.name);
        let recorded = bundle.rounds.iter().find(|r| r.id == round);
        assert_eq!(
            recorded.and_then(|r| r.documents.as_ref()),
            Some(&expected),
            "{}",
            db.name
        );
        assert_eq!(bundle.documents.len(), 2, "{}", db.name);
        store.close().await;
        server.stop()?;
    }
    Ok(())
}

/// Reads from `session` until the server ends it (it is told to connect again).
async fn until_ended(session: &mut gavel_client::Session) -> anyhow::Result<()> {
    tokio::time::timeout(Duration::from_secs(30), async {
        while session.next().await.is_ok() {}
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_imported_while_the_server_runs_reaches_the_tablets_connected_to_it()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (key, mut tablet) = server.enroll(Principal::Seat(1)).await?;
        let last = tablet.meeting.agenda.len() - 1;
        assert!(tablet.meeting.agenda[last].documents.is_empty());
        let dir = tempfile::tempdir()?;
        let file = example_with_documents(dir.path(), &[SUBMISSION])?;
        let store = server.store().await?;
        for (version, text) in [(1, "To trinh, ban 1"), (2, "To trinh, ban 2")] {
            let content = pdf(text);
            write(dir.path(), SUBMISSION.file, &content)?;
            import(&store, &file).await?;
            until_ended(&mut tablet).await?;
            tablet = server.login(&key).await?;
            let listed: Vec<(u32, String)> = tablet.meeting.agenda[last]
                .documents
                .iter()
                .map(|d| (d.version, d.sha256.clone()))
                .collect();
            let sha256 = hex::encode(Sha256::digest(&content));
            assert_eq!(listed, [(version, sha256)], "{}", db.name);
        }
        server.stop()?;
    }
    Ok(())
}
