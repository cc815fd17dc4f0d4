//! A result recorded by hand, on a real server and each store: when the
//! devices fail the secretariat enters the counts of a show of hands for an
//! item through its API, the hall screen (a watcher) and the chair's console
//! get it at once marked as recorded by hand, by whom and when, the store
//! keeps it as a round with no ballots and one audit entry, a restarted hub
//! shows it again, the exported record verifies and every tampering with it
//! is caught, and the record, the minutes and the results table download
//! from the secretariat's app saying it was recorded by hand. Impossible
//! counts, items that cannot be recorded this way and a vote open on the
//! devices are each refused with their reason (and, for counts, the field),
//! and so is recording again an item whose result stands.

use gavel_client::{Client, Session};
use gavel_protocol::messages::{ItemStatus, ItemView, RoundStatus};
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Principal, PublicKey, Signature};
use gavel_records::bundle::Bundle;
use gavel_records::chain::{Entry, Event};
use gavel_records::verify::{Mismatch, verify};
use gavel_server::export;
use gavel_tests::chair::open_round;
use gavel_tests::databases;
use gavel_tests::http::{self, Response};
use gavel_tests::server::{TestServer, example_meeting};
use serde_json::{Value, json};

/// A logged-in secretariat device: its `Authorization` header and its key.
async fn secretariat(server: &TestServer) -> anyhow::Result<(String, PublicKey)> {
    http::secretariat(http::address_of(&server.url), &server.store().await?).await
}

/// The refusal's status, reason and field.
fn refused(response: &Response) -> (u16, String, Option<String>) {
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("a JSON refusal, not {:?}: {e}", response.body));
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a refusal explains itself: {body}"
    );
    (
        response.status,
        body["reason"].as_str().unwrap().to_owned(),
        body["field"].as_str().map(str::to_owned),
    )
}

fn refusal(status: u16, reason: &str, field: Option<&str>) -> (u16, String, Option<String>) {
    (status, reason.to_owned(), field.map(str::to_owned))
}

/// The first item of the agenda that `wanted` picks.
fn item(agenda: &[ItemView], wanted: impl Fn(&ItemView) -> bool) -> u32 {
    agenda
        .iter()
        .find(|i| wanted(i))
        .expect("the example meeting has such an item")
        .index
}

fn open_yes_no(i: &ItemView) -> bool {
    i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Named)
}

async fn post(addr: &str, bearer: &str, item: u32, counts: &Value) -> anyhow::Result<Response> {
    let path = format!(
        "/api/secretariat/meetings/{}/items/{item}/by-hand",
        example_meeting()
    );
    http::post_json(addr, &path, &[("Authorization", bearer)], Some(counts)).await
}

fn counts(present: i64, yes: i64, no: i64, abstain: i64) -> Value {
    json!({ "present": present, "yes": yes, "no": no, "abstain": abstain, "by": "Lê Thị Thu" })
}

