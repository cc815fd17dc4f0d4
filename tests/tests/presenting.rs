//! Following the presenter, on each store: the chair puts a page of one of
//! the meeting's documents before the hall and every audience's snapshot
//! says so (a watcher only for a public document); a delegate may not
//! present, and a page the document lacks or a document the meeting does
//! not list is refused with its reason and changes nothing.

use gavel_client::{Client, ClientError, Session};
use gavel_protocol::messages::{ChairCommand, Presentation};
use gavel_protocol::{Principal, RefusalReason};
use gavel_tests::databases;
use gavel_tests::documents::{
    DRAFT, SUBMISSION, example_with_documents, import, import_another_meeting, pdf, pdf_pages,
    write,
};
use gavel_tests::server::{TestServer, example_meeting};
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn presented(session: &Session) -> Option<&Presentation> {
    session.state.snapshot.as_ref()?.presentation.as_ref()
}

fn present(document: &str, page: u32) -> ChairCommand {
    ChairCommand::Present {
        document: document.to_owned(),
        page,
    }
}

fn reason(result: Result<(), ClientError>) -> Option<RefusalReason> {
    result.expect_err("refused").reason()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chair_presents_a_page_and_the_hall_follows() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let submission = pdf_pages(&["To trinh trang 1", "Trang 2", "Trang 3"]);
        let draft = pdf_pages(&["Du thao trang 1", "Trang 2"]);
        write(dir.path(), SUBMISSION.file, &submission)?;
        write(dir.path(), DRAFT.file, &draft)?;
        let store = gavel_server::store::Store::connect(&db.url).await?;
        let definition = import(
            &store,
            &example_with_documents(dir.path(), &[SUBMISSION, DRAFT])?,
        )
        .await?;
        let last_item = definition.agenda.len() as u32 - 1;

        // Another meeting on the same server, with a public paper of its own.
        let other_pdf = pdf("Another meeting's paper");
        import_another_meeting(&store, "phuc-loi-2026-ky-13", SUBMISSION, &other_pdf).await?;
        store.close().await;

        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let server = TestServer::start(&db.url, key);
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut delegate) = server.enroll(Principal::Seat(1)).await?;
        let mut hall = Client::connect(&server.url)
            .await?
            .watch(&example_meeting())
            .await?;
        assert_eq!(presented(&hall), None, "{}", db.name);

        // A public document's page reaches every audience.
        let (public, private) = (sha(&submission), sha(&draft));
        chair.chair(present(&public, 2)).await?;
        let expected = Presentation {
            item: last_item,
            document: public.clone(),
            page: 2,
            pages: 3,
        };
        assert_eq!(presented(&chair), Some(&expected), "{}", db.name);
        hall.wait_until(|s| s.snapshot.as_ref().unwrap().presentation.as_ref() == Some(&expected))
            .await?;
        delegate
            .wait_until(|s| s.snapshot.as_ref().unwrap().presentation.as_ref() == Some(&expected))
            .await?;

        // Refusals, each with its reason; the page stays where it was.
        let refused = delegate
            .request(|id| gavel_protocol::ClientMsg::Chair {
                id,
                command: present(&public, 1),
            })
            .await
            .map(drop);
        assert_eq!(
            reason(refused),
            Some(RefusalReason::NotChair),
            "{}",
            db.name
        );
        let cases = [
            (present(&public, 4), RefusalReason::NoSuchPage),
            (present(&public, 0), RefusalReason::NoSuchPage),
            (present(&sha(&other_pdf), 1), RefusalReason::UnknownDocument),
            (present(&"0".repeat(64), 1), RefusalReason::UnknownDocument),
            (
                present("../../etc/passwd", 1),
                RefusalReason::UnknownDocument,
            ),
        ];
        for (command, expected_reason) in cases {
            let refused = chair.chair(command.clone()).await;
            assert_eq!(
                reason(refused),
                Some(expected_reason),
                "{}: {command:?}",
                db.name
            );
        }
        chair.sync().await?;
        assert_eq!(presented(&chair), Some(&expected), "{}", db.name);

        // A delegates-only document: the chair and the tablets see it; the
        // hall screen, which could not fetch it, is shown nothing.
        chair.chair(present(&private, 2)).await?;
        delegate
            .wait_until(|s| {
                s.snapshot
                    .as_ref()
                    .unwrap()
                    .presentation
                    .as_ref()
                    .is_some_and(|p| p.document == private && p.page == 2 && p.pages == 2)
            })
            .await?;
        hall.sync().await?;
        assert_eq!(presented(&hall), None, "{}", db.name);

        // Back to the public one, then taken down for everyone.
        chair.chair(present(&public, 3)).await?;
        hall.wait_until(|s| {
            s.snapshot
                .as_ref()
                .unwrap()
                .presentation
                .as_ref()
                .is_some_and(|p| p.page == 3)
        })
        .await?;
        chair.chair(ChairCommand::StopPresenting).await?;
        assert_eq!(presented(&chair), None, "{}", db.name);
        hall.wait_until(|s| s.snapshot.as_ref().unwrap().presentation.is_none())
            .await?;
        delegate
            .wait_until(|s| s.snapshot.as_ref().unwrap().presentation.is_none())
            .await?;
    }
    Ok(())
}
