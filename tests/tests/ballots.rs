//! Ballots on a list, end to end on both stores: an election of two
//! candidates for one post (named and secret), a confidence rating of 27
//! officials (secret) and a no-confidence vote (named), cast from the Rust
//! client as one signed paper each; every flawed paper refused with its
//! reason; the results the hub announces, the store keeps and `gavel
//! verify` recomputes; and a tampered paper caught. The meeting has a
//! counting board, so each secret result is provisional until the board
//! confirms it and the chair announces it: the confirmations, their
//! refusals, a restart in between and their record are tested here too.

use ed25519_dalek::SigningKey;
use gavel_client::Session;
use gavel_protocol::board::{Confirmation, Count};
use gavel_protocol::messages::{ChairCommand, ItemStatus, RoundStatus};
use gavel_protocol::paper::{
    APPROVE, CONFIDENCE, HIGH_CONFIDENCE, KEEP_CONFIDENCE, LOW_CONFIDENCE, Mark, NO_CONFIDENCE,
    Paper, PaperKind, Vote,
};
use gavel_protocol::results::{PaperResult, RoundResult};
use gavel_protocol::{Choice, MeetingId, Principal, PublicKey, RefusalReason, RoundId};
use gavel_records::bundle::Bundle;
use gavel_records::chain::Event;
use gavel_records::minutes::{self, Lang};
use gavel_records::verify::{Mismatch, verify};
use gavel_server::export;
use gavel_server::meeting::MeetingDefinition;
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::forge::rehash;
use gavel_tests::server::TestServer;

const SEATS: u32 = 5;
const OFFICIALS: u16 = 27;
const ELECTION_NAMED: u32 = 0;
const ELECTION_SECRET: u32 = 1;
const RATING: u32 = 2;
const NO_CONFIDENCE_VOTE: u32 = 3;
const RESOLUTION: u32 = 4;

/// A five-seat council whose agenda holds every kind of ballot.
fn definition() -> String {
    let mut toml = format!(
        r#"id = "phieu-kin"
title = "Kỳ họp bầu cử và lấy phiếu tín nhiệm"
body = "Hội đồng nhân dân xã Thử"
total_seats = {SEATS}
"#
    );
    for seat in 1..=SEATS {
        toml.push_str(&format!(
            "\n[[seats]]\nnumber = {seat}\nname = \"Đại biểu {seat}\"\n"
        ));
    }
    let candidates = r#"candidates = [
  { name = "Lê Hoàng Cường", post = "Ủy viên Thường trực" },
  { name = "Phạm Thu Dung", post = "Trưởng Ban Pháp chế" },
]"#;
    let officials: Vec<String> = (1..=OFFICIALS)
        .map(|i| format!("  {{ name = \"Người thứ {i}\", post = \"Chức vụ {i}\" }},"))
        .collect();
    toml.push_str(&format!(
        r#"
[counting_board]
seats = [4, 2]

[[topics]]
title = "Nhân sự"

[[topics.items]]
kind = "election"
title = "Bầu Phó Chủ tịch (biểu quyết công khai)"
ballot = "election"
posts = 1
{candidates}

[[topics.items]]
kind = "election"
title = "Bầu Phó Chủ tịch (bỏ phiếu kín)"
vote = {{ secrecy = "secret", interim = "none" }}
ballot = "election"
{candidates}

[[topics.items]]
kind = "other"
title = "Lấy phiếu tín nhiệm"
vote = {{ secrecy = "secret", interim = "none" }}
ballot = "rating"
officials = [
{officials}
]

[[topics.items]]
kind = "other"
title = "Bỏ phiếu tín nhiệm"
ballot = "no_confidence"
officials = [
  {{ name = "Người thứ 1", post = "Chủ tịch" }},
  {{ name = "Người thứ 2", post = "Phó Chủ tịch" }},
  {{ name = "Người thứ 3", post = "Ủy viên" }},
]

[[topics.items]]
kind = "draft_resolution"
title = "Dự thảo nghị quyết"
"#,
        officials = officials.join("\n")
    ));
    toml
}

fn meeting() -> MeetingId {
    MeetingId::parse("phieu-kin").unwrap()
}

fn marks(pairs: &[(u16, u8)]) -> Vec<Mark> {
    pairs.iter().copied().map(Mark::from).collect()
}

/// A hall of `SEATS` delegates, all checked in, and the chair, with their keys.
struct Hall {
    server: TestServer,
    chair: Session,
    delegates: Vec<Session>,
    keys: Vec<SigningKey>,
}

