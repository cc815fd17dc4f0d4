//! A meeting's record, end to end: a real session on each store (real
//! server, real WebSocket tablets, real Ed25519), exported as a bundle that
//! verifies, and then tampered with in every way we could think of, each of
//! which `verify` must catch with the right mismatch.

use ed25519_dalek::SigningKey;
use gavel_client::Session;
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::{ChairCommand, DocumentKind, RoundStatus};
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::{Secrecy, Threshold};
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{Choice, Principal, PublicKey, RoundId, Signature};
use gavel_records::bundle::{Bundle, DocumentVersion, NamedBallot, Round};
use gavel_records::chain::{Event, LinkError, Sha, check_links};
use gavel_records::verify::{Mismatch, verify};
use gavel_server::export::{self, MinutesOptions};
use gavel_tests::chair::{changeable_item, open_round};
use gavel_tests::databases;
use gavel_tests::forge::rehash;
use gavel_tests::server::{TestServer, example_meeting};

/// The rounds of the session, by what they are.
struct Rounds {
    named: RoundId,
    secret: RoundId,
    voided: RoundId,
}

async fn vote(delegates: &mut [Session], round: RoundId, choices: &[Choice]) -> anyhow::Result<()> {
    for (d, &choice) in delegates.iter_mut().zip(choices) {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        d.cast(choice).await?;
    }
    Ok(())
}

/// Six delegates and a chair, enrolled with one-time codes: a named round
/// with a changed vote and an extension, a re-enrolled seat, a voided round
/// and a secret round.
async fn session(server: &TestServer) -> anyhow::Result<Rounds> {
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=6 {
        delegates.push(server.enroll(Principal::Seat(seat)).await?.1);
    }
    for d in &mut delegates {
        d.check_in().await?;
    }
    use Choice::{Abstain, No, Yes};
    let (named_item, secret_item) = (
        changeable_item(&chair, Secrecy::Named),
        changeable_item(&chair, Secrecy::Secret),
    );

    let named = open_round(&mut chair, named_item, 300).await?;
    vote(&mut delegates, named, &[Yes, Yes, No, Yes, Abstain, Yes]).await?;
    delegates[2].cast(Yes).await?;
    chair.chair(ChairCommand::Extend { seconds: 30 }).await?;
    chair.chair(ChairCommand::Close).await?;

    // Seat 1 moves to a new tablet: its earlier ballot stays its own.
    delegates[0] = server.enroll(Principal::Seat(1)).await?.1;

    let voided = open_round(&mut chair, named_item, 300).await?;
    vote(&mut delegates, voided, &[No, No]).await?;
    chair.chair(ChairCommand::Void).await?;

    let secret = open_round(&mut chair, secret_item, 300).await?;
    vote(&mut delegates[..5], secret, &[Yes, No, Yes, Yes, No]).await?;
    delegates[1].cast(Yes).await?;
    chair.chair(ChairCommand::Close).await?;
    Ok(Rounds {
        named,
        secret,
        voided,
    })
}

#[tokio::test]
async fn a_session_exports_a_bundle_that_verifies_and_every_tampering_is_caught()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let rounds = session(&server).await?;
        let store = server.store().await?;
        let meeting = example_meeting();
        let bundle = export::bundle(&store, &server.server_key, &meeting).await?;

        assert_eq!(verify(&bundle), vec![], "{}: the untouched bundle", db.name);
        let parsed = Bundle::from_json(&bundle.to_json())?;
        assert_eq!(parsed, bundle, "{}: the bundle survives JSON", db.name);
        assert_eq!(verify(&parsed), vec![]);
        // Written as gavel-record/2; labelled /1 it reads and verifies the
        // same (the format decides nothing `verify` checks).
        assert_eq!(bundle.format, "gavel-record/2");
        let labelled_first = bundle
            .to_json()
            .replacen("gavel-record/2", "gavel-record/1", 1);
        assert_eq!(verify(&Bundle::from_json(&labelled_first)?), vec![]);
        check_contents(&bundle, &rounds);

        let dir = tempfile::tempdir()?;
        let written = export::write(
            &store,
            &server.server_key,
            &meeting,
            dir.path(),
            &MinutesOptions::default(),
            false,
        )
        .await?;
        let on_disk = Bundle::from_json(&std::fs::read_to_string(&written.bundle)?)?;
        assert_eq!(verify(&on_disk), vec![]);
        check_published(&written)?;

        tampering_is_caught(&bundle, &rounds);
        server.stop()?;
    }
    Ok(())
}

