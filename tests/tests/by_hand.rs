//! A result recorded by hand, on a real server and each store: when the
//! devices fail the secretariat enters the counts of a show of hands for an
//! item through its API, the hall screen (a watcher) and the chair's console
//! get it at once marked as recorded by hand, by whom and when, the store
//! keeps it as a round with no ballots and one audit entry, a restarted hub
//! shows it again, the exported record verifies and every tampering with it
//! is caught, and the record, the minutes and the results table download
//! from the secretariat's app saying it was recorded by hand. A secret item,
//! an election and a confidence rating voted on paper are recorded from the
//! counting board's figures, decided by the devices' rules, shown at once,
//! verified and printed with the board's record. Impossible figures, items
//! that cannot be recorded this way and a vote open on the devices are each
//! refused with their reason (and, for figures, the field), and so is
//! recording again an item whose result stands.

use gavel_client::{Client, Session};
use gavel_protocol::messages::{ItemStatus, ItemView, RoundStatus};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::results::PaperResult;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Principal, Signature};
use gavel_records::bundle::Bundle;
use gavel_records::chain::{Entry, Event};
use gavel_records::verify::{Mismatch, verify};
use gavel_server::export;
use gavel_tests::chair::open_round;
use gavel_tests::databases;
use gavel_tests::http::{self, Response};
use gavel_tests::secretariat;
use gavel_tests::server::{TestServer, example_meeting};
use serde_json::{Value, json};

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

