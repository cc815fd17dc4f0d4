//! The hub under fuzzing: random sequences of client frames, valid and
//! invalid, from a chair and three delegates on one real server. After each
//! frame the sender must get exactly one answer (`ack`, `done` or `refused`),
//! and after each sequence the server must still answer everyone, no stray
//! answer may follow, and the state must add up: the chair's live counts are
//! the store's ballots for the open round, and taking part ≤ present ≤ seats.
//! The frames of `protocol/fuzz/corpus` are replayed first, as a regression test.
//! On each store.

use gavel_client::Session;
use gavel_protocol::messages::ChairCommand;
use gavel_protocol::{Choice, ClientMsg, Counts, Principal, RoundId, ServerMsg};
use gavel_tests::databases;
use gavel_tests::server::TestServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::PathBuf;

/// One frame a client sends.
#[derive(Debug, Clone)]
enum Op {
    CheckIn,
    Sync,
    /// A ballot signed by this device for the open round (or, if `stale`, a
    /// round id that is not open), with a fresh or a reused sequence number.
    Cast {
        choice: Choice,
        stale: bool,
        reuse_seq: bool,
    },
    Forged(Choice),
    Chair(ChairCommand),
    Raw(String),
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![Just(Choice::Yes), Just(Choice::No), Just(Choice::Abstain)]
}

fn command(items: u32) -> impl Strategy<Value = ChairCommand> {
    prop_oneof![
        (0..items + 2).prop_map(|item| ChairCommand::SetItem { item }),
        prop::option::of(60u32..400)
            .prop_map(|window_seconds| ChairCommand::Open { window_seconds }),
        (0u32..600).prop_map(|seconds| ChairCommand::Extend { seconds }),
        Just(ChairCommand::Close),
        Just(ChairCommand::Void),
    ]
}

fn op(items: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::CheckIn),
        1 => Just(Op::Sync),
        5 => (choice(), prop::bool::weighted(0.1), prop::bool::weighted(0.2))
            .prop_map(|(choice, stale, reuse_seq)| Op::Cast { choice, stale, reuse_seq }),
        1 => choice().prop_map(Op::Forged),
        4 => command(items).prop_map(Op::Chair),
        1 => "\\PC{0,40}".prop_map(Op::Raw),
        1 => r#"\{"type":"(sync|check_in|cast|chair|auth|watch)","id":[0-9]{1,3}(,"[a-z_]{1,8}":[0-9a-z"]{1,6}){0,3}\}"#
            .prop_map(Op::Raw),
    ]
}

/// Who sends: 0 is the chair, 1..=3 the delegates.
fn sequence(items: u32) -> impl Strategy<Value = Vec<(usize, Op)>> {
    prop::collection::vec((0usize..4, op(items)), 1..24)
}

struct Hall {
    sessions: Vec<Session>,
    /// The last sequence number each session used, to replay it.
    last_seq: Vec<u64>,
    next_id: u64,
}

/// Sends `text` and reads until its answer, which must be the next answer
/// frame on this connection; returns it.
async fn exchange(session: &mut Session, text: &str) -> anyhow::Result<ServerMsg> {
    let mut msg = session.send_text(text).await?;
    while matches!(msg, ServerMsg::You { .. }) {
        msg = session.next().await?;
    }
    anyhow::ensure!(
        matches!(
            msg,
            ServerMsg::Ack { .. } | ServerMsg::Done { .. } | ServerMsg::Refused { .. }
        ),
        "expected an answer to {text}, got {msg:?}"
    );
    Ok(msg)
}

fn answer_id(msg: &ServerMsg) -> Option<u64> {
    match msg {
        ServerMsg::Ack { id, .. } | ServerMsg::Done { id } => Some(*id),
        ServerMsg::Refused { id, .. } => *id,
        _ => None,
    }
}

impl Hall {
    fn id(&mut self) -> u64 {
        // Far above the ids `Session` uses itself for its own requests.
        self.next_id += 1;
        1_000_000 + self.next_id
    }

    async fn send(&mut self, who: usize, op: &Op) -> anyhow::Result<()> {
        let id = self.id();
        let open = self.sessions[who].state.open_round().map(|r| r.id);
        let msg = match op {
            Op::Raw(text) => {
                exchange(&mut self.sessions[who], text).await?;
                return Ok(());
            }
            Op::CheckIn => ClientMsg::CheckIn { id },
            Op::Sync => ClientMsg::Sync { id },
            Op::Chair(command) => ClientMsg::Chair {
                id,
                command: command.clone(),
            },
            Op::Cast {
                choice,
                stale,
                reuse_seq,
            } => {
                let round = match (open, stale) {
                    (Some(round), false) => round,
                    _ => RoundId([0x5a; 16]),
                };
                let session = &mut self.sessions[who];
                let seq = if *reuse_seq && self.last_seq[who] > 0 {
                    self.last_seq[who]
                } else {
                    session.next_seq()
                };
                self.last_seq[who] = seq;
                // The chair has no ballot key: it sends a made-up signature.
                let signature = session
                    .sign_ballot(round, *choice, seq)
                    .unwrap_or_else(|_| gavel_protocol::Signature::from_bytes(&[9; 64]));
                ClientMsg::Cast {
                    id,
                    round,
                    documents: session.state.documents_digest(round),
                    choice: *choice,
                    seq,
                    signature,
                }
            }
            Op::Forged(choice) => ClientMsg::Cast {
                id,
                round: open.unwrap_or(RoundId([0; 16])),
                documents: gavel_protocol::documents::digest(&[]),
                choice: *choice,
                seq: 1,
                signature: gavel_protocol::Signature::from_bytes(&[9; 64]),
            },
        };
        let text = serde_json::to_string(&msg)?;
        let answer = exchange(&mut self.sessions[who], &text).await?;
        anyhow::ensure!(
            answer_id(&answer) == Some(id),
            "{text} was answered by {answer:?}"
        );
        Ok(())
    }