fn round(bundle: &Bundle, id: RoundId) -> &gavel_records::bundle::Round {
    bundle
        .rounds
        .iter()
        .find(|r| r.id == id)
        .expect("round exported")
}

fn round_mut(bundle: &mut Bundle, id: RoundId) -> &mut gavel_records::bundle::Round {
    bundle
        .rounds
        .iter_mut()
        .find(|r| r.id == id)
        .expect("round exported")
}

/// What the bundle says matches what happened in the hall.
fn check_contents(bundle: &Bundle, rounds: &Rounds) {
    let named = round(bundle, rounds.named);
    assert_eq!(named.status, RoundStatus::Closed);
    assert_eq!(named.ballots.len(), 6);
    let seat3 = named.ballots.iter().find(|b| b.seat == 3).unwrap();
    assert_eq!(
        seat3.choice,
        Some(Choice::Yes),
        "seat 3's changed vote is the one kept"
    );
    let counts = tally(named).counts;
    assert_eq!((counts.yes, counts.no, counts.abstain), (5, 0, 1));

    let voided = round(bundle, rounds.voided);
    assert_eq!(
        (voided.status, &voided.result),
        (RoundStatus::Voided, &None)
    );
    assert_eq!(voided.ballots.len(), 2);

    let secret = round(bundle, rounds.secret);
    assert!(
        secret.ballots.is_empty(),
        "a secret round exports no ballot"
    );
    let record = secret.secret.as_ref().expect("who took part");
    assert_eq!(record.participants, vec![1, 2, 3, 4, 5]);
    assert_eq!(record.trackers.len(), 5, "a tracker per choice");
    let mut choices = record.choices.clone();
    choices.sort();
    assert_eq!(
        choices,
        vec![Choice::Yes; 4]
            .into_iter()
            .chain([Choice::No])
            .collect::<Vec<_>>()
    );

    // The chain holds every kind of change, and no secret choice before the close.
    let kinds: std::collections::BTreeSet<&str> =
        bundle.chain.iter().map(|e| e.event.kind()).collect();
    for kind in [
        "meeting_defined",
        "key_registered",
        "checked_in",
        "item_set",
        "round_opened",
        "round_extended",
        "ballots_accepted",
        "round_closed",
        "round_voided",
    ] {
        assert!(
            kinds.contains(kind),
            "the chain has no {kind} entry: {kinds:?}"
        );
    }
    for e in &bundle.chain {
        if let Event::BallotsAccepted { round, ballots } = &e.event
            && *round == rounds.secret
        {
            assert!(ballots.iter().all(|b| b.choice.is_none()), "{e:?}");
        }
    }
}

/// The results table and both minutes are written and say what was decided.
fn check_published(written: &export::Written) -> anyhow::Result<()> {
    let csv = std::fs::read_to_string(&written.results)?;
    assert_eq!(
        csv.lines().count(),
        1 + 3,
        "a header and one row per ended round:\n{csv}"
    );
    let vi = std::fs::read_to_string(&written.minutes_vi)?;
    assert!(
        vi.contains("đại biểu tham gia biểu quyết"),
        "the official wording"
    );
    assert!(vi.contains("Phúc Lợi"));
    let en = std::fs::read_to_string(&written.minutes_en)?;
    assert!(en.contains("MINUTES OF THE VOTING RESULTS"));
    for html in [&vi, &en] {
        assert!(html.contains("<svg"), "a results chart per item");
    }
    Ok(())
}

/// One tampering: a name, a change to the bundle, and the mismatch it must cause.
struct Tamper {
    name: &'static str,
    change: Box<dyn Fn(&mut Bundle)>,
    expect: Box<dyn Fn(&Mismatch) -> bool>,
}

fn tamper(
    name: &'static str,
    change: impl Fn(&mut Bundle) + 'static,
    expect: impl Fn(&Mismatch) -> bool + 'static,
) -> Tamper {
    Tamper {
        name,
        change: Box::new(change),
        expect: Box::new(expect),
    }
}

/// A round's record of documents naming a version nobody stored.
fn another_text() -> RoundDocuments {
    RoundDocuments::of(vec![Sha::of(b"another text")])
}