async fn hall(database_url: &str) -> anyhow::Result<Hall> {
    let store = Store::connect(database_url).await?;
    store
        .import_meeting(&meeting(), &definition(), &[], &[])
        .await?;
    store.close().await;
    let server = TestServer::start(database_url, SigningKey::generate(&mut rand::rngs::OsRng));
    let (chair_key, chair) = server.enroll_in(&meeting(), Principal::Chair).await?;
    let mut delegates = Vec::new();
    let mut keys = vec![chair_key];
    for seat in 1..=SEATS {
        let (key, mut d) = server.enroll_in(&meeting(), Principal::Seat(seat)).await?;
        d.check_in().await?;
        delegates.push(d);
        keys.push(key);
    }
    Ok(Hall {
        server,
        chair,
        delegates,
        keys,
    })
}

impl Hall {
    /// Opens a round on `item` and waits until every delegate sees it.
    async fn open(&mut self, item: u32) -> anyhow::Result<RoundId> {
        self.chair.chair(ChairCommand::SetItem { item }).await?;
        self.chair
            .chair(ChairCommand::Open {
                window_seconds: Some(120),
            })
            .await?;
        let round = self.chair.state.open_round().expect("open").id;
        for d in &mut self.delegates {
            d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
                .await?;
        }
        Ok(round)
    }

    /// Closes the open round; returns its item's status and its result as
    /// the chair's console shows them (a secret result while it is still
    /// provisional).
    async fn close(&mut self, round: RoundId) -> anyhow::Result<(ItemStatus, PaperResult)> {
        self.chair.chair(ChairCommand::Close).await?;
        let snapshot = self.chair.state.snapshot.as_ref().expect("a snapshot");
        let shown = snapshot.round.as_ref().expect("the round");
        assert_eq!((shown.id, shown.status), (round, RoundStatus::Closed));
        let state = &snapshot.items[shown.item as usize];
        let Some(RoundResult::Paper(result)) = &shown.result else {
            panic!("a result on a list: {shown:?}");
        };
        Ok((state.status, result.clone()))
    }

    /// The board's seats (4 and 2) confirm the last round's count on their
    /// tablets, and the chair announces it.
    async fn confirm_and_announce(&mut self, round: RoundId) -> anyhow::Result<()> {
        for seat in BOARD {
            confirm(&mut self.delegates[seat as usize - 1], round).await?;
        }
        self.chair.chair(ChairCommand::Announce).await?;
        Ok(())
    }
}

/// The counting board's seats, the head first.
const BOARD: [u32; 2] = [4, 2];

/// A board member's tablet asks for its state and confirms the count the
/// server gives it for `round`.
async fn confirm(member: &mut Session, round: RoundId) -> anyhow::Result<()> {
    member.sync().await?;
    let asked = member.state.to_confirm.clone().expect("a count to confirm");
    assert_eq!(asked.round, round);
    member.confirm_count(round, asked.count).await?;
    Ok(())
}

/// Sends a paper exactly as given (marks unsorted, repeated, anything) and
/// returns the reason it was refused.
async fn refused(session: &mut Session, kind: PaperKind, pairs: &[(u16, u8)]) -> RefusalReason {
    let round = session.state.open_round().expect("open").id;
    let seq = session.next_seq();
    let paper = Paper {
        kind,
        marks: marks(pairs),
    };
    let signature = session.sign_paper(round, &paper, seq).unwrap();
    let err = session
        .send_paper(round, paper, seq, signature)
        .await
        .expect_err("the paper is refused");
    err.reason()
        .unwrap_or_else(|| panic!("a refusal, not {err}"))
}