async fn watcher(server: &TestServer) -> anyhow::Result<Session> {
    let mut hall = Client::connect(&server.url)
        .await?
        .watch(&example_meeting())
        .await?;
    hall.wait_until(|s| s.snapshot.is_some()).await?;
    Ok(hall)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_show_of_hands_is_recorded_shown_at_once_exported_and_verified() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let (bearer, device) = secretariat(&server).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let mut hall = watcher(&server).await?;
        let agenda = hall.meeting.agenda.clone();
        let total = hall.meeting.total_seats;
        let target = item(&agenda, open_yes_no);
        chair
            .chair(gavel_protocol::messages::ChairCommand::SetItem { item: target })
            .await?;

        // The devices failed; the hall raised hands: most of it for.
        let present = i64::from(total) - 2;
        let yes = present - 3;
        let recorded = post(addr, &bearer, target, &counts(present, yes, 2, 1)).await?;
        assert_eq!(recorded.status, 200, "{}: {}", db.name, recorded.body);
        let recorded: Value = serde_json::from_str(&recorded.body)?;
        assert_eq!(recorded["status"], "closed");
        assert_eq!(recorded["by_hand"]["by"], "Lê Thị Thu");
        assert_eq!(recorded["by_hand"]["device"], json!(device));

        // The hall screen and the chair's console have it at once, marked.
        for screen in [&mut hall, &mut chair] {
            screen
                .wait_until(|s| s.round().is_some_and(|r| r.by_hand.is_some()))
                .await?;
            let round = screen.state.round().unwrap();
            assert_eq!((round.item, round.status), (target, RoundStatus::Closed));
            let by_hand = round.by_hand.as_ref().unwrap();
            assert_eq!(
                (by_hand.by.as_str(), by_hand.device),
                ("Lê Thị Thu", device)
            );
            let tally = round.tally().expect("a tally");
            assert_eq!(
                (tally.counts.present, tally.counts.yes, tally.counts.no),
                (present as u32, yes as u32, 2)
            );
            assert_eq!(tally.counts.total_seats, total);
            assert!(tally.passed, "{tally:?}");
            let state = &screen.state.snapshot.as_ref().unwrap().items[target as usize];
            assert_eq!(state.status, ItemStatus::Passed);
            assert_eq!(state.by_hand.as_ref(), Some(by_hand));
        }

        // Stored as a round with no ballots and one audit entry.
        let store = server.store().await?;
        let rounds = store.rounds(&example_meeting()).await?;
        let [round] = &rounds[..] else {
            anyhow::bail!("{}: one round, not {rounds:?}", db.name);
        };
        assert_eq!(round.by_hand.as_ref().map(|b| b.device), Some(device));
        assert!(store.ballots(round.id).await?.is_empty());
        let entries: Vec<&'static str> = store
            .audit_log(&example_meeting())
            .await?
            .iter()
            .map(|e| e.event.kind())
            .filter(|k| k.contains("round") || k.contains("hand"))
            .collect();
        assert_eq!(entries, ["result_recorded_by_hand"], "{}", db.name);

        // The item's result stands: recording it again is refused.
        let again = post(addr, &bearer, target, &counts(present, 1, 0, 0)).await?;
        assert_eq!(
            refused(&again),
            refusal(409, "item_decided", None),
            "{}",
            db.name
        );

        // A vote open on the devices holds the secretariat off.
        let other = item(&agenda, |i| open_yes_no(i) && i.index != target);
        open_round(&mut chair, other, 60).await?;
        let held_off = post(addr, &bearer, other, &counts(present, 1, 0, 0)).await?;
        assert_eq!(
            refused(&held_off),
            refusal(409, "round_open", None),
            "{}",
            db.name
        );
        chair
            .chair(gavel_protocol::messages::ChairCommand::Void)
            .await?;

        // The record verifies, and says the round was recorded by hand.
        let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
        let mismatches = verify(&bundle);
        assert!(mismatches.is_empty(), "{}: {mismatches:?}", db.name);
        tampering_is_caught(&bundle, round.id);

        // Downloads from the secretariat's app: the record, the results
        // table and the minutes, each saying so.
        let auth = [("Authorization", bearer.as_str())];
        let base = format!("/api/secretariat/meetings/{}", example_meeting());
        let (file, headers) = http::get_with(addr, &format!("{base}/record"), &auth).await?;
        assert_eq!(file.status, 200, "{}", file.body);
        assert!(
            headers
                .get("content-disposition")
                .is_some_and(|d| d.contains(".record.json"))
        );
        let downloaded = Bundle::from_json(&file.body)?;
        assert!(verify(&downloaded).is_empty());
        let (csv, headers) =
            http::get_with(addr, &format!("{base}/results.csv?lang=vi"), &auth).await?;
        assert_eq!(csv.status, 200, "{}", csv.body);
        assert!(
            headers
                .get("content-type")
                .is_some_and(|t| t.starts_with("text/csv"))
        );
        assert!(csv.body.contains("Kiểm đếm thủ công"), "{}", csv.body);
        assert!(csv.body.contains("Lê Thị Thu, "), "{}", csv.body);
        let (minutes, _) = http::get_with(addr, &format!("{base}/minutes?lang=en"), &auth).await?;
        assert_eq!(minutes.status, 200);
        assert!(minutes.body.contains("Recorded by hand"));
        // Once the session started, its changes are listed: this one too.
        assert!(minutes.body.contains("Changes during the session"));
        assert!(
            minutes.body.contains(&format!(
                "The result of item {} was recorded by hand by Lê Thị Thu.",
                target + 1
            )),
            "{}",
            minutes.body
        );
        let (results, _) = http::get_with(addr, &format!("{base}/results"), &auth).await?;
        let results: Value = serde_json::from_str(&results.body)?;
        let line = &results["items"][target as usize];
        assert_eq!(line["ballot"], "yes_no");
        assert_eq!(line["rounds"][0]["by_hand"]["by"], "Lê Thị Thu");
        let (wrong, _) = http::get_with(addr, &format!("{base}/minutes?lang=fr"), &auth).await?;
        assert_eq!(refused(&wrong), refusal(422, "invalid_language", None));
        let (anonymous, _) = http::get_with(addr, &format!("{base}/record"), &[]).await?;
        assert_eq!(refused(&anonymous), refusal(401, "not_logged_in", None));

        // A restarted hub shows it again.
        drop((hall, chair));
        let server = server.crash_and_restart()?;
        let mut hall = watcher(&server).await?;
        hall.wait_until(|s| {
            s.snapshot.as_ref().is_some_and(|s| {
                s.items[target as usize].by_hand.is_some()
                    && s.round
                        .as_ref()
                        .is_some_and(|r| r.status == RoundStatus::Voided)
            })
        })
        .await?;
        server.stop()?;
    }
    Ok(())
}

