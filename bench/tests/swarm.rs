//! Small `gavel-swarm` runs as smoke tests of the benchmark tooling, against
//! a real server on each store: 200 tablets, each with its own key,
//! burst-vote, 100 tablets run the floor, and 50 cast a confidence paper of
//! 30 officials after a yes/no ballot, both secret, with a counting board.
//! No timing is asserted (the suite runs on busy machines); what must hold
//! is that every ballot is acknowledged, every tablet receives the result,
//! and the committed tally counts all 200; that every request reaches the
//! chair and every change of turn reaches every tablet; that every paper is
//! acknowledged and counted, and every result confirmed, announced and seen.

use gavel_bench::floor::{self, FloorRun};
use gavel_bench::papers::{self, PapersRun};
use gavel_bench::swarm::{self, Scenario, Target};
use gavel_protocol::ServerMsg;
use gavel_protocol::messages::RoundStatus;
use gavel_protocol::results::{PaperResult, RoundResult};
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::roster::{Roster, public_keys};
use gavel_tests::server::TestServer;
use std::time::Duration;

const TABLETS: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_tablets_burst_vote_and_all_are_counted() -> anyhow::Result<()> {
    for db in databases().await {
        let roster = Roster::generate(TABLETS);
        let store = Store::connect(&db.url).await?;
        roster.import(&store).await?;
        let server = TestServer::for_hall(&db.url, TABLETS as usize + 10);
        let target = Target {
            url: &server.url,
            roster: &roster,
            chair_code: None,
            server_pid: None,
            verify_receipts: 1,
        };
        let report = swarm::run(
            &target,
            Scenario::Burst {
                tablets: TABLETS,
                within: Duration::from_secs(1),
            },
        )
        .await?;
        let name = db.name;
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        assert_eq!(report.ballots_sent, u64::from(TABLETS), "{name}");
        assert_eq!(report.ballots_acked, u64::from(TABLETS), "{name}");
        assert_eq!(
            report.bad_receipts, 0,
            "{name}: every receipt checked verifies"
        );
        assert_eq!(report.tablets_with_result, Some(TABLETS), "{name}");

        let rounds = store.rounds(&roster.meeting).await?;
        assert_eq!(rounds.len(), 1, "{name}");
        assert_eq!(rounds[0].status, RoundStatus::Closed, "{name}");
        let counts = rounds[0]
            .result
            .as_ref()
            .and_then(RoundResult::tally)
            .expect("a closed round has a tally")
            .counts;
        assert_eq!(counts.yes + counts.no + counts.abstain, TABLETS, "{name}");
        assert_eq!(
            store.ballots(rounds[0].id).await?.len(),
            TABLETS as usize,
            "{name}"
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_reaches_the_chair_and_every_turn_every_tablet() -> anyhow::Result<()> {
    const FLOOR_TABLETS: u32 = 100;
    const TURNS: u32 = 5;
    for db in databases().await {
        let roster = Roster::generate(FLOOR_TABLETS);
        let store = Store::connect(&db.url).await?;
        roster.import(&store).await?;
        let server = TestServer::for_hall(&db.url, FLOOR_TABLETS as usize + 10);
        let target = Target {
            url: &server.url,
            roster: &roster,
            chair_code: None,
            server_pid: None,
            verify_receipts: 1,
        };
        let sample = tempfile::NamedTempFile::new()?;
        let report = floor::run(
            &target,
            FloorRun {
                tablets: FLOOR_TABLETS,
                requests: 10,
                request_every: Duration::from_millis(10),
                turns: TURNS,
                change_every: Duration::from_millis(50),
                sample: Some(sample.path().to_owned()),
            },
        )
        .await?;
        let name = db.name;
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        let requests = report.request_to_chair_ms.expect("requests were timed");
        assert_eq!(requests.count, 10, "{name}");
        // A turn given and a turn ended, each a change every tablet times.
        assert_eq!(report.updates, Some(u64::from(2 * TURNS)), "{name}");
        assert_eq!(
            report.updates_to_every_tablet,
            Some(u64::from(2 * TURNS)),
            "{name}"
        );
        // The frame kept for the broadcaster is a delegate's, from the turns:
        // the queue still holds the requests no turn has reached.
        let sample: ServerMsg = serde_json::from_str(&std::fs::read_to_string(sample.path())?)?;
        let ServerMsg::Floor(view) = sample else {
            panic!("{name}: the sample is not a floor frame: {sample:?}");
        };
        assert_eq!(view.item, Some(0), "{name}");
        assert!(view.waiting > 0 && view.waiting < 10, "{name}: {view:?}");
        server.stop()?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_tablets_cast_a_thirty_official_paper_and_every_one_is_counted() -> anyhow::Result<()>
{
    const PAPER_TABLETS: u32 = 50;
    for db in databases().await {
        let roster = Roster::generate(PAPER_TABLETS);
        let run = PapersRun {
            tablets: PAPER_TABLETS,
            officials: 30,
            board: 3,
            within: Duration::from_millis(200),
        };
        let store = Store::connect(&db.url).await?;
        store
            .import_meeting(
                &roster.meeting,
                &papers::definition(&roster, &run),
                &public_keys(&roster.seats, &roster.chair),
                &[],
            )
            .await?;
        let server = TestServer::for_hall(&db.url, PAPER_TABLETS as usize + 10);
        let target = Target {
            url: &server.url,
            roster: &roster,
            chair_code: None,
            server_pid: None,
            verify_receipts: 1,
        };
        let report = papers::run(&target, run).await?;
        let name = db.name;
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        let ballots: Vec<&str> = report.rounds.iter().map(|r| r.ballot.as_str()).collect();
        assert_eq!(ballots, ["yes/no", "rating of 30 officials"], "{name}");
        for round in &report.rounds {
            let ballot = &round.ballot;
            assert_eq!(round.acked, u64::from(PAPER_TABLETS), "{name}: {ballot}");
            assert_eq!(round.tablets_with_result, PAPER_TABLETS, "{name}: {ballot}");
            assert!(round.announced, "{name}: {ballot}");
            assert!(
                round.open_to_last_ack_ms.is_some()
                    && round.close_to_result_at_last_tablet_ms.is_some()
            );
        }

        let rounds = store.rounds(&roster.meeting).await?;
        assert_eq!(rounds.len(), 2, "{name}");
        assert!(
            rounds
                .iter()
                .all(|r| r.status == RoundStatus::Closed && r.announced_at.is_some())
        );
        let counts = rounds[0]
            .result
            .as_ref()
            .and_then(RoundResult::tally)
            .expect("a tally")
            .counts;
        assert_eq!(counts.taking_part(), PAPER_TABLETS, "{name}");
        let Some(RoundResult::Paper(PaperResult::Rating(rating))) = &rounds[1].result else {
            panic!("{name}: a rating: {:?}", rounds[1].result);
        };
        assert_eq!(rating.turnout.papers, PAPER_TABLETS, "{name}");
        assert_eq!(rating.ratings.len(), 30, "{name}");
        assert!(
            rating
                .ratings
                .iter()
                .all(|o| o.high + o.confidence + o.low == PAPER_TABLETS),
            "{name}: every official marked on every paper"
        );
        server.stop()?;
    }
    Ok(())
}