#[tokio::test]
async fn elections_ratings_and_no_confidence_votes_are_cast_counted_and_verified()
-> anyhow::Result<()> {
    for db in databases().await {
        let name = db.name;
        let mut hall = hall(&db.url).await?;

        // A named election of two candidates for one post.
        let round = hall.open(ELECTION_NAMED).await?;
        let d = &mut hall.delegates[0];
        use PaperKind::{Election, NoConfidence, Rating};
        assert_eq!(
            refused(d, Election, &[(0, APPROVE), (1, APPROVE)]).await,
            RefusalReason::OverCap,
            "{name}"
        );
        assert_eq!(
            refused(d, Election, &[(2, APPROVE)]).await,
            RefusalReason::UnknownCandidate
        );
        assert_eq!(
            refused(d, Election, &[(0, 2)]).await,
            RefusalReason::UnknownLevel
        );
        assert_eq!(
            refused(d, Election, &[(0, APPROVE), (0, APPROVE)]).await,
            RefusalReason::DuplicateEntry
        );
        assert_eq!(
            refused(d, Rating, &[(0, 1)]).await,
            RefusalReason::WrongBallotKind
        );
        let err = d.cast(Choice::Yes).await.expect_err("a choice on a list");
        assert_eq!(err.reason(), Some(RefusalReason::WrongBallotKind));
        // Seat 1 first approves candidate 1, then changes to candidate 0;
        // seats 2 and 3 approve candidate 0, seat 4 candidate 1, seat 5 no one.
        let first = d.cast_paper(Election, marks(&[(1, APPROVE)])).await?;
        let last = d.cast_paper(Election, marks(&[(0, APPROVE)])).await?;
        assert!(last.seq > first.seq);
        let approvals: [&[(u16, u8)]; 4] = [&[(0, APPROVE)], &[(0, APPROVE)], &[(1, APPROVE)], &[]];
        for (d, pairs) in hall.delegates[1..].iter_mut().zip(approvals) {
            let receipt = d.cast_paper(Election, marks(pairs)).await?;
            assert_eq!(receipt.marks, marks(pairs));
        }
        // While the named round is open the chair sees each candidate's
        // approvals add up, and no yes/no/abstain counts.
        let live = |s: &gavel_client::state::MeetingState| s.round().and_then(|r| r.live.clone());
        hall.chair
            .wait_until(|s| live(s).and_then(|l| l.marks) == Some(vec![vec![3], vec![1]]))
            .await?;
        assert_eq!(live(&hall.chair.state).and_then(|l| l.counts), None);
        let (status, result) = hall.close(round).await?;
        assert_eq!(status, ItemStatus::Counted);
        let PaperResult::Election(e) = result else {
            panic!("an election")
        };
        assert_eq!((e.approvals.clone(), e.approvals_needed), (vec![3, 1], 3));
        assert_eq!(
            (e.elected.clone(), e.tie.clone()),
            (vec![0], None),
            "{name}"
        );
        assert_eq!(e.turnout.papers, SEATS, "a blank paper takes part");
        let named_election = round;

        // The same election by secret ballot: candidate 1 wins 3 to 2.
        let round = hall.open(ELECTION_SECRET).await?;
        for (i, d) in hall.delegates.iter_mut().enumerate() {
            let pick = u16::from(i < 3);
            d.cast_paper(Election, marks(&[(pick, APPROVE)])).await?;
        }
        // A secret round shows nobody running marks, the chair included.
        hall.chair
            .wait_until(|s| live(s).is_some_and(|l| l.taking_part == SEATS))
            .await?;
        let shown = live(&hall.chair.state).map(|l| (l.counts, l.marks));
        assert_eq!(shown, Some((None, None)), "{name}");
        let (status, result) = hall.close(round).await?;
        assert_eq!(status, ItemStatus::Provisional, "{name}");
        let PaperResult::Election(e) = result else {
            panic!("an election")
        };
        assert_eq!(
            (e.approvals.clone(), e.elected.clone()),
            (vec![2, 3], vec![1])
        );
        hall.confirm_and_announce(round).await?;
        let secret_election = round;

        // A secret confidence rating of 27 officials, one paper per seat.
        let round = hall.open(RATING).await?;
        let d = &mut hall.delegates[0];
        assert_eq!(
            refused(d, Rating, &[(OFFICIALS, HIGH_CONFIDENCE)]).await,
            RefusalReason::UnknownOfficial
        );
        assert_eq!(
            refused(d, Rating, &[(3, 4)]).await,
            RefusalReason::UnknownLevel
        );
        assert_eq!(
            refused(d, Rating, &[(3, LOW_CONFIDENCE), (3, HIGH_CONFIDENCE)]).await,
            RefusalReason::DuplicateEntry
        );
        assert_eq!(
            refused(d, Rating, &[(5, HIGH_CONFIDENCE), (4, LOW_CONFIDENCE)]).await,
            RefusalReason::MarksOutOfOrder
        );
        // Seats 1–3 rate official 0 low, everyone rates official 1 high,
        // the rest by seat; seat 5 leaves official 26 unrated.
        for (i, d) in hall.delegates.iter_mut().enumerate() {
            let mut paper = Vec::new();
            for entry in 0..OFFICIALS {
                let level = match entry {
                    0 if i < 3 => LOW_CONFIDENCE,
                    0 => CONFIDENCE,
                    1 => HIGH_CONFIDENCE,
                    26 if i == 4 => continue,
                    _ => {
                        [HIGH_CONFIDENCE, CONFIDENCE, LOW_CONFIDENCE][(i + usize::from(entry)) % 3]
                    }
                };
                paper.push(Mark { entry, mark: level });
            }
            paper.reverse(); // The client puts them in canonical order.
            let receipt = d.cast_paper(Rating, paper).await?;
            assert!(receipt.marks.windows(2).all(|w| w[0].entry < w[1].entry));
        }
        let (_, result) = hall.close(round).await?;
        hall.confirm_and_announce(round).await?;
        let PaperResult::Rating(r) = result else {
            panic!("a rating")
        };
        assert_eq!(r.ratings.len(), usize::from(OFFICIALS));
        assert_eq!((r.ratings[0].low, r.ratings[0].confidence), (3, 2));
        assert!(r.ratings[0].low_over_half && !r.ratings[0].low_two_thirds);
        assert_eq!(r.ratings[1].high, SEATS);
        let rated_26 = r.ratings[26].high + r.ratings[26].confidence + r.ratings[26].low;
        assert_eq!(rated_26, SEATS - 1, "a blank official counts nowhere");
        let rating = round;

        // A named no-confidence vote: three seats withdraw confidence from official 0.
        let round = hall.open(NO_CONFIDENCE_VOTE).await?;
        for (i, d) in hall.delegates.iter_mut().enumerate() {
            let first = if i < 3 {
                NO_CONFIDENCE
            } else {
                KEEP_CONFIDENCE
            };
            let pairs = [(0, first), (1, KEEP_CONFIDENCE), (2, KEEP_CONFIDENCE)];
            d.cast_paper(NoConfidence, marks(&pairs)).await?;
        }
        let (_, result) = hall.close(round).await?;
        let PaperResult::NoConfidence(n) = result else {
            panic!("a no-confidence vote")
        };
        assert_eq!(n.needed, 3);
        let flags: Vec<bool> = n.votes.iter().map(|v| v.flagged).collect();
        assert_eq!(flags, vec![true, false, false]);
        let no_confidence = round;

        // A paper on a yes/no/abstain item is the wrong kind.
        hall.open(RESOLUTION).await?;
        assert_eq!(
            refused(&mut hall.delegates[0], Election, &[]).await,
            RefusalReason::WrongBallotKind
        );
        hall.chair.chair(ChairCommand::Void).await?;

        // The store: named papers with their marks, secret ones unlinked.
        let store = hall.server.store().await?;
        let named = store.ballots(named_election).await?;
        assert_eq!(named.len(), SEATS as usize);
        assert_eq!(
            named[0].vote,
            Vote::Paper(Paper {
                kind: Election,
                marks: marks(&[(0, APPROVE)])
            }),
            "{name}: seat 1's last paper counts"
        );
        for secret in [secret_election, rating] {
            assert!(store.ballots(secret).await?.is_empty(), "{name}");
            let kept = store.secret_ballots(secret).await?;
            assert_eq!(kept.seats(), (1..=SEATS).collect::<Vec<_>>());
            assert!(kept.votes().iter().all(|v| v.paper().is_some()));
        }

        // The record verifies, and recomputes every result from the papers.
        let bundle = export::bundle(&store, &hall.server.server_key, &meeting()).await?;
        assert_eq!(verify(&bundle), vec![], "{name}");
        let definition = MeetingDefinition::parse(&definition())?;
        let session = export::session(&bundle, &definition, &Default::default());
        session.check()?;
        let csv = minutes::results_csv(&session, Lang::Vi);
        assert!(csv.contains("Trúng cử"), "{csv}");
        assert!(csv.contains("Người thứ 27"), "{csv}");
        let html = minutes::minutes_html(&session, Lang::En);
        assert!(html.contains("Low confidence") && html.contains("Elected"));
        let vi = minutes::minutes_html(&session, Lang::Vi);
        assert_eq!(
            vi.matches("<h5>Biên bản kiểm phiếu</h5>").count(),
            2,
            "a counting record for each secret round on a list, none for the named ones"
        );
        assert!(
            vi.contains("Trưởng Ban kiểm phiếu</div><div class=\"name\">Đại biểu 4</div>"),
            "the board's head signs first"
        );
        assert_eq!(
            vi.matches("Thành viên Ban kiểm phiếu xác nhận kết quả")
                .count(),
            2,
            "each counting record lists who confirmed it"
        );

        // A changed mark on a named paper breaks its signature; one on a
        // secret paper changes the count the result states.
        let mut tampered = bundle.clone();
        let r = tampered
            .rounds
            .iter_mut()
            .find(|r| r.id == no_confidence)
            .unwrap();
        r.ballots[0].paper.as_mut().unwrap().marks[0].mark = KEEP_CONFIDENCE;
        let found = verify(&tampered);
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::BallotSignature { seat: 1, .. })),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::PaperResult { round } if *round == no_confidence)),
            "{found:?}"
        );
        let mut tampered = bundle.clone();
        let r = tampered.rounds.iter_mut().find(|r| r.id == rating).unwrap();
        let secret = r.secret.as_mut().unwrap();
        secret.papers[0].marks[0].mark = HIGH_CONFIDENCE;
        let found = verify(&tampered);
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::SecretChoices { round } if *round == rating)),
            "{found:?}"
        );
        let mut tampered = bundle;
        let r = tampered.rounds.iter_mut().find(|r| r.id == rating).unwrap();
        r.secret.as_mut().unwrap().papers[0].marks.push(Mark {
            entry: OFFICIALS,
            mark: LOW_CONFIDENCE,
        });
        let found = verify(&tampered);
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::PaperInvalid { round, .. } if *round == rating)),
            "{found:?}"
        );

        store.close().await;
        for d in hall.delegates {
            d.close().await;
        }
        hall.chair.close().await;
        hall.server.stop()?;
    }
    Ok(())
}