fn fresh_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

/// A closed yes/no/abstain round's tally.
fn tally(round: &Round) -> gavel_protocol::TallyResult {
    *round
        .result
        .as_ref()
        .and_then(RoundResult::tally)
        .expect("a closed round with a tally")
}

fn tally_mut(round: &mut Round) -> &mut gavel_protocol::TallyResult {
    match &mut round.result {
        Some(RoundResult::Tally(t)) => t,
        other => panic!("a tally, not {other:?}"),
    }
}

fn flip(choice: Choice) -> Choice {
    match choice {
        Choice::Yes => Choice::No,
        _ => Choice::Yes,
    }
}

fn tampering_is_caught(bundle: &Bundle, rounds: &Rounds) {
    let (named, secret) = (rounds.named, rounds.secret);
    let cases = vec![
        tamper(
            "a round's list of documents changed without its digest",
            move |b| {
                let documents = round_mut(b, named).documents.as_mut().expect("recorded");
                documents.sha256.push(Sha::of(b"another text"));
            },
            |m| matches!(m, Mismatch::RoundDocumentsDigest { .. }),
        ),
        tamper(
            "a round said to be about another version, digest and all",
            move |b| round_mut(b, named).documents = Some(another_text()),
            |m| {
                matches!(m, Mismatch::BallotSignature { seat: 1, documents, .. }
                    if documents.contains(&another_text().digest.to_hex()))
            },
        ),
        tamper(
            "a round said to be about another version, against the chain",
            move |b| round_mut(b, named).documents = Some(another_text()),
            |m| {
                matches!(
                    m,
                    Mismatch::RoundOpening {
                        field: "documents",
                        ..
                    }
                )
            },
        ),
        tamper(
            "a round about a version the bundle does not list",
            move |b| round_mut(b, named).documents = Some(another_text()),
            |m| matches!(m, Mismatch::RoundDocumentUnlisted { .. }),
        ),
        tamper(
            "a document version the chain never stored",
            move |b| {
                let content = b"%PDF-1.4 another text";
                b.documents.push(DocumentVersion {
                    item: 1,
                    slot: 0,
                    version: 1,
                    title: "Tờ trình".into(),
                    kind: DocumentKind::Submission,
                    public: true,
                    sha256: Sha::of(content),
                    size: content.len() as u64,
                    stored_at: 1,
                    blocks: DocumentVersion::blocks_of(content),
                });
            },
            |m| matches!(m, Mismatch::DocumentNotChained { item: 1, .. }),
        ),
        tamper(
            "a changed choice",
            move |b| {
                let ballot = &mut round_mut(b, named).ballots[0];
                ballot.choice = ballot.choice.map(flip);
            },
            |m| matches!(m, Mismatch::BallotSignature { seat: 1, .. }),
        ),
        tamper(
            "a changed choice, counted",
            move |b| {
                let ballot = &mut round_mut(b, named).ballots[0];
                ballot.choice = ballot.choice.map(flip);
            },
            |m| matches!(m, Mismatch::TallyCounts { .. }),
        ),
        tamper(
            "a removed ballot",
            move |b| {
                round_mut(b, named).ballots.retain(|x| x.seat != 4);
            },
            |m| matches!(m, Mismatch::BallotMissing { seat: 4, .. }),
        ),
        tamper(
            "an added ballot from a seat with no key",
            move |b| {
                let key = fresh_key();
                let meeting = b.meeting.clone();
                let documents = round_mut(b, named).documents.as_ref().map(|d| d.digest);
                let content = BallotContent {
                    meeting: &meeting,
                    round: named,
                    documents,
                    seat: 9,
                    choice: Choice::No,
                    seq: 0,
                };
                let ballot = NamedBallot {
                    seat: 9,
                    choice: Some(Choice::No),
                    paper: None,
                    seq: 0,
                    recorded_at: 1,
                    signature: Signature::sign(&key, &content.signed_bytes()),
                    receipt: Signature::sign(&key, &content.receipt_bytes(1)),
                };
                round_mut(b, named).ballots.push(ballot);
            },
            |m| matches!(m, Mismatch::SeatKeyUnknown { seat: 9, .. }),
        ),
        tamper(
            "a ballot given twice",
            move |b| {
                let r = round_mut(b, named);
                let copy = r.ballots[1].clone();
                r.ballots.push(copy);
            },
            |m| matches!(m, Mismatch::BallotTwice { seat: 2, .. }),
        ),
        tamper(
            "an earlier ballot passed off as the last",
            move |b| {
                let ballot = round_mut(b, named)
                    .ballots
                    .iter_mut()
                    .find(|x| x.seat == 3)
                    .unwrap();
                ballot.choice = Some(Choice::No);
                ballot.seq -= 1;
            },
            |m| matches!(m, Mismatch::BallotNotChained { seat: 3, .. }),
        ),
        tamper(
            "reordered chain",
            |b| b.chain.swap(3, 4),
            |m| matches!(m, Mismatch::Chain(LinkError::Position { position: 3, .. })),
        ),
        tamper(
            "a changed chain entry",
            |b| {
                let e = b
                    .chain
                    .iter_mut()
                    .find(|e| matches!(e.event, Event::CheckedIn { .. }))
                    .unwrap();
                e.event = Event::CheckedIn { seat: 40 };
            },
            |m| {
                matches!(
                    m,
                    Mismatch::Chain(LinkError::Hash {
                        kind: "checked_in",
                        ..
                    })
                )
            },
        ),
        tamper(
            "a removed chain entry",
            |b| {
                b.chain.remove(5);
            },
            |m| matches!(m, Mismatch::Chain(LinkError::Link { seq: 6, .. })),
        ),
        tamper(
            "a truncated chain",
            |b| {
                let keep = b.chain.len() - 2;
                b.chain.truncate(keep);
            },
            |m| matches!(m, Mismatch::HeadDiffers { .. }),
        ),
        tamper(
            "a rewritten chain with the head left alone",
            move |b| {
                for e in &mut b.chain {
                    if let Event::RoundClosed {
                        result: RoundResult::Tally(result),
                        ..
                    } = &mut e.event
                    {
                        result.passed = !result.passed;
                    }
                }
                rehash(b);
            },
            |m| matches!(m, Mismatch::HeadDiffers { .. }),
        ),
        tamper(
            "a forged head over a truncated chain",
            move |b| {
                b.chain.pop();
                let (entries, hash) = gavel_records::chain::head(&b.chain);
                b.head.entries = entries;
                b.head.hash = hash;
            },
            |m| matches!(m, Mismatch::HeadSignature),
        ),
        tamper(
            "a changed rule",
            move |b| {
                round_mut(b, named).settings.rule.threshold = Threshold::AtLeastThreeQuarters;
            },
            move |m| matches!(m, Mismatch::RoundOpening { round, field: "settings" } if *round == named),
        ),
        tamper(
            "a changed rule, result recomputed to match",
            move |b| {
                let r = round_mut(b, named);
                r.settings.rule.threshold = Threshold::AtLeastThreeQuarters;
                let counts = tally(r).counts;
                r.result = Some(RoundResult::Tally(gavel_protocol::TallyResult::decide(
                    r.settings.rule,
                    counts,
                )));
            },
            move |m| matches!(m, Mismatch::TallyNotChained { round } if *round == named),
        ),
        tamper(
            "a swapped seat key",
            |b| {
                let k = b
                    .keys
                    .iter_mut()
                    .find(|k| k.principal == Principal::Seat(3))
                    .unwrap();
                k.public_key = PublicKey::of(&fresh_key());
            },
            |m| {
                matches!(
                    m,
                    Mismatch::KeyNotChained {
                        principal: Principal::Seat(3),
                        ..
                    }
                )
            },
        ),
        tamper(
            "a removed seat key",
            |b| b.keys.retain(|k| k.principal != Principal::Seat(2)),
            |m| {
                matches!(
                    m,
                    Mismatch::KeyMissing {
                        principal: Principal::Seat(2),
                        ..
                    }
                )
            },
        ),
        tamper(
            "a swapped server key",
            |b| b.server_key = PublicKey::of(&fresh_key()),
            |m| matches!(m, Mismatch::HeadSignature),
        ),
        tamper(
            "a swapped server key, receipts",
            |b| b.server_key = PublicKey::of(&fresh_key()),
            |m| matches!(m, Mismatch::ReceiptSignature { .. }),
        ),
        tamper(
            "a changed tally",
            move |b| {
                let result = tally_mut(round_mut(b, named));
                result.counts.yes -= 1;
                result.counts.no += 1;
            },
            move |m| matches!(m, Mismatch::TallyCounts { round, .. } if *round == named),
        ),
        tamper(
            "a changed verdict",
            move |b| {
                let result = tally_mut(round_mut(b, named));
                result.passed = !result.passed;
            },
            move |m| matches!(m, Mismatch::TallyDecision { round, .. } if *round == named),
        ),
        tamper(
            "a changed present count",
            move |b| {
                let result = tally_mut(round_mut(b, named));
                result.counts.present += 1;
            },
            move |m| matches!(m, Mismatch::TallyPresent { round, .. } if *round == named),
        ),
        tamper(
            "a changed receipt",
            move |b| {
                round_mut(b, named).ballots[2].recorded_at += 1;
            },
            |m| matches!(m, Mismatch::ReceiptSignature { seat: 3, .. }),
        ),
        tamper(
            "a receipt signed by another key",
            move |b| {
                let ballot = &mut round_mut(b, named).ballots[0];
                ballot.receipt = Signature::sign(&fresh_key(), b"not a receipt");
            },
            |m| matches!(m, Mismatch::ReceiptSignature { seat: 1, .. }),
        ),
        tamper(
            "a changed secret participation",
            move |b| {
                let record = round_mut(b, secret).secret.as_mut().unwrap();
                record.participants[4] = 6;
            },
            move |m| matches!(m, Mismatch::SecretParticipants { round, .. } if *round == secret),
        ),
        tamper(
            "a changed secret choice",
            move |b| {
                let record = round_mut(b, secret).secret.as_mut().unwrap();
                record.choices[0] = flip(record.choices[0]);
            },
            move |m| matches!(m, Mismatch::SecretChoices { round } if *round == secret),
        ),
        tamper(
            "a changed secret choice, counted",
            move |b| {
                let record = round_mut(b, secret).secret.as_mut().unwrap();
                record.choices[0] = flip(record.choices[0]);
            },
            move |m| matches!(m, Mismatch::TallyCounts { round, .. } if *round == secret),
        ),
        tamper(
            "a dropped secret tracker",
            move |b| {
                round_mut(b, secret).secret.as_mut().unwrap().trackers.pop();
            },
            move |m| matches!(m, Mismatch::SecretTrackers { round } if *round == secret),
        ),
        tamper(
            "two secret trackers swapped",
            move |b| {
                let record = round_mut(b, secret).secret.as_mut().unwrap();
                record.trackers.swap(0, 1);
            },
            move |m| matches!(m, Mismatch::SecretTrackers { round } if *round == secret),
        ),
        tamper(
            "a secret tracker replaced",
            move |b| {
                let record = round_mut(b, secret).secret.as_mut().unwrap();
                record.trackers[0] = gavel_protocol::Tracker([0; 16]);
            },
            move |m| matches!(m, Mismatch::SecretTrackers { round } if *round == secret),
        ),
        tamper(
            "a secret round given named ballots",
            move |b| {
                let ballot = round(b, named).ballots[0].clone();
                round_mut(b, secret).ballots.push(ballot);
            },
            move |m| matches!(m, Mismatch::SecretBallotsExposed { round } if *round == secret),
        ),
        tamper(
            "a removed round",
            move |b| b.rounds.retain(|r| r.id != secret),
            move |m| matches!(m, Mismatch::RoundMissing { round } if *round == secret),
        ),
        tamper(
            "a voided round shown as closed",
            {
                let voided = rounds.voided;
                move |b| round_mut(b, voided).status = RoundStatus::Closed
            },
            |m| {
                matches!(
                    m,
                    Mismatch::RoundEnd {
                        chained: "voided",
                        ..
                    }
                )
            },
        ),
        tamper(
            "a changed deadline",
            move |b| round_mut(b, named).deadline += 1000,
            move |m| matches!(m, Mismatch::Deadline { round, .. } if *round == named),
        ),
        tamper(
            "a pause the chain never recorded",
            move |b| round_mut(b, named).paused_at = Some(1),
            move |m| matches!(m, Mismatch::Paused { round, .. } if *round == named),
        ),
        tamper(
            "a changed definition",
            |b| b.definition.push_str("\n# amended\n"),
            |m| matches!(m, Mismatch::Definition { .. }),
        ),
    ];
    // The forger's tools work: an untouched rehash changes nothing.
    let mut same = bundle.clone();
    rehash(&mut same);
    assert_eq!(same, *bundle);
    assert_eq!(check_links(&bundle.meeting, &bundle.chain), vec![]);

    for case in cases {
        let mut changed = bundle.clone();
        (case.change)(&mut changed);
        assert_ne!(
            changed, *bundle,
            "{}: the tampering changed nothing",
            case.name
        );
        let found = verify(&changed);
        assert!(
            found.iter().any(|m| (case.expect)(m)),
            "{}: not caught as expected; found {:#?}",
            case.name,
            found
        );
        for m in &found {
            assert!(!m.to_string().is_empty());
        }
    }
}

