//! The session's end, on a real server and each store: the chair's
//! `close_session` is refused `session_busy` while a vote is open or paused,
//! while a secret result awaits the counting board and the announcement, and
//! while someone has the floor; once nothing is pending it closes the
//! session, the hall screen and the tablets see `closed_at`, and from then on
//! the chair's commands (the list editor's `set_list` among them), a
//! delegate's check-in and request for the floor, the secretariat's count by
//! hand and its amendment of the meeting are refused `session_closed`, also
//! after a restart. The exported record holds the `session_closed` entry
//! after every round and verifies; a close moved before a round's end, a
//! second close, and a check-in or an amendment chained after the close are
//! each caught by `gavel verify`. The
//! minutes print the closing time, and the secretariat's list calls the
//! meeting finished.

use gavel_client::{Client, ClientError, Session};
use gavel_protocol::floor::{FloorKind, Guest, Speaker};
use gavel_protocol::messages::{ChairCommand, ListEntry};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Principal, RefusalReason};
use gavel_records::chain::{Amender, Event, Sha};
use gavel_records::minutes::Lang;
use gavel_records::verify::{Mismatch, verify};
use gavel_server::export::{self, MinutesOptions};
use gavel_tests::chair::{changeable_item, item_where, open_round};
use gavel_tests::server::{TestServer, example_meeting};
use gavel_tests::{databases, forge, http, secretariat};
use serde_json::{Value, json};

/// The counting board of the example meeting.
const BOARD: [u32; 3] = [7, 15, 23];

fn reason(result: Result<(), ClientError>) -> Option<RefusalReason> {
    result.expect_err("refused").reason()
}

async fn watcher(server: &TestServer) -> anyhow::Result<Session> {
    let mut hall = Client::connect(&server.url)
        .await?
        .watch(&example_meeting())
        .await?;
    hall.wait_until(|s| s.snapshot.is_some()).await?;
    Ok(hall)
}