/// A paper acknowledged before a crash is there after the restart: the seat
/// is told its receipt again, and the close counts it.
#[tokio::test]
async fn acknowledged_papers_survive_a_crash() -> anyhow::Result<()> {
    for db in databases().await {
        let mut hall = hall(&db.url).await?;
        let round = hall.open(NO_CONFIDENCE_VOTE).await?;
        let pairs = [(0, NO_CONFIDENCE), (2, KEEP_CONFIDENCE)];
        let receipt = hall.delegates[0]
            .cast_paper(PaperKind::NoConfidence, marks(&pairs))
            .await?;
        hall.delegates[1]
            .cast_paper(PaperKind::NoConfidence, marks(&[(0, NO_CONFIDENCE)]))
            .await?;
        let Hall { server, keys, .. } = hall;
        let server = server.crash_and_restart()?;
        let mut seat1 = server.login_in(&meeting(), &keys[1]).await?;
        seat1.wait_until(|s| s.my_paper.is_some()).await?;
        assert_eq!(seat1.state.my_paper.as_ref(), Some(&receipt), "{}", db.name);
        let mut chair = server.login_in(&meeting(), &keys[0]).await?;
        chair.chair(ChairCommand::Close).await?;
        let snapshot = chair.state.snapshot.as_ref().expect("a snapshot");
        let Some(RoundResult::Paper(PaperResult::NoConfidence(n))) =
            &snapshot.items[NO_CONFIDENCE_VOTE as usize].result
        else {
            panic!("a no-confidence result: {snapshot:?}");
        };
        assert_eq!(n.turnout.papers, 2, "{}", db.name);
        assert_eq!((n.votes[0].no_confidence, n.votes[2].confidence), (2, 1));
        assert_eq!(snapshot.round.as_ref().map(|r| r.id), Some(round));
        seat1.close().await;
        chair.close().await;
        server.stop()?;
    }
    Ok(())
}