/// Forty tablets checking in and voting at once: appends to the chain from
/// concurrent transactions (check-ins beside ballot batches) are serialized,
/// and the record still verifies on each store.
#[tokio::test]
async fn a_hall_voting_at_once_leaves_a_chain_that_verifies() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let mut delegates = Vec::new();
        for seat in 1..=40 {
            delegates.push(server.enroll(Principal::Seat(seat)).await?.1);
        }
        let named = changeable_item(&chair, Secrecy::Named);
        let voted = open_round(&mut chair, named, 300).await?;
        let voters = delegates.into_iter().enumerate().map(|(i, mut d)| {
            tokio::spawn(async move {
                d.check_in().await?;
                d.wait_until(|s| s.open_round().is_some_and(|r| r.id == voted))
                    .await?;
                let choice = if i % 3 == 0 { Choice::No } else { Choice::Yes };
                d.cast(choice).await?;
                anyhow::Ok(())
            })
        });
        for voter in voters.collect::<Vec<_>>() {
            voter.await??;
        }
        chair.chair(ChairCommand::Close).await?;

        let store = server.store().await?;
        let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
        assert_eq!(verify(&bundle), vec![], "{}", db.name);
        let check_ins = bundle
            .chain
            .iter()
            .filter(|e| matches!(e.event, Event::CheckedIn { .. }))
            .count();
        assert_eq!(check_ins, 40, "{}", db.name);
        let counts = tally(round(&bundle, voted)).counts;
        assert_eq!((counts.present, counts.yes, counts.no), (40, 26, 14));
        server.stop()?;
    }
    Ok(())
}

