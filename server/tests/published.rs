//! A secret round's published list over HTTP (PROTOCOL.md §6.4): refused
//! while the round is open and while its result awaits the counting board,
//! served once announced, sorted by tracker and without a seat, holding
//! every voter's last ballot under the tracker their device computes, with
//! the choice they cast; the same after a restart, read from the store.
//! Unknown rounds (another meeting's included), named rounds and voided
//! rounds are refused with their reason. The real
//! binary on each store; the real Rust client fetches and checks.

use gavel_client::published::{self, Check};
use gavel_client::{Session, Trust};
use gavel_protocol::Choice::{Abstain, No, Yes};
use gavel_protocol::messages::ChairCommand;
use gavel_protocol::paper::Vote;
use gavel_protocol::published::{ListRefusal, PublishedList};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, RoundId, Signature, Tracker};
use gavel_server::meeting::EXAMPLE;
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::http;
use gavel_tests::process::{self, Gavel, Prepared, prepare_example};
use serde_json::Value;

/// The example's seats: enough for its counting board (7, 15, 23).
const SEATS: u32 = 23;

fn serve(dir: &std::path::Path, url: &str) -> std::process::Command {
    process::serve(env!("CARGO_BIN_EXE_gavel"), dir, Some(url))
}

fn path(prepared: &Prepared, round: RoundId) -> String {
    format!("/api/meetings/{}/rounds/{round}/trackers", prepared.meeting)
}

/// The list's status and the refusal's `reason`, if refused.
async fn refusal(addr: &str, path: &str) -> anyhow::Result<(u16, Option<ListRefusal>)> {
    let response = http::get(addr, path).await?;
    let body: Value = serde_json::from_str(&response.body)?;
    let reason = serde_json::from_value(body["reason"].clone()).ok();
    Ok((response.status, reason))
}

/// Casts `choice` from `seat`, keeping the signature the tracker is drawn from.
async fn cast(seat: &mut Session, round: RoundId, choice: Choice) -> anyhow::Result<Signature> {
    let seq = seat.next_seq();
    let signature = seat.sign_ballot(round, choice, seq)?;
    seat.send_ballot(round, choice, seq, signature.clone())
        .await?;
    Ok(signature)
}