/// The chair tries to close the session and is told it is busy.
async fn busy(chair: &mut Session, while_: &str) {
    assert_eq!(
        reason(chair.chair(ChairCommand::CloseSession).await),
        Some(RefusalReason::SessionBusy),
        "closing while {while_}"
    );
    let snapshot = chair.state.snapshot.as_ref().expect("a snapshot");
    assert_eq!(snapshot.closed_at, None, "still open while {while_}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_closes_once_nothing_is_pending_and_nothing_is_decided_after()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url).to_owned();
        let (bearer, _) = secretariat::log_in(&server).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut delegate) = server.enroll(Principal::Seat(1)).await?;
        let mut board = Vec::new();
        for seat in BOARD {
            board.push(server.enroll(Principal::Seat(seat)).await?.1);
        }
        let mut hall = watcher(&server).await?;
        delegate.check_in().await?;

        // A named vote, open and then paused, holds the close off.
        let named = changeable_item(&chair, Secrecy::Named);
        // An item voted on with a list, whose list no round fixed.
        let election = chair
            .meeting
            .agenda
            .iter()
            .find(|i| i.paper.is_some())
            .expect("the example meeting has an election")
            .index;
        open_round(&mut chair, named, 120).await?;
        delegate.wait_until(|s| s.open_round().is_some()).await?;
        delegate.cast(Choice::Yes).await?;
        busy(&mut chair, "a vote is open").await;
        chair.chair(ChairCommand::Pause).await?;
        busy(&mut chair, "a vote is paused").await;
        chair.chair(ChairCommand::Close).await?;

        // A secret result awaiting the board and the announcement too.
        let secret = item_where(&chair, |v| v.secrecy == Secrecy::Secret);
        let round = open_round(&mut chair, secret, 120).await?;
        chair.chair(ChairCommand::Close).await?;
        busy(&mut chair, "a secret result awaits its announcement").await;
        for member in &mut board {
            member.sync().await?;
            let asked = member.state.to_confirm.clone().expect("a count to confirm");
            member.confirm_count(round, asked.count).await?;
        }
        chair.chair(ChairCommand::Announce).await?;

        // And so does a speaker at the floor.
        let guest = Speaker::Guest(Guest {
            name: "Hoàng Văn Nam".into(),
            post: "Chánh án Tòa án nhân dân khu vực".into(),
        });
        chair
            .chair(ChairCommand::FloorAdd {
                kind: FloorKind::Speak,
                speaker: guest,
                respondent: None,
                topic: None,
            })
            .await?;
        chair
            .chair(ChairCommand::FloorGive {
                request: None,
                limit_seconds: None,
            })
            .await?;
        busy(&mut chair, "someone has the floor").await;
        chair.chair(ChairCommand::FloorEnd).await?;

        // Nothing pending: the session closes, and every screen says so.
        chair.chair(ChairCommand::CloseSession).await?;
        let closed_at = chair
            .state
            .snapshot
            .as_ref()
            .and_then(|s| s.closed_at)
            .expect("the chair's snapshot says the session is closed");
        for screen in [&mut hall, &mut delegate] {
            screen
                .wait_until(|s| s.snapshot.as_ref().is_some_and(|s| s.closed_at.is_some()))
                .await?;
            let shown = screen.state.snapshot.as_ref().and_then(|s| s.closed_at);
            assert_eq!(shown, Some(closed_at), "{}", db.name);
        }

        // After it nothing is decided: every chair command, a request for
        // the floor, a new check-in and a count by hand are refused.
        let commands = [
            ChairCommand::SetItem { item: named },
            ChairCommand::Open {
                window_seconds: None,
            },
            ChairCommand::FloorGive {
                request: None,
                limit_seconds: None,
            },
            ChairCommand::StopPresenting,
            ChairCommand::SetList {
                item: election,
                posts: None,
                entries: vec![ListEntry {
                    name: "Đinh Thị Mai".into(),
                    post: String::new(),
                }],
            },
            ChairCommand::CloseSession,
        ];
        for command in commands {
            let refused = reason(chair.chair(command.clone()).await);
            assert_eq!(
                refused,
                Some(RefusalReason::SessionClosed),
                "{}: {command:?}",
                db.name
            );
        }
        let floor = delegate
            .request_floor(named, FloorKind::Speak, None, None)
            .await;
        assert_eq!(reason(floor), Some(RefusalReason::SessionClosed));
        let (_, mut late) = server.enroll(Principal::Seat(2)).await?;
        assert_eq!(
            reason(late.check_in().await),
            Some(RefusalReason::SessionClosed)
        );
        let by_hand = http::post_json(
            &addr,
            &format!(
                "/api/secretariat/meetings/{}/items/{named}/by-hand",
                example_meeting()
            ),
            &[("Authorization", &bearer)],
            Some(&json!({ "present": 30, "yes": 20, "no": 5, "abstain": 5, "by": "Lê Thị Thu" })),
        )
        .await?;
        let body: Value = serde_json::from_str(&by_hand.body)?;
        assert_eq!(
            (by_hand.status, body["reason"].as_str()),
            (409, Some("session_closed")),
            "{}: {}",
            db.name,
            by_hand.body
        );

        // Nor is the meeting amended: the record ends at the close, so even
        // a name's correction, which a meeting under way takes, is refused.
        let path = format!("/api/secretariat/meetings/{}/form", example_meeting());
        let (form, _) = http::get_with(&addr, &path, &[("Authorization", &bearer)]).await?;
        let mut form: Value = serde_json::from_str(&form.body)?;
        form["form"]["seats"][2]["name"] = json!("Trần Thị Đúng");
        let amended = http::put_json(
            &addr,
            &path,
            &[("Authorization", &bearer)],
            &json!({"previous": form["previous"], "form": form["form"]}),
        )
        .await?;
        let body: Value = serde_json::from_str(&amended.body)?;
        assert_eq!(
            (amended.status, body["reason"].as_str()),
            (409, Some("session_closed")),
            "{}: {}",
            db.name,
            amended.body
        );

        // The secretariat's list calls it finished, from the close.
        let (list, _) = http::get_with(
            &addr,
            "/api/secretariat/meetings",
            &[("Authorization", &bearer)],
        )
        .await?;
        let list: Value = serde_json::from_str(&list.body)?;
        let row = list
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["id"] == example_meeting().as_str()))
            .expect("the meeting is listed");
        assert_eq!(row["state"], "finished", "{}", db.name);

        // The record: the close after every round, once; it verifies.
        let store = server.store().await?;
        let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
        let kinds: Vec<&str> = bundle.chain.iter().map(|e| e.event.kind()).collect();
        let close = kinds
            .iter()
            .position(|k| *k == "session_closed")
            .expect("a session_closed entry");
        assert_eq!(kinds.iter().filter(|k| **k == "session_closed").count(), 1);
        let last_round = kinds
            .iter()
            .rposition(|k| k.starts_with("round_") || *k == "result_announced")
            .expect("rounds");
        assert!(last_round < close, "{}: {kinds:?}", db.name);
        // After it, only the late seat's device key, enrolled after the close.
        assert_eq!(kinds[close + 1..], ["key_registered"], "{}", db.name);
        assert!(
            matches!(bundle.chain[close].event, Event::SessionClosed { closed_at: at } if at == closed_at)
        );
        let mismatches = verify(&bundle);
        assert!(mismatches.is_empty(), "{}: {mismatches:?}", db.name);

        // Tampered with, it is caught: the close moved before the last
        // round's end, every hash recomputed...
        let mut moved = bundle.clone();
        let entry = moved.chain.remove(close);
        let end = moved
            .chain
            .iter()
            .position(|e| matches!(e.event, Event::RoundClosed { round: r, .. } if r == round))
            .expect("the secret round's close");
        moved.chain.insert(end, entry);
        forge::rehash(&mut moved);
        let found = verify(&moved);
        assert!(
            found.contains(&Mismatch::ClosedDuringRound {
                seq: end as u64,
                round
            }),
            "{}: {found:?}",
            db.name
        );
        assert!(
            found.iter().any(|m| matches!(
                m,
                Mismatch::AfterClose {
                    kind: "round_closed",
                    ..
                }
            )),
            "{found:?}"
        );
        // ...a check-in and an amendment chained after the close, and a
        // second close.
        let mut after = bundle.clone();
        let seq = after.chain.len() as u64;
        let at = after.chain[close].at;
        after.chain.push(after.chain[close].clone());
        let mut check_in = after.chain[close].clone();
        check_in.event = Event::CheckedIn { seat: 2 };
        check_in.at = at + 1;
        after.chain.push(check_in.clone());
        let mut amendment = check_in;
        amendment.event = Event::MeetingAmended {
            definition_sha256: Sha::of(b"a definition changed after the close"),
            by: Amender::Chair,
            items: vec![election],
        };
        after.chain.push(amendment);
        forge::rehash(&mut after);
        let found = verify(&after);
        assert!(found.contains(&Mismatch::ClosedTwice { seq }), "{found:?}");
        assert!(
            found.contains(&Mismatch::AfterClose {
                seq: seq + 1,
                kind: "checked_in"
            }),
            "{found:?}"
        );
        assert!(
            found.contains(&Mismatch::AfterClose {
                seq: seq + 2,
                kind: "meeting_amended"
            }),
            "{found:?}"
        );

        // The minutes print the closing time.
        let options = MinutesOptions::default();
        for (lang, line) in [
            (Lang::Vi, "Kỳ họp bế mạc lúc"),
            (Lang::En, "The session closed at"),
        ] {
            let html = export::minutes_html(
                &store,
                &server.server_key,
                &example_meeting(),
                lang,
                &options,
            )
            .await?;
            assert!(html.contains(line), "{}: {line}", db.name);
        }

        // A restarted hub still holds the session closed.
        drop((hall, chair, delegate, late, board));
        let server = server.crash_and_restart()?;
        let mut hall = watcher(&server).await?;
        let shown = hall.state.snapshot.as_ref().and_then(|s| s.closed_at);
        assert_eq!(shown, Some(closed_at), "{}", db.name);
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        assert_eq!(
            reason(chair.chair(ChairCommand::SetItem { item: named }).await),
            Some(RefusalReason::SessionClosed)
        );
        hall.sync().await?;
        server.stop()?;
    }
    Ok(())
}