/// The chair's console asks for the record over its WebSocket and fetches
/// it once from the link it is given; the record verifies, the link does not
/// work twice, and a delegate cannot ask for one.
#[tokio::test]
async fn the_chair_downloads_the_record_once_with_the_link_it_was_given() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let rounds = session(&server).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let ready = chair
            .request(|id| gavel_protocol::ClientMsg::Export { id })
            .await?;
        let gavel_protocol::ServerMsg::ExportReady {
            url, expires_at, ..
        } = ready
        else {
            panic!("{}: export answered {ready:?}", db.name);
        };
        assert!(expires_at > gavel_server::clock::now_ms());
        let addr = gavel_tests::http::address_of(&server.url);
        let first = gavel_tests::http::get(addr, &url).await?;
        assert_eq!(first.status, 200, "{}: {}", db.name, first.body);
        let bundle = Bundle::from_json(&first.body)?;
        assert_eq!(verify(&bundle), vec![], "{}", db.name);
        assert!(bundle.rounds.iter().any(|r| r.id == rounds.secret));
        assert_eq!(bundle.server_key, PublicKey::of(&server.server_key));

        let again = gavel_tests::http::get(addr, &url).await?;
        assert_eq!(again.status, 403, "{}: a link works once", db.name);
        let forged = url.rsplit_once('=').unwrap().0.to_owned() + "=00";
        assert_eq!(gavel_tests::http::get(addr, &forged).await?.status, 403);

        let (_, mut delegate) = server.enroll(Principal::Seat(7)).await?;
        let refused = delegate
            .request(|id| gavel_protocol::ClientMsg::Export { id })
            .await;
        assert!(
            matches!(
                &refused,
                Err(gavel_client::ClientError::Refused {
                    reason: gavel_protocol::RefusalReason::NotChair,
                    ..
                })
            ),
            "{}: {refused:?}",
            db.name
        );
        server.stop()?;
    }
    Ok(())
}