/// Recomputes every hash after an edit, as a forger with the whole file would.
fn rehash(bundle: &mut Bundle) {
    let meeting = bundle.meeting.clone();
    let mut prev = None;
    for e in &mut bundle.chain {
        let next = Entry::next(&meeting, prev, e.at, e.event.clone());
        *e = next;
        prev = Some((e.seq, e.hash));
    }
}

fn round_mut(b: &mut Bundle, id: gavel_protocol::RoundId) -> &mut gavel_records::bundle::Round {
    b.rounds.iter_mut().find(|r| r.id == id).unwrap()
}

fn tampering_is_caught(bundle: &Bundle, id: gavel_protocol::RoundId) {
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Bundle)>,
        Box<dyn Fn(&Mismatch) -> bool>,
    );
    let cases: Vec<Case> = vec![
        (
            "a yes vote added to the count recorded by hand",
            Box::new(move |b| {
                if let Some(RoundResult::Tally(t)) = &mut round_mut(b, id).result {
                    t.counts.yes += 1;
                    t.counts.present += 1;
                }
            }),
            Box::new(|m| matches!(m, Mismatch::TallyNotChained { .. })),
        ),
        (
            "the count changed in the chain too, every hash recomputed",
            Box::new(move |b| {
                for e in &mut b.chain {
                    if let Event::ResultRecordedByHand {
                        result: RoundResult::Tally(t),
                        ..
                    } = &mut e.event
                    {
                        t.counts.no += t.counts.yes;
                        t.counts.yes = 0;
                    }
                }
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::HeadDiffers { .. })),
        ),
        (
            "the decision turned, in the bundle and in the chain",
            Box::new(move |b| {
                if let Some(RoundResult::Tally(t)) = &mut round_mut(b, id).result {
                    t.passed = !t.passed;
                }
                for e in &mut b.chain {
                    if let Event::ResultRecordedByHand {
                        result: RoundResult::Tally(t),
                        ..
                    } = &mut e.event
                    {
                        t.passed = !t.passed;
                    }
                }
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::TallyDecision { .. })),
        ),
        (
            "more hands than people present",
            Box::new(move |b| {
                if let Some(RoundResult::Tally(t)) = &mut round_mut(b, id).result {
                    t.counts.present = 1;
                }
            }),
            Box::new(|m| matches!(m, Mismatch::HandCountImpossible { .. })),
        ),
        (
            "the mark of a count by hand removed",
            Box::new(move |b| round_mut(b, id).by_hand = None),
            Box::new(|m| matches!(m, Mismatch::ByHandNotChained { .. })),
        ),
        (
            "someone else named as having recorded it",
            Box::new(move |b| {
                if let Some(by_hand) = &mut round_mut(b, id).by_hand {
                    by_hand.by = "Người khác".to_owned();
                }
            }),
            Box::new(|m| matches!(m, Mismatch::ByHandNotChained { .. })),
        ),
        (
            "a ballot slipped in behind a count by hand",
            Box::new(move |b| {
                let ballot = b
                    .rounds
                    .iter()
                    .flat_map(|r| r.ballots.clone())
                    .next()
                    .unwrap_or_else(|| gavel_records::bundle::NamedBallot {
                        seat: 1,
                        choice: Some(gavel_protocol::Choice::Yes),
                        paper: None,
                        seq: 1,
                        recorded_at: 1,
                        signature: Signature::from_bytes(&[0; 64]),
                        receipt: Signature::from_bytes(&[0; 64]),
                    });
                round_mut(b, id).ballots.push(ballot);
            }),
            Box::new(|m| matches!(m, Mismatch::BallotsOnHandCount { .. })),
        ),
    ];
    for (name, change, expect) in cases {
        let mut tampered = bundle.clone();
        change(&mut tampered);
        let found = verify(&tampered);
        assert!(found.iter().any(&expect), "{name}: not caught, {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_and_items_that_cannot_be_recorded_are_refused_with_their_reason()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let (bearer, _) = secretariat(&server).await?;
        let hall = watcher(&server).await?;
        let agenda = hall.meeting.agenda.clone();
        let total = i64::from(hall.meeting.total_seats);
        let target = item(&agenda, open_yes_no);
        let cases = [
            (
                counts(10, -1, 0, 0),
                refusal(422, "invalid_counts", Some("yes")),
            ),
            (
                json!({ "present": 10, "yes": 1, "no": "", "abstain": 0, "by": "A" }),
                refusal(422, "invalid_counts", Some("no")),
            ),
            (
                json!({ "present": 10.5, "yes": 1, "no": 0, "abstain": 0, "by": "A" }),
                refusal(422, "invalid_counts", Some("present")),
            ),
            (
                counts(total + 1, 1, 0, 0),
                refusal(422, "invalid_counts", Some("present")),
            ),
            (
                counts(10, 6, 4, 1),
                refusal(422, "invalid_counts", Some("counts")),
            ),
            (
                json!({ "present": 10, "yes": 1, "no": 0, "abstain": 0, "by": " " }),
                refusal(422, "invalid_counts", Some("by")),
            ),
        ];
        for (body, expected) in cases {
            let answer = post(addr, &bearer, target, &body).await?;
            assert_eq!(refused(&answer), expected, "{}: {body}", db.name);
        }
        let report = item(&agenda, |i| i.vote.is_none());
        let by_item = [
            (agenda.len() as u32, refusal(404, "unknown_item", None)),
            (report, refusal(422, "not_voted", None)),
        ];
        for (index, expected) in by_item {
            let answer = post(addr, &bearer, index, &counts(10, 1, 0, 0)).await?;
            assert_eq!(refused(&answer), expected, "{}: item {index}", db.name);
        }
        if agenda.iter().any(|i| i.paper.is_some()) {
            let list = item(&agenda, |i| i.paper.is_some());
            let answer = post(addr, &bearer, list, &counts(10, 1, 0, 0)).await?;
            assert_eq!(refused(&answer), refusal(422, "list_ballot", None));
        }
        let secret_yes_no = |i: &ItemView| {
            i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Secret)
        };
        if agenda.iter().any(secret_yes_no) {
            let secret = item(&agenda, secret_yes_no);
            let answer = post(addr, &bearer, secret, &counts(10, 1, 0, 0)).await?;
            assert_eq!(refused(&answer), refusal(422, "secret_item", None));
        }
        if let Some(secret_list) = agenda
            .iter()
            .find(|i| i.paper.is_some() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Secret))
        {
            // A secret ballot on a list is refused for its list first.
            let answer = post(addr, &bearer, secret_list.index, &counts(10, 1, 0, 0)).await?;
            assert_eq!(refused(&answer), refusal(422, "list_ballot", None));
        }
        let anonymous = http::post_json(
            addr,
            &format!(
                "/api/secretariat/meetings/{}/items/{target}/by-hand",
                example_meeting()
            ),
            &[],
            Some(&counts(10, 1, 0, 0)),
        )
        .await?;
        assert_eq!(refused(&anonymous), refusal(401, "not_logged_in", None));
        // Nothing refused was stored.
        let store = server.store().await?;
        assert!(store.rounds(&example_meeting()).await?.is_empty());
        server.stop()?;
    }
    Ok(())
}
