//! The floor's refusals, on each store: what a delegate may not do gets its
//! typed reason and changes nothing; a topic is text everywhere, markup and
//! right-to-left marks included, within its length and without control
//! characters; a tablet that floods the hub with requests is held back
//! while its neighbour is answered at once.
//!
//! The question session itself, across a restart of the `gavel` binary, is
//! in `server/tests/floor.rs`.

use gavel_client::{ClientError, Session};
use gavel_protocol::floor::{FloorKind, FloorView, MAX_TOPIC_CHARS, Speaker};
use gavel_protocol::messages::{ChairCommand, ItemKind};
use gavel_protocol::{Principal, RefusalReason};
use gavel_records::minutes::{Lang, minutes_html};
use gavel_server::export;
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_server::store::StoreError;
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::{Duration, Instant};

/// The example meeting's question session and an item that is debated.
fn items() -> (u32, u32) {
    let definition = MeetingDefinition::parse(EXAMPLE).expect("the example parses");
    let of = |kind| {
        definition
            .agenda
            .iter()
            .find(|i| i.kind == kind)
            .expect("the example has the kind")
            .index
    };
    (of(ItemKind::QuestionSession), of(ItemKind::DraftResolution))
}

fn reason(result: Result<(), ClientError>) -> Option<RefusalReason> {
    result.expect_err("refused").reason()
}

fn floor(session: &Session) -> &FloorView {
    session.state.floor.as_ref().expect("the floor was sent")
}

/// The chair's view of the floor after whatever it was last sent.
async fn synced(chair: &mut Session) -> anyhow::Result<FloorView> {
    chair.sync().await?;
    Ok(floor(chair).clone())
}

