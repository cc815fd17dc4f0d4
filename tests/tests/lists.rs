//! The chair edits a paper's list before its round, on a real server and
//! each store: the new list is stored as an amendment by the chair, every
//! device fetches the new view with it, each wrong list is refused
//! with its own reason and changes nothing, and once a round opened on the
//! item its list is fixed.

use gavel_client::ClientError;
use gavel_protocol::Principal;
use gavel_protocol::messages::{ChairCommand, ListEntry, RefusalReason};
use gavel_protocol::paper::PaperKind;
use gavel_records::chain::{Amender, Event};
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::Duration;

fn reason(err: ClientError) -> RefusalReason {
    err.reason()
        .unwrap_or_else(|| panic!("a refusal, not {err}"))
}

fn entry(name: &str, post: &str) -> ListEntry {
    ListEntry {
        name: name.into(),
        post: post.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chair_sets_a_papers_list_before_its_round_and_every_device_fetches_it()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let meeting = example_meeting();
        let (chair_key, mut chair) = server.enroll(Principal::Chair).await?;
        let (seat_key, mut tablet) = server.enroll(Principal::Seat(1)).await?;
        let index_of = |kind: PaperKind| {
            chair
                .meeting
                .agenda
                .iter()
                .find(|i| i.paper.as_ref().is_some_and(|p| p.kind == kind))
                .map(|i| i.index)
                .expect("the example has the paper")
        };
        let (election, rating) = (index_of(PaperKind::Election), index_of(PaperKind::Rating));
        let not_a_list = chair
            .meeting
            .agenda
            .iter()
            .find(|i| i.vote.is_some() && i.paper.is_none())
            .expect("a yes/no item")
            .index;
        let length = chair.meeting.agenda.len();
        let set = |item, posts, entries| ChairCommand::SetList {
            item,
            posts,
            entries,
        };
        let two = || {
            vec![
                entry("Vũ Thị Lan Anh", "Trưởng Ban Kinh tế – Ngân sách"),
                entry("Lương Thị Thanh Huyền", "Ủy viên Ban Pháp chế"),
            ]
        };

        // Each wrong list is refused with its reason, and nothing changes.
        for (command, expected) in [
            (set(not_a_list, None, two()), RefusalReason::NoList),
            (set(election, None, vec![]), RefusalReason::ListLength),
            (
                set(election, None, vec![entry(" ", "Ủy viên")]),
                RefusalReason::NameMissing,
            ),
            (
                set(election, None, vec![entry("A", ""), entry("A", "")]),
                RefusalReason::NameTwice,
            ),
            (
                set(election, Some(3), two()),
                RefusalReason::PostsOutOfRange,
            ),
            (
                set(election, Some(0), two()),
                RefusalReason::PostsOutOfRange,
            ),
            (set(rating, Some(1), two()), RefusalReason::PostsOutOfRange),
            (
                set(u32::try_from(length)?, None, two()),
                RefusalReason::InvalidCommand,
            ),
        ] {
            let refused = chair.chair(command).await;
            assert_eq!(reason(refused.unwrap_err()), expected, "{}", db.name);
        }
        let store = server.store().await?;
        assert!(
            !store
                .audit_log(&meeting)
                .await?
                .iter()
                .any(|e| matches!(e.event, Event::MeetingAmended { .. })),
            "{}: nothing was amended",
            db.name
        );
        // A delegate's tablet may not.
        let refused = tablet.chair(set(election, None, two())).await;
        assert_eq!(reason(refused.unwrap_err()), RefusalReason::NotChair);

        // A third candidate, and two posts: stored, chained as the chair's,
        // and every device fetches the new view.
        let mut three = two();
        three.insert(
            1,
            entry("Đinh Công Hiếu", "Phó Trưởng Ban Kinh tế – Ngân sách"),
        );
        chair.chair(set(election, Some(2), three.clone())).await?;
        for session in [&mut tablet, &mut chair] {
            let ended = tokio::time::timeout(Duration::from_secs(10), async {
                while session.next().await.is_ok() {}
            })
            .await;
            assert!(ended.is_ok(), "{}: the live session was ended", db.name);
        }
        let tablet = server.login(&seat_key).await?;
        let paper = tablet.meeting.agenda[election as usize]
            .paper
            .clone()
            .expect("a paper");
        assert_eq!((paper.posts, paper.entries), (2, three.clone()));
        let last = store.audit_log(&meeting).await?.pop().expect("an entry");
        assert!(
            matches!(
                &last.event,
                Event::MeetingAmended { by: Amender::Chair, items, .. } if items == &[election]
            ),
            "{:?}",
            last.event
        );
        let bundle = gavel_server::export::bundle(&store, &server.server_key, &meeting).await?;
        assert_eq!(
            gavel_records::verify::verify(&bundle),
            vec![],
            "{}",
            db.name
        );

        // Once a round opened on the item, its list is what is voted on.
        let mut chair = server.login(&chair_key).await?;
        gavel_tests::chair::open_round(&mut chair, election, 120).await?;
        let refused = chair.chair(set(election, Some(1), two())).await;
        assert_eq!(reason(refused.unwrap_err()), RefusalReason::ItemVoted);
        let open = chair.state.open_round().expect("the round is open");
        assert_eq!(open.item, election);
        drop(tablet);
        server.stop()?;
    }
    Ok(())
}