/// What the list must show: sorted, no seat in any entry, four entries,
/// each voter's last ballot counted as cast, the replaced one absent.
fn check_list(
    raw: &str,
    round: RoundId,
    last: &[(Signature, Choice)],
    replaced: &Signature,
) -> anyhow::Result<PublishedList> {
    let json: Value = serde_json::from_str(raw)?;
    for entry in json["ballots"].as_array().expect("a list of ballots") {
        let keys: Vec<&String> = entry.as_object().expect("an object").keys().collect();
        anyhow::ensure!(
            keys == ["choice", "tracker"],
            "an entry is a tracker and a choice: {entry}"
        );
    }
    let list: PublishedList = serde_json::from_str(raw)?;
    anyhow::ensure!(list.round == round, "the round named");
    let trackers: Vec<Tracker> = list.ballots.iter().map(|b| b.tracker).collect();
    let mut sorted = trackers.clone();
    sorted.sort();
    anyhow::ensure!(trackers == sorted, "sorted by tracker: {trackers:?}");
    anyhow::ensure!(list.ballots.len() == last.len(), "one entry per voter");
    for (signature, choice) in last {
        let seen = published::check(&list, &Tracker::of(signature), &Vote::Choice(*choice));
        anyhow::ensure!(seen == Check::Counted, "{choice:?}: {seen:?}");
    }
    let seen = published::check(&list, &Tracker::of(replaced), &Vote::Choice(Yes));
    anyhow::ensure!(seen == Check::Missing, "a replaced ballot: {seen:?}");
    Ok(list)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rounds_list_is_served_once_announced_and_after_a_restart() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, SEATS).await?;
        // A second meeting on the same server, whose rounds the first's are not.
        let other = MeetingId::parse("another-council").map_err(anyhow::Error::msg)?;
        let store = Store::connect(&db.url).await?;
        let definition = EXAMPLE.replacen(
            &format!("id = \"{}\"", prepared.meeting),
            &format!("id = \"{other}\""),
            1,
        );
        store.add_meeting(&other, &definition).await?;
        store.close().await;
        let mut gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let (url, addr) = (gavel.url(), gavel.addr.clone());
        let mut console = prepared.chair(&url).await?;
        let mut seats = Vec::new();
        for seat in 1..=4 {
            let mut session = prepared.seat(&url, seat).await?;
            session.check_in().await?;
            seats.push(session);
        }

        let unknown = path(&prepared, RoundId([9; 16]));
        assert_eq!(
            refusal(&addr, &unknown).await?,
            (404, Some(ListRefusal::UnknownRound)),
            "{}",
            db.name
        );
        let elsewhere = format!(
            "/api/meetings/no-such-meeting/rounds/{}/trackers",
            RoundId([9; 16])
        );
        assert_eq!(
            refusal(&addr, &elsewhere).await?,
            (404, Some(ListRefusal::UnknownRound)),
            "{}",
            db.name
        );

        let named = prepared.item(Secrecy::Named);
        let (named_round, _) =
            process::vote(&mut console, &mut seats, named, &[Yes, No], true).await?;
        assert_eq!(
            refusal(&addr, &path(&prepared, named_round)).await?,
            (404, Some(ListRefusal::NotSecret)),
            "{}: a named round is published by seat in the record",
            db.name
        );

        let item = prepared.item(Secrecy::Secret);
        console.chair(ChairCommand::SetItem { item }).await?;
        console
            .chair(ChairCommand::Open {
                window_seconds: Some(300),
            })
            .await?;
        let round = console.state.open_round().expect("open").id;
        for seat in &mut seats {
            seat.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
                .await?;
        }
        let list_path = path(&prepared, round);
        let replaced = cast(&mut seats[2], round, Yes).await?;
        let mut last = Vec::new();
        for (i, choice) in [Yes, No, No, Abstain].into_iter().enumerate() {
            last.push((cast(&mut seats[i], round, choice).await?, choice));
        }
        assert_eq!(
            refusal(&addr, &list_path).await?,
            (409, Some(ListRefusal::NotClosed)),
            "{}",
            db.name
        );
        console.chair(ChairCommand::Close).await?;
        assert_eq!(
            refusal(&addr, &list_path).await?,
            (409, Some(ListRefusal::NotAnnounced)),
            "{}: the counting board has not confirmed the count",
            db.name
        );
        prepared.announce(&url, &mut console).await?;

        let view = http::get(&addr, &format!("/api/meetings/{other}/view")).await?;
        assert_eq!(view.status, 200, "{}: the server runs {other} too", db.name);
        let elsewhere = format!("/api/meetings/{other}/rounds/{round}/trackers");
        assert_eq!(
            refusal(&addr, &elsewhere).await?,
            (404, Some(ListRefusal::UnknownRound)),
            "{}: another meeting's round",
            db.name
        );

        let served = http::get(&addr, &list_path).await?;
        assert_eq!(served.status, 200, "{}: {}", db.name, served.body);
        let before =
            check_list(&served.body, round, &last, &replaced).map_err(|e| e.context(db.name))?;
        let fetched = published::fetch(&Trust::default(), &url, &prepared.meeting, round).await?;
        assert_eq!(
            fetched,
            Ok(before.clone()),
            "{}: the client reads it",
            db.name
        );

        // A voided round counted nothing: it has no list.
        console
            .chair(ChairCommand::Open {
                window_seconds: Some(300),
            })
            .await?;
        let voided = console.state.open_round().expect("open again").id;
        console.chair(ChairCommand::Void).await?;
        assert_eq!(
            refusal(&addr, &path(&prepared, voided)).await?,
            (409, Some(ListRefusal::Voided)),
            "{}",
            db.name
        );

        drop((console, seats));
        assert!(gavel.terminate()?.success());
        let gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let after = http::get(&gavel.addr, &list_path).await?;
        assert_eq!(after.status, 200, "{}: {}", db.name, after.body);
        let after =
            check_list(&after.body, round, &last, &replaced).map_err(|e| e.context(db.name))?;
        assert_eq!(after, before, "{}: the same list after a restart", db.name);
    }
    Ok(())
}