/// Why a request was refused.
fn reason(err: gavel_client::ClientError) -> RefusalReason {
    err.reason()
        .unwrap_or_else(|| panic!("a refusal, not {err}"))
}

/// A secret round's result is provisional until the counting board has
/// confirmed it and the chair has announced it: the hall screen and the
/// delegates see the turnout alone, the chair the counts and who confirmed;
/// every wrong confirmation and an early announcement are refused with
/// their reason; a restart keeps the round provisional with its
/// confirmations; the record holds the signed confirmations, `gavel verify`
/// checks them, and the minutes say who confirmed and when.
#[tokio::test]
async fn the_counting_board_confirms_a_secret_count_before_the_chair_announces_it()
-> anyhow::Result<()> {
    for db in databases().await {
        let name = db.name;
        let mut hall = hall(&db.url).await?;
        let mut screen = gavel_client::Client::connect(&hall.server.url)
            .await?
            .watch(&meeting())
            .await?;
        let round = hall.open(ELECTION_SECRET).await?;
        for (i, d) in hall.delegates.iter_mut().enumerate() {
            let pick = u16::from(i < 3);
            d.cast_paper(PaperKind::Election, marks(&[(pick, APPROVE)]))
                .await?;
        }
        let (status, result) = hall.close(round).await?;
        assert_eq!(status, ItemStatus::Provisional, "{name}");
        let count = Count::of(&RoundResult::Paper(result));
        assert_eq!(count.rows, vec![vec![2], vec![3]]);

        // The hall screen and a delegate off the board: the turnout, no counts.
        let provisional = |s: &gavel_client::state::MeetingState| {
            s.round().is_some_and(|r| {
                r.id == round && r.board.as_ref().is_some_and(|b| b.announced_at.is_none())
            })
        };
        screen.wait_until(provisional).await?;
        hall.delegates[0].wait_until(provisional).await?;
        for state in [&screen.state, &hall.delegates[0].state] {
            let shown = state.round().expect("the round");
            assert_eq!(
                shown.result, None,
                "{name}: no counts before the announcement"
            );
            let board = shown.board.as_ref().expect("the board's state");
            assert_eq!((board.ballots, board.required), (SEATS, 2));
            let item = &state.snapshot.as_ref().unwrap().items[ELECTION_SECRET as usize];
            assert_eq!(
                (item.status, &item.result),
                (ItemStatus::Provisional, &None)
            );
        }
        hall.delegates[0].sync().await?;
        assert_eq!(
            hall.delegates[0].state.to_confirm, None,
            "only the board is asked"
        );

        // Refusals: off the board, another count, another round, a bad
        // signature, the chair too early, a new round before the announcement.
        let err = hall.delegates[0].confirm_count(round, count.clone()).await;
        assert_eq!(
            reason(err.unwrap_err()),
            RefusalReason::NotOnBoard,
            "{name}"
        );
        let head = &mut hall.delegates[3];
        let mut other = count.clone();
        other.rows[0][0] += 1;
        let err = head.confirm_count(round, other).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::CountMismatch);
        let err = head.confirm_count(RoundId([9; 16]), count.clone()).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::NotProvisional);
        let forged = gavel_protocol::Signature::sign(
            &hall.keys[1],
            &Confirmation {
                meeting: &meeting(),
                round,
                seat: 4,
                count: &count,
            }
            .signed_bytes(),
        );
        let err = head
            .request(|id| gavel_protocol::ClientMsg::ConfirmCount {
                id,
                round,
                count: count.clone(),
                signature: forged,
            })
            .await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::BadSignature);
        let err = hall.chair.chair(ChairCommand::Announce).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::TooFewConfirmations);

        confirm(&mut hall.delegates[3], round).await?;
        let err = hall.delegates[3].confirm_count(round, count.clone()).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::AlreadyConfirmed);
        let err = hall.chair.chair(ChairCommand::Announce).await;
        assert_eq!(
            reason(err.unwrap_err()),
            RefusalReason::TooFewConfirmations,
            "{name}: one of two"
        );
        hall.chair
            .chair(ChairCommand::SetItem { item: RESOLUTION })
            .await?;
        let err = hall
            .chair
            .chair(ChairCommand::Open {
                window_seconds: None,
            })
            .await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::InvalidCommand);

        // A restart keeps the round provisional with its confirmation.
        let Hall {
            server,
            keys,
            chair,
            delegates,
        } = hall;
        chair.close().await;
        for d in delegates {
            d.close().await;
        }
        screen.close().await;
        let server = server.crash_and_restart()?;
        let mut chair = server.login_in(&meeting(), &keys[0]).await?;
        let shown = chair.state.round().cloned().expect("the round");
        let board = shown.board.expect("the board's state");
        assert_eq!(
            board.confirmed.iter().map(|c| c.seat).collect::<Vec<_>>(),
            vec![4],
            "{name}"
        );
        assert_eq!(board.announced_at, None);
        assert!(shown.result.is_some(), "the chair still sees the counts");
        let mut screen = gavel_client::Client::connect(&server.url)
            .await?
            .watch(&meeting())
            .await?;
        assert_eq!(screen.state.round().and_then(|r| r.result.clone()), None);

        let mut member = server.login_in(&meeting(), &keys[2]).await?;
        confirm(&mut member, round).await?;
        chair.chair(ChairCommand::Announce).await?;
        screen
            .wait_until(|s| s.round().is_some_and(|r| r.result.is_some()))
            .await?;
        let item = &screen.state.snapshot.as_ref().unwrap().items[ELECTION_SECRET as usize];
        assert_eq!(item.status, ItemStatus::Counted, "{name}: announced");
        let err = chair.chair(ChairCommand::Announce).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::NotProvisional);

        // A named round is not the board's to confirm.
        chair
            .chair(ChairCommand::SetItem {
                item: NO_CONFIDENCE_VOTE,
            })
            .await?;
        chair
            .chair(ChairCommand::Open {
                window_seconds: Some(60),
            })
            .await?;
        let named = chair.state.open_round().expect("open").id;
        chair.chair(ChairCommand::Close).await?;
        let named_count = Count::of(chair.state.round().unwrap().result.as_ref().unwrap());
        member.sync().await?;
        let err = member.confirm_count(named, named_count).await;
        assert_eq!(reason(err.unwrap_err()), RefusalReason::NotProvisional);

        // The record: both confirmations signed, checked by verify, and in
        // the minutes with the announcement.
        let store = server.store().await?;
        let bundle = export::bundle(&store, &server.server_key, &meeting()).await?;
        assert_eq!(verify(&bundle), vec![], "{name}");
        let confirmed: Vec<u32> = bundle
            .chain
            .iter()
            .filter_map(|e| match &e.event {
                Event::CountConfirmed { seat, .. } => Some(*seat),
                _ => None,
            })
            .collect();
        assert_eq!(confirmed, vec![4, 2]);
        let definition = MeetingDefinition::parse(&definition())?;
        let session = export::session(&bundle, &definition, &Default::default());
        let vi = minutes::minutes_html(&session, Lang::Vi);
        assert!(vi.contains("Đại biểu 4 (ghế 4) lúc"), "{name}");
        assert!(vi.contains("Đại biểu 2 (ghế 2) lúc"));
        assert!(vi.contains("Chủ tọa công bố kết quả lúc"));
        let en = minutes::minutes_html(&session, Lang::En);
        assert!(en.contains("Confirmed by the counting board"));

        board_tampering_is_caught(&bundle, round, named, &keys);

        // A confirmation of another count, or signed by another key, is caught.
        let at = bundle
            .chain
            .iter()
            .position(|e| matches!(e.event, Event::CountConfirmed { .. }))
            .unwrap();
        let mut tampered = bundle.clone();
        if let Event::CountConfirmed { count, .. } = &mut tampered.chain[at].event {
            count.rows[1][0] -= 1;
        }
        let found = verify(&tampered);
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::ConfirmationCount { seat: 4, .. })),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::ConfirmationSignature { seat: 4, .. })),
            "{found:?}"
        );
        let mut tampered = bundle;
        if let Event::CountConfirmed { key, .. } = &mut tampered.chain[at].event {
            *key = PublicKey::of(&keys[1]);
        }
        let found = verify(&tampered);
        assert!(
            found
                .iter()
                .any(|m| matches!(m, Mismatch::ConfirmationSignature { seat: 4, .. })),
            "{found:?}"
        );

        store.close().await;
        member.close().await;
        screen.close().await;
        chair.close().await;
        server.stop()?;
    }
    Ok(())
}