#[tokio::test]
async fn what_a_delegate_may_not_do_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let (questions, debate) = items();
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut one) = server.enroll(Principal::Seat(1)).await?;
        let (_, mut two) = server.enroll(Principal::Seat(2)).await?;
        chair.chair(ChairCommand::SetItem { item: debate }).await?;
        let speak = |item, kind, respondent| (item, kind, respondent);

        // A seat that has not checked in is told so.
        let (item, kind, respondent) = speak(debate, FloorKind::Speak, None);
        let refused = one.request_floor(item, kind, respondent, None).await;
        assert_eq!(
            reason(refused),
            Some(RefusalReason::NotCheckedIn),
            "{}",
            db.name
        );
        one.check_in().await?;
        two.check_in().await?;
        let before = synced(&mut chair).await?;

        // Not the item under discussion; a question outside a question
        // session; an answer asked for.
        let cases = [
            (
                questions,
                FloorKind::Question,
                Some(0),
                RefusalReason::NotUnderDiscussion,
            ),
            (
                debate,
                FloorKind::Question,
                Some(0),
                RefusalReason::WrongFloorKind,
            ),
            (
                debate,
                FloorKind::Answer,
                Some(0),
                RefusalReason::WrongFloorKind,
            ),
        ];
        for (item, kind, respondent, expected) in cases {
            let refused = one.request_floor(item, kind, respondent, None).await;
            assert_eq!(
                reason(refused),
                Some(expected),
                "{}: {kind:?} on {item}",
                db.name
            );
        }
        let withdrawn = two.withdraw_floor(debate).await;
        assert_eq!(reason(withdrawn), Some(RefusalReason::NoSuchRequest));

        // Twice at once.
        one.request_floor(debate, FloorKind::Speak, None, None)
            .await?;
        let again = one
            .request_floor(debate, FloorKind::Reply, None, None)
            .await;
        assert_eq!(reason(again), Some(RefusalReason::AlreadyRequested));

        // A delegate cannot give itself the floor, nor reorder the queue.
        let request = synced(&mut chair).await?.queue[0].id;
        let give = ChairCommand::FloorGive {
            request: Some(request),
            limit_seconds: None,
        };
        let place = ChairCommand::FloorMove { request, place: 0 };
        for command in [give, place] {
            let refused = one.chair(command).await.map(drop);
            assert_eq!(reason(refused), Some(RefusalReason::NotChair));
        }
        let now = synced(&mut chair).await?;
        assert!(now.turn.is_none() && before.turn.is_none());
        assert_eq!(
            now.waiting,
            before.waiting + 1,
            "only the one request waits"
        );

        // In the question session: only respondents on the list. (Seat 1
        // has used most of its allowance of requests.)
        chair
            .chair(ChairCommand::SetItem { item: questions })
            .await?;
        let before = synced(&mut chair).await?;
        two.wait_until(|s| s.floor.as_ref().is_some_and(|f| f.item == Some(questions)))
            .await?;
        for respondent in [None, Some(2), Some(u32::MAX)] {
            let refused = two
                .request_floor(questions, FloorKind::Question, respondent, None)
                .await;
            assert_eq!(
                reason(refused),
                Some(RefusalReason::UnknownRespondent),
                "{respondent:?}"
            );
        }
        assert_eq!(synced(&mut chair).await?.queue, before.queue);

        // The floor's changes hold the definition they were made with.
        let store = server.store().await?;
        let changed = EXAMPLE.replacen("Nguyễn Quang Minh", "Nguyễn Quang Minh Anh", 1);
        let replaced = store
            .import_meeting(&example_meeting(), &changed, &[], &[])
            .await;
        assert!(
            matches!(replaced, Err(StoreError::MeetingHasRounds(_))),
            "{}: {replaced:?}",
            db.name
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_topic_is_text_on_every_screen_and_in_the_minutes() -> anyhow::Result<()> {
    let (questions, _) = items();
    let markup = "<img src=x onerror=alert(1)> \u{202E}שלום\u{202C} <b>Đất đai</b> & \"x\"";
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut one) = server.enroll(Principal::Seat(1)).await?;
        let mut screen = gavel_client::Client::connect(&server.url)
            .await?
            .watch(&example_meeting())
            .await?;
        one.check_in().await?;
        chair
            .chair(ChairCommand::SetItem { item: questions })
            .await?;
        one.wait_until(|s| s.floor.as_ref().is_some_and(|f| f.item == Some(questions)))
            .await?;

        // Too long, or with a control character: refused, and nothing waits.
        let waiting = synced(&mut chair).await?.waiting;
        let too_long = "ạ".repeat(MAX_TOPIC_CHARS + 1);
        let refused = one
            .request_floor(questions, FloorKind::Question, Some(0), Some(too_long))
            .await;
        assert_eq!(
            reason(refused),
            Some(RefusalReason::TopicTooLong),
            "{}",
            db.name
        );
        for control in ["a\u{7}b", "hai\ndòng", "\u{1b}[2J"] {
            let refused = one
                .request_floor(
                    questions,
                    FloorKind::Question,
                    Some(0),
                    Some(control.into()),
                )
                .await;
            assert_eq!(
                reason(refused),
                Some(RefusalReason::TopicNotText),
                "{control:?}"
            );
        }
        assert_eq!(synced(&mut chair).await?.waiting, waiting);

        // Markup and right-to-left marks are text: kept as typed.
        one.request_floor(questions, FloorKind::Question, Some(0), Some(markup.into()))
            .await?;
        let topic_of = |f: &FloorView| {
            f.queue
                .iter()
                .find(|r| r.speaker == Speaker::Seat(1))
                .and_then(|r| r.topic.clone())
        };
        assert_eq!(
            topic_of(&synced(&mut chair).await?).as_deref(),
            Some(markup)
        );
        screen
            .wait_until(|s| s.floor.as_ref().and_then(topic_of).as_deref() == Some(markup))
            .await?;
        let request = floor(&chair)
            .queue
            .iter()
            .find(|r| r.speaker == Speaker::Seat(1))
            .expect("waiting")
            .id;
        chair
            .chair(ChairCommand::FloorGive {
                request: Some(request),
                limit_seconds: None,
            })
            .await?;
        chair.chair(ChairCommand::FloorEnd).await?;
        chair.chair(ChairCommand::FloorEnd).await?;

        // The minutes print it escaped, isolated from the text around it.
        let store = server.store().await?;
        let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
        let definition = MeetingDefinition::parse(EXAMPLE)?;
        let session = export::session(&bundle, &definition, &Default::default());
        let turn = &session.items[questions as usize].turns[0];
        assert_eq!(turn.topic.as_deref(), Some(markup));
        let html = minutes_html(&session, Lang::En);
        assert!(!html.contains("<img src=x"), "markup reached the minutes");
        assert!(html.contains(
            "<bdi>&lt;img src=x onerror=alert(1)&gt; \u{202E}שלום\u{202C} &lt;b&gt;Đất đai&lt;/b&gt; &amp; &quot;x&quot;</bdi>"
        ));
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_flooding_tablet_is_held_back_and_its_neighbour_is_answered_at_once() -> anyhow::Result<()>
{
    let (_, debate) = items();
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut flood) = server.enroll(Principal::Seat(1)).await?;
        let (_, mut neighbour) = server.enroll(Principal::Seat(2)).await?;
        flood.check_in().await?;
        neighbour.check_in().await?;
        chair.chair(ChairCommand::SetItem { item: debate }).await?;
        flood
            .wait_until(|s| s.floor.as_ref().is_some_and(|f| f.item == Some(debate)))
            .await?;

        // Request, withdraw, request, ... as fast as the answers come.
        let mut limited = 0;
        let mut answered = 0;
        for n in 0..40 {
            let result = if n % 2 == 0 {
                flood
                    .request_floor(debate, FloorKind::Speak, None, None)
                    .await
            } else {
                flood.withdraw_floor(debate).await
            };
            match result {
                Ok(()) => answered += 1,
                Err(e) if e.reason() == Some(RefusalReason::RateLimited) => limited += 1,
                // A withdrawal after a request that was held back finds nothing.
                Err(e) if e.reason() == Some(RefusalReason::NoSuchRequest) => {}
                Err(e) => return Err(e.into()),
            }
        }
        assert!(
            limited >= 30,
            "{}: {limited} held back, {answered} answered",
            db.name
        );
        assert!(answered <= 8, "{}: {answered} answered", db.name);

        // The neighbour's request is not held back with it.
        let asked = Instant::now();
        neighbour
            .request_floor(debate, FloorKind::Reply, None, None)
            .await?;
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "{}: the neighbour waited {:?}",
            db.name,
            asked.elapsed()
        );
        let queue = synced(&mut chair).await?.queue;
        assert_eq!(queue[0].speaker, Speaker::Seat(2), "a reply goes first");
        server.stop()?;
    }
    Ok(())
}