/// A paper vote's figures: those present, the counting board's ballots
/// (issued, returned, invalid) and `votes` (yes, no and abstain, or a
/// list's `marks`).
fn paper(present: i64, (issued, returned, invalid): (i64, Value, i64), votes: Value) -> Value {
    let mut body = json!({
        "present": present,
        "ballots": { "issued": issued, "returned": returned, "invalid": invalid },
        "by": "Lê Thị Thu",
    });
    body.as_object_mut()
        .unwrap()
        .extend(votes.as_object().unwrap().clone());
    body
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
        let (bearer, device) = secretariat::log_in(&server).await?;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counting_boards_figures_of_paper_votes_are_recorded_decided_and_verified()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let (bearer, _) = secretariat::log_in(&server).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let mut hall = watcher(&server).await?;
        let agenda = hall.meeting.agenda.clone();
        let of_kind = |kind: PaperKind| {
            item(&agenda, |i| {
                i.paper.as_ref().is_some_and(|p| p.kind == kind)
            })
        };
        let secret = item(&agenda, |i| {
            i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Secret)
        });
        let (election, rating) = (of_kind(PaperKind::Election), of_kind(PaperKind::Rating));
        let candidates = agenda[election as usize]
            .paper
            .as_ref()
            .unwrap()
            .entries
            .len();
        let officials = agenda[rating as usize]
            .paper
            .as_ref()
            .unwrap()
            .entries
            .len();

        // A secret yes/no item: the board's figures, no seat anywhere. It is
        // not provisional: the board counted it before it was entered, so
        // the hall sees its result at once.
        let body = paper(
            38,
            (38, json!(37), 1),
            json!({ "yes": 30, "no": 5, "abstain": 1 }),
        );
        let answer = post(addr, &bearer, secret, &body).await?;
        assert_eq!(answer.status, 200, "{}: {}", db.name, answer.body);
        let answer: Value = serde_json::from_str(&answer.body)?;
        assert_eq!(
            answer["by_hand"]["ballots"],
            json!({ "issued": 38, "returned": 37, "invalid": 1 })
        );
        hall.wait_until(|s| {
            s.snapshot.as_ref().is_some_and(|s| {
                s.items[secret as usize].status == ItemStatus::Passed
                    && s.items[secret as usize].result.is_some()
            })
        })
        .await?;

        // An election: one approval count per candidate.
        let mut approvals = vec![vec![0]; candidates];
        approvals[0] = vec![24];
        approvals[1] = vec![14];
        let body = paper(40, (40, json!(39), 1), json!({ "marks": approvals }));
        let answer = post(addr, &bearer, election, &body).await?;
        assert_eq!(answer.status, 200, "{}: {}", db.name, answer.body);
        for screen in [&mut hall, &mut chair] {
            screen
                .wait_until(|s| s.round().is_some_and(|r| r.item == election))
                .await?;
            let round = screen.state.round().unwrap();
            let Some(RoundResult::Paper(PaperResult::Election(e))) = &round.result else {
                anyhow::bail!("{}: an election's result, not {:?}", db.name, round.result);
            };
            assert_eq!(e.elected, [0], "{}", db.name);
            assert_eq!(e.turnout.papers, 38, "the valid ballots");
            assert_eq!(e.approvals[..2], [24, 14]);
            let ballots = round.by_hand.as_ref().and_then(|b| b.ballots);
            assert_eq!(ballots.map(|b| b.valid()), Some(38));
            let state = &screen.state.snapshot.as_ref().unwrap().items[election as usize];
            assert_eq!(state.status, ItemStatus::Counted);
        }

        // A confidence rating: each official's three levels.
        let mut levels = vec![vec![30, 5, 2]; officials];
        levels[1] = vec![2, 10, 27];
        let body = paper(40, (40, json!(40), 0), json!({ "marks": levels }));
        let answer = post(addr, &bearer, rating, &body).await?;
        assert_eq!(answer.status, 200, "{}: {}", db.name, answer.body);
        let answer: Value = serde_json::from_str(&answer.body)?;
        assert_eq!(answer["result"]["kind"], "rating");
        assert_eq!(answer["result"]["ratings"][1]["low_two_thirds"], true);
        assert_eq!(answer["result"]["ratings"][0]["low_over_half"], false);

        // The record verifies; the figures are in it, and tampering with
        // them is caught.
        let store = server.store().await?;
        let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
        let mismatches = verify(&bundle);
        assert!(mismatches.is_empty(), "{}: {mismatches:?}", db.name);
        let id_of = |index: u32| bundle.rounds.iter().find(|r| r.item == index).unwrap().id;
        paper_tampering_is_caught(&bundle, id_of(secret), id_of(election));

        // The minutes print the board's record of each, counted on paper;
        // the results table has the figures.
        let auth = [("Authorization", bearer.as_str())];
        let base = format!("/api/secretariat/meetings/{}", example_meeting());
        let (minutes, _) = http::get_with(addr, &format!("{base}/minutes?lang=vi"), &auth).await?;
        assert_eq!(minutes.status, 200);
        let counted = "Ban kiểm phiếu kiểm phiếu và lập biên bản";
        assert_eq!(minutes.body.matches(counted).count(), 3, "{}", db.name);
        assert!(minutes.body.matches("Biên bản kiểm phiếu").count() >= 3);
        let invalid = "<tr><th>Số phiếu không hợp lệ</th><td class=\"num\">1</td>";
        assert_eq!(minutes.body.matches(invalid).count(), 2, "{}", minutes.body);
        let (csv, _) = http::get_with(addr, &format!("{base}/results.csv?lang=en"), &auth).await?;
        assert!(
            csv.body.contains("Ballot papers issued: 40, Ballot papers returned: 39, Valid ballot papers: 38, Invalid ballot papers: 1"),
            "{}",
            csv.body
        );
        server.stop()?;
    }
    Ok(())
}