/// The board's record in a bundle edited as a forger would, every hash
/// recomputed: a confirmation from a seat off the board, a member's second
/// confirmation, an announcement before enough confirmations or with none,
/// one made twice, and one of a named round; each is a mismatch of its own.
/// `secret` is the round the board (seats 4 and 2, both required) confirmed
/// and the chair announced; `named` a named round closed after it.
fn board_tampering_is_caught(
    bundle: &Bundle,
    secret: RoundId,
    named: RoundId,
    keys: &[SigningKey],
) {
    let position = |b: &Bundle, wanted: &dyn Fn(&Event) -> bool| {
        b.chain
            .iter()
            .position(|e| wanted(&e.event))
            .expect("the entry is in the chain")
    };
    let confirmed_by = |seat: u32| move |e: &Event| matches!(e, Event::CountConfirmed { seat: s, .. } if *s == seat);
    let announced = |e: &Event| matches!(e, Event::ResultAnnounced { .. });
    let named_closed =
        move |e: &Event| matches!(e, Event::RoundClosed { round, .. } if *round == named);
    type Case<'a> = (
        &'static str,
        Box<dyn Fn(&mut Bundle) + 'a>,
        Box<dyn Fn(&Mismatch) -> bool>,
    );
    let cases: Vec<Case> = vec![
        (
            "seat 1, off the board, confirms with its own key",
            Box::new(move |b| {
                let at = position(b, &confirmed_by(4));
                let mut entry = b.chain[at].clone();
                let Event::CountConfirmed {
                    seat,
                    key,
                    count,
                    signature,
                    ..
                } = &mut entry.event
                else {
                    unreachable!()
                };
                *seat = 1;
                *key = PublicKey::of(&keys[1]);
                *signature = gavel_protocol::Signature::sign(
                    &keys[1],
                    &Confirmation {
                        meeting: &meeting(),
                        round: secret,
                        seat: 1,
                        count,
                    }
                    .signed_bytes(),
                );
                b.chain.insert(at + 1, entry);
            }),
            Box::new(|m| matches!(m, Mismatch::ConfirmationOffBoard { seat: 1, .. })),
        ),
        (
            "seat 4 confirms twice",
            Box::new(move |b| {
                let at = position(b, &confirmed_by(4));
                b.chain.insert(at + 1, b.chain[at].clone());
            }),
            Box::new(|m| matches!(m, Mismatch::ConfirmationTwice { seat: 4, .. })),
        ),
        (
            "seat 4's confirmation stands in for seat 2's",
            Box::new(move |b| {
                let (four, two) = (position(b, &confirmed_by(4)), position(b, &confirmed_by(2)));
                b.chain[two] = b.chain[four].clone();
            }),
            Box::new(|m| {
                matches!(
                    m,
                    Mismatch::AnnouncedEarly {
                        confirmed: 1,
                        required: 2,
                        ..
                    }
                )
            }),
        ),
        (
            "the announcement before seat 2's confirmation",
            Box::new(move |b| {
                let (two, at) = (position(b, &confirmed_by(2)), position(b, &announced));
                b.chain.swap(two, at);
            }),
            Box::new(|m| {
                matches!(
                    m,
                    Mismatch::AnnouncedEarly {
                        confirmed: 1,
                        required: 2,
                        ..
                    }
                ) || matches!(m, Mismatch::ConfirmationAfterAnnouncement { seat: 2, .. })
            }),
        ),
        (
            "a secret result announced with no confirmation",
            Box::new(|b| {
                b.chain
                    .retain(|e| !matches!(e.event, Event::CountConfirmed { .. }))
            }),
            Box::new(move |m| {
                matches!(
                    m,
                    Mismatch::AnnouncedEarly {
                        round,
                        confirmed: 0,
                        required: 2,
                    } if *round == secret
                )
            }),
        ),
        (
            "the result announced twice",
            Box::new(move |b| {
                let at = position(b, &announced);
                b.chain.insert(at + 1, b.chain[at].clone());
            }),
            Box::new(|m| matches!(m, Mismatch::AnnouncedTwice { .. })),
        ),
        (
            "a named round announced",
            Box::new(move |b| {
                let at = position(b, &named_closed);
                let mut entry = b.chain[position(b, &announced)].clone();
                entry.event = Event::ResultAnnounced {
                    round: named,
                    announced_at: b.chain[at].at,
                };
                b.chain.insert(at + 1, entry);
            }),
            Box::new(
                move |m| matches!(m, Mismatch::BoardOnNamedRound { round } if *round == named),
            ),
        ),
    ];
    for (name, change, expected) in cases {
        let mut changed = bundle.clone();
        change(&mut changed);
        rehash(&mut changed);
        let found = verify(&changed);
        assert!(found.iter().any(expected), "{name}: {found:#?}");
        // Nothing else is wrong with it: the chain's links and signatures
        // are a forger's, so only the board's own rules catch it.
        assert!(
            found.iter().all(|m| matches!(
                m,
                Mismatch::HeadDiffers { .. }
                    | Mismatch::ConfirmationOffBoard { .. }
                    | Mismatch::ConfirmationTwice { .. }
                    | Mismatch::ConfirmationAfterAnnouncement { .. }
                    | Mismatch::AnnouncedEarly { .. }
                    | Mismatch::AnnouncedTwice { .. }
                    | Mismatch::BoardOnNamedRound { .. }
            )),
            "{name}: {found:#?}"
        );
        for m in &found {
            assert!(!m.to_string().is_empty());
        }
    }
}