    /// A `sync` on every connection: it must be answered, with no other
    /// answer before it (which would be a second answer to an earlier frame).
    async fn settle(&mut self) -> anyhow::Result<()> {
        for who in 0..self.sessions.len() {
            let id = self.id();
            let text = serde_json::to_string(&ClientMsg::Sync { id })?;
            let answer = exchange(&mut self.sessions[who], &text).await?;
            anyhow::ensure!(answer_id(&answer) == Some(id), "a stray answer: {answer:?}");
        }
        Ok(())
    }

    async fn check_invariants(&self, server: &TestServer) -> anyhow::Result<()> {
        let chair = &self.sessions[0];
        let snapshot = chair.state.snapshot.as_ref().expect("a snapshot");
        let total = chair.meeting.total_seats as usize;
        anyhow::ensure!(snapshot.present as usize <= total, "present > seats");
        anyhow::ensure!(
            snapshot.present_seats.as_ref().map(Vec::len) == Some(snapshot.present as usize),
            "the chair's list of present seats does not match the count {}",
            snapshot.present
        );
        let Some(round) = chair.state.open_round() else {
            return Ok(());
        };
        // A round that may reach its deadline while the store is read
        // (a corpus frame opens one of zero seconds) is not compared.
        if round.deadline <= gavel_server::clock::now_ms() + 5_000 {
            return Ok(());
        }
        let live = round.live.as_ref().expect("the chair sees the live tally");
        let store = server.store().await?;
        let ballots = store.ballots(round.id).await?;
        // A secret round's ballots are its participation rows.
        let secret = store.secret_ballots(round.id).await?.participants.len();
        anyhow::ensure!(
            live.taking_part as usize == ballots.len() + secret,
            "the chair shows {} taking part, the store holds {} ballots",
            live.taking_part,
            ballots.len() + secret
        );
        // The counts themselves, where the round lets the chair see them.
        if let Some(counts) = live.counts {
            let mut stored = Counts::default();
            for b in &ballots {
                match b.vote.choice() {
                    Some(Choice::Yes) => stored.yes += 1,
                    Some(Choice::No) => stored.no += 1,
                    Some(Choice::Abstain) => stored.abstain += 1,
                    None => panic!("a paper in a yes/no/abstain round"),
                }
            }
            anyhow::ensure!(
                (counts.yes, counts.no, counts.abstain) == (stored.yes, stored.no, stored.abstain),
                "the chair shows {counts:?}, the store holds {stored:?}"
            );
            anyhow::ensure!(
                counts.present <= counts.total_seats && counts.total_seats as usize == total,
                "{counts:?}"
            );
        }
        if round.settings.require_check_in {
            anyhow::ensure!(
                live.taking_part <= snapshot.present,
                "{} taking part but {} present",
                live.taking_part,
                snapshot.present
            );
        }
        Ok(())
    }
}

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/fuzz/corpus");
    let mut frames: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .expect("the corpus")
        .map(|e| {
            let path = e.expect("an entry").path();
            let text = std::fs::read_to_string(&path).expect("UTF-8");
            (path, text)
        })
        .collect();
    frames.sort();
    frames.into_iter().map(|(_, text)| text).collect()
}

#[test]
fn random_frames_from_every_role_never_break_the_hub() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    for db in runtime.block_on(databases()) {
        fuzz(&runtime, &db.url).map_err(|e| e.context(db.name))?;
    }
    Ok(())
}

/// The corpus, then random sequences, on one server on the store at `database_url`.
fn fuzz(runtime: &tokio::runtime::Runtime, database_url: &str) -> anyhow::Result<()> {
    let server = runtime.block_on(TestServer::with_example(database_url))?;
    let hall = runtime.block_on(async {
        let mut sessions = vec![server.enroll(Principal::Chair).await?.1];
        for seat in 1..=3 {
            sessions.push(server.enroll(Principal::Seat(seat)).await?.1);
        }
        anyhow::Ok(Hall {
            sessions,
            last_seq: vec![0; 4],
            next_id: 0,
        })
    })?;
    let items = hall.sessions[0].meeting.agenda.len() as u32;
    let hall = tokio::sync::Mutex::new(hall);

    // The corpus, from the chair and from a delegate.
    runtime.block_on(async {
        let mut hall = hall.lock().await;
        for text in corpus() {
            for who in [0, 1] {
                hall.send(who, &Op::Raw(text.clone())).await?;
            }
        }
        hall.settle().await?;
        hall.check_invariants(&server).await
    })?;

    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&sequence(items), |ops| {
            runtime
                .block_on(async {
                    let mut hall = hall.lock().await;
                    for (who, op) in &ops {
                        hall.send(*who, op).await?;
                    }
                    hall.settle().await?;
                    hall.check_invariants(&server).await
                })
                .map_err(|e| TestCaseError::fail(format!("{e:#}")))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    server.stop()
}