fn paper_tampering_is_caught(
    bundle: &Bundle,
    secret: gavel_protocol::RoundId,
    election: gavel_protocol::RoundId,
) {
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Bundle)>,
        Box<dyn Fn(&Mismatch) -> bool>,
    );
    let in_chain = |b: &mut Bundle, id: gavel_protocol::RoundId, edit: &dyn Fn(&mut Event)| {
        for e in &mut b.chain {
            if matches!(e.event, Event::ResultRecordedByHand { round, .. } if round == id) {
                edit(&mut e.event);
            }
        }
    };
    let cases: Vec<Case> = vec![
        (
            "an invalid ballot made valid in the bundle",
            Box::new(move |b| {
                if let Some(by_hand) = &mut round_mut(b, election).by_hand {
                    by_hand.ballots.as_mut().unwrap().invalid = 0;
                }
            }),
            Box::new(|m| matches!(m, Mismatch::ByHandNotChained { .. })),
        ),
        (
            "more invalid ballots than returned, in the bundle and the chain",
            Box::new(move |b| {
                let edit = |by_hand: &mut gavel_protocol::messages::ByHand| {
                    by_hand.ballots.as_mut().unwrap().invalid = 45;
                };
                edit(round_mut(b, election).by_hand.as_mut().unwrap());
                in_chain(b, election, &|e| {
                    if let Event::ResultRecordedByHand { by_hand, .. } = e {
                        edit(by_hand);
                    }
                });
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::HandCountImpossible { .. })),
        ),
        (
            "the runner-up declared elected, in the bundle and the chain",
            Box::new(move |b| {
                let edit = |result: &mut RoundResult| {
                    if let RoundResult::Paper(PaperResult::Election(e)) = result {
                        e.elected = vec![1];
                    }
                };
                edit(round_mut(b, election).result.as_mut().unwrap());
                in_chain(b, election, &|e| {
                    if let Event::ResultRecordedByHand { result, .. } = e {
                        edit(result);
                    }
                });
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::PaperResult { .. })),
        ),
        (
            "the secret item's figures dropped, in the bundle and the chain",
            Box::new(move |b| {
                round_mut(b, secret).by_hand.as_mut().unwrap().ballots = None;
                in_chain(b, secret, &|e| {
                    if let Event::ResultRecordedByHand { by_hand, .. } = e {
                        by_hand.ballots = None;
                    }
                });
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::HandCountImpossible { .. })),
        ),
        (
            "more yes votes than valid ballots, in the bundle and the chain",
            Box::new(move |b| {
                let edit = |result: &mut RoundResult| {
                    if let RoundResult::Tally(t) = result {
                        t.counts.yes += 2;
                    }
                };
                edit(round_mut(b, secret).result.as_mut().unwrap());
                in_chain(b, secret, &|e| {
                    if let Event::ResultRecordedByHand { result, .. } = e {
                        edit(result);
                    }
                });
                rehash(b);
            }),
            Box::new(|m| matches!(m, Mismatch::HandCountImpossible { .. })),
        ),
    ];
    for (name, change, expect) in cases {
        let mut tampered = bundle.clone();
        change(&mut tampered);
        let found = verify(&tampered);
        assert!(found.iter().any(&expect), "{name}: not caught, {found:?}");
    }
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
        let (bearer, _) = secretariat::log_in(&server).await?;
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
        // A paper vote needs the counting board's figures, each possible.
        let secret_yes_no = |i: &ItemView| {
            i.paper.is_none() && i.vote.is_some_and(|v| v.secrecy == Secrecy::Secret)
        };
        let secret = item(&agenda, secret_yes_no);
        let election = item(&agenda, |i| {
            i.paper
                .as_ref()
                .is_some_and(|p| p.kind == PaperKind::Election)
        });
        let candidates = agenda[election as usize]
            .paper
            .as_ref()
            .unwrap()
            .entries
            .len();
        let marks = |rows: Vec<Vec<i64>>| json!(rows);
        let zeros = vec![vec![0i64]; candidates];
        let mut over = zeros.clone();
        over[1] = vec![39];
        let on_paper = [
            (secret, counts(10, 1, 0, 0), Some("ballots")),
            (election, counts(10, 1, 0, 0), Some("ballots")),
            (
                secret,
                paper(
                    38,
                    (38, json!(37), 2),
                    json!({ "yes": 30, "no": 5, "abstain": 1 }),
                ),
                Some("counts"),
            ),
            (
                election,
                paper(
                    40,
                    (40, json!(41), 0),
                    json!({ "marks": marks(zeros.clone()) }),
                ),
                Some("ballots.returned"),
            ),
            (
                election,
                paper(
                    30,
                    (31, json!(30), 0),
                    json!({ "marks": marks(zeros.clone()) }),
                ),
                Some("ballots.issued"),
            ),
            (
                election,
                paper(40, (40, json!(39), 1), json!({ "marks": marks(over) })),
                Some("marks.1"),
            ),
            (
                election,
                paper(
                    40,
                    (40, json!(39), 1),
                    json!({ "marks": marks(zeros[1..].to_vec()) }),
                ),
                Some("marks"),
            ),
            (
                election,
                paper(40, (40, json!(39), 1), json!({ "marks": [[1], [-1]] })),
                Some("marks.1"),
            ),
            (
                election,
                paper(40, (40, json!(""), 1), json!({ "marks": marks(zeros) })),
                Some("ballots.returned"),
            ),
        ];
        for (index, body, field) in on_paper {
            let answer = post(addr, &bearer, index, &body).await?;
            assert_eq!(
                refused(&answer),
                refusal(422, "invalid_counts", field),
                "{}: item {index}, {body}",
                db.name
            );
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
