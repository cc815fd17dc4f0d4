//! The store's behaviour, checked on every backend with the same steps: the
//! hub relies on each of these, whichever database it was started with.

use anyhow::{Context, Result, ensure};
use ed25519_dalek::SigningKey;
use gavel_protocol::documents::RoundDocuments;
use gavel_protocol::messages::RoundStatus;
use gavel_protocol::paper::Vote;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{
    Choice, Counts, MeetingId, Principal, PublicKey, RoundId, Rule, SeatNo, Signature, TallyResult,
    VoteSettings,
};
use gavel_records::chain::{Event, check_links};
use gavel_server::store::{
    BallotRecord, NewCode, Pool, RoundRecord, SecretBallot, Store, StoreError, code_hash,
};
use gavel_tests::databases;
use std::future::Future;

/// Runs `scenario` on a fresh store of each backend, naming the one that failed.
async fn on_every_backend<F, Fut>(scenario: F) -> Result<()>
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    for db in databases().await {
        let store = Store::connect(&db.url)
            .await
            .with_context(|| format!("connecting to {}", db.name))?;
        assert_eq!(store.backend(), db.name);
        scenario(store)
            .await
            .with_context(|| format!("on {}", db.name))?;
    }
    Ok(())
}

fn meeting() -> MeetingId {
    MeetingId::parse("phuc-loi-2026-k12").unwrap()
}

fn key(seed: u8) -> PublicKey {
    PublicKey::of(&SigningKey::from_bytes(&[seed; 32]))
}

/// A new round on item 0 of `meeting()`, opened at `opened_at`.
fn round(secrecy: Secrecy, opened_at: u64) -> RoundRecord {
    RoundRecord {
        id: RoundId(rand::random()),
        meeting: meeting(),
        item: 0,
        settings: VoteSettings {
            secrecy,
            ..VoteSettings::default()
        },
        opened_at,
        deadline: opened_at + 60_000,
        paused_at: None,
        status: RoundStatus::Open,
        closed_at: None,
        announced_at: None,
        result: None,
        // What the store records for an item without documents, as read back.
        documents: Some(RoundDocuments::of(vec![])),
        by_hand: None,
    }
}

/// A ballot whose signature bytes say which (seat, seq) it is, so a test can
/// tell which version of a seat's ballot was kept. The store does not verify
/// signatures: the hub does, before the ballot reaches it.
fn ballot(round: RoundId, seat: SeatNo, choice: Choice, seq: u64) -> BallotRecord {
    let mut signature = [0u8; 64];
    signature[..4].copy_from_slice(&seat.to_be_bytes());
    signature[4..12].copy_from_slice(&seq.to_be_bytes());
    BallotRecord {
        round,
        // What the store reads back for a round on an item without documents.
        documents: Some(RoundDocuments::of(vec![]).digest),
        seat,
        vote: Vote::Choice(choice),
        seq,
        signature: Signature::from_bytes(&signature),
        recorded_at: 1_000 + seq,
        secret: None,
    }
}

/// The same ballot in a secret round, replacing the choice rows of the
/// seat's earlier ballots (`earlier`).
fn secret_ballot(
    round: RoundId,
    seat: SeatNo,
    choice: Choice,
    seq: u64,
    earlier: &[&BallotRecord],
) -> BallotRecord {
    BallotRecord {
        secret: Some(SecretBallot {
            replaces: earlier.iter().map(|b| b.tracker()).collect(),
        }),
        ..ballot(round, seat, choice, seq)
    }
}

fn result_of(choices: &[Choice]) -> RoundResult {
    RoundResult::Tally(TallyResult::decide(
        Rule::MAJORITY_OF_ALL_SEATS,
        Counts::tally(40, 38, choices.iter().copied()),
    ))
}

/// Choices as the votes a secret record keeps.
fn votes(choices: &[Choice]) -> Vec<Vote> {
    choices.iter().copied().map(Vote::Choice).collect()
}

/// What `with_meeting` stores as `meeting()`'s definition.
const DEFINITION: &str = "title = \"Kỳ họp thứ 12\"";

/// A store with `meeting()` defined.
async fn with_meeting(store: &Store) -> Result<()> {
    store
        .import_meeting(&meeting(), DEFINITION, &[], &[])
        .await?;
    Ok(())
}

/// The strings a raw query returns, on either backend.
async fn strings(store: &Store, sql: &str) -> Result<Vec<String>> {
    Ok(match store.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
    })
}

/// The single integer a raw query returns, on either backend.
async fn integer(store: &Store, sql: &str) -> Result<i64> {
    Ok(match store.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
    })
}

/// Every table, with its columns, that has a row mentioning `round` in any
/// column: the whole database's record of the round, whatever the schema.
async fn tables_mentioning(store: &Store, round: RoundId) -> Result<Vec<(String, Vec<String>)>> {
    let (tables_sql, columns_sql): (&str, fn(&str) -> String) = match store.pool() {
        Pool::Sqlite(_) => (
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            |t| format!("SELECT name FROM pragma_table_info('{t}')"),
        ),
        Pool::Postgres(_) => (
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            |t| {
                format!(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = '{t}'"
                )
            },
        ),
    };
    let mut mentioning = Vec::new();
    for table in strings(store, tables_sql).await? {
        let columns = strings(store, &columns_sql(&table)).await?;
        let any_column_is_round = columns
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT) = '{round}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let rows = integer(
            store,
            &format!("SELECT count(*) FROM \"{table}\" WHERE {any_column_is_round}"),
        )
        .await?;
        if rows > 0 {
            mentioning.push((table, columns));
        }
    }
    mentioning.sort();
    Ok(mentioning)
}

/// Checks that nothing stored links a seat of `round` to a choice, and
/// returns the tables that still mention the round.
async fn assert_no_seat_choice_link(store: &Store, round: RoundId) -> Result<Vec<String>> {
    let tables = tables_mentioning(store, round).await?;
    for (table, columns) in &tables {
        let has = |name: &str| columns.iter().any(|c| c == name);
        ensure!(
            !(has("seat") && has("choice")),
            "table {table} links seats to choices for secret round {round}"
        );
    }
    Ok(tables.into_iter().map(|(table, _)| table).collect())
}

fn is_corrupt<T>(outcome: Result<T, StoreError>) -> bool {
    matches!(outcome, Err(StoreError::Corrupt(_)))
}

#[tokio::test]
async fn migrations_can_run_again_on_an_existing_database() -> Result<()> {
    for db in databases().await {
        let first = Store::connect(&db.url).await?;
        with_meeting(&first).await?;
        let second = Store::connect(&db.url).await.context(db.name)?;
        ensure!(
            second.meetings().await?.len() == 1,
            "{}: meeting lost",
            db.name
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused() {
    assert!(matches!(
        Store::connect("mysql://localhost/gavel").await,
        Err(StoreError::Database(sqlx::Error::Configuration(_)))
    ));
}

#[tokio::test]
async fn a_meeting_definition_is_replaced_only_until_its_first_round() -> Result<()> {
    on_every_backend(|store| async move {
        store
            .import_meeting(&meeting(), "version = 1", &[], &[])
            .await?;
        store
            .import_meeting(&meeting(), "version = 2", &[], &[])
            .await?;
        let stored = store.meetings().await?;
        ensure!(stored.len() == 1 && stored[0].definition == "version = 2");
        ensure!(stored[0].id == meeting() && stored[0].current_item.is_none());

        store.set_current_item(&meeting(), Some(3)).await?;
        ensure!(store.meetings().await?[0].current_item == Some(3));
        store.set_current_item(&meeting(), None).await?;
        ensure!(store.meetings().await?[0].current_item.is_none());
        let elsewhere = MeetingId::parse("elsewhere").unwrap();
        ensure!(is_corrupt(
            store.set_current_item(&elsewhere, Some(1)).await
        ));

        store.open_round(&round(Secrecy::Named, 1_000)).await?;
        match store
            .import_meeting(&meeting(), "version = 3", &[], &[])
            .await
        {
            Err(StoreError::MeetingHasRounds(id)) => ensure!(id == meeting()),
            other => anyhow::bail!("expected MeetingHasRounds, got {other:?}"),
        }
        ensure!(store.meetings().await?[0].definition == "version = 2");
        // The same definition again is no replacement: its keys are bound.
        store
            .import_meeting(
                &meeting(),
                "version = 2",
                &[(Principal::Seat(1), key(1))],
                &[],
            )
            .await?;
        ensure!(store.keys(&meeting()).await? == vec![(Principal::Seat(1), key(1))]);
        Ok(())
    })
    .await
}

/// Makes the database refuse to bind a key to `principal`: an import that
/// reaches that key fails after it has written the meeting, its audit entry
/// and the keys before it.
async fn refuse_keys_of(store: &Store, principal: &str) -> Result<()> {
    match store.pool() {
        Pool::Sqlite(pool) => {
            sqlx::query(&format!(
                "CREATE TRIGGER refuse_key BEFORE INSERT ON device_keys
                 WHEN NEW.principal = '{principal}'
                 BEGIN SELECT RAISE(ABORT, 'key refused'); END"
            ))
            .execute(pool)
            .await?;
        }
        Pool::Postgres(pool) => {
            sqlx::query(&format!(
                "CREATE FUNCTION refuse_key() RETURNS trigger AS $$
                 BEGIN
                     IF NEW.principal = '{principal}' THEN RAISE EXCEPTION 'key refused'; END IF;
                     RETURN NEW;
                 END $$ LANGUAGE plpgsql"
            ))
            .execute(pool)
            .await?;
            sqlx::query(
                "CREATE TRIGGER refuse_key BEFORE INSERT ON device_keys
                 FOR EACH ROW EXECUTE FUNCTION refuse_key()",
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn an_import_that_fails_part_way_leaves_nothing_behind() -> Result<()> {
    on_every_backend(|store| async move {
        refuse_keys_of(&store, "seat:3").await?;
        let keys = [
            (Principal::Seat(1), key(1)),
            (Principal::Seat(2), key(2)),
            (Principal::Seat(3), key(3)),
        ];
        let imported = store
            .import_meeting(&meeting(), DEFINITION, &keys, &[])
            .await;
        ensure!(
            matches!(imported, Err(StoreError::Database(_))),
            "the refused key failed the import: {imported:?}"
        );
        ensure!(store.meetings().await?.is_empty());
        ensure!(store.keys(&meeting()).await?.is_empty());
        ensure!(store.audit_log(&meeting()).await?.is_empty());

        // A stored meeting keeps its definition, keys and chain.
        store
            .import_meeting(&meeting(), DEFINITION, &keys[..1], &[])
            .await?;
        let chain = store.audit_log(&meeting()).await?;
        ensure!(chain.len() == 2);
        let replaced = store
            .import_meeting(&meeting(), "title = \"Kỳ họp thứ 13\"", &keys, &[])
            .await;
        ensure!(replaced.is_err(), "the refused key failed the import");
        ensure!(store.meetings().await?[0].definition == DEFINITION);
        ensure!(store.keys(&meeting()).await? == keys[..1]);
        ensure!(store.audit_log(&meeting()).await? == chain);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn enrollment_codes_are_checked_burnt_and_bind_keys() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let code = |text: &str, principal, expires_at| NewCode {
            code_hash: code_hash(text),
            meeting: meeting(),
            principal,
            expires_at,
        };
        store
            .add_codes(&[
                code("AB12-CD34", Principal::Seat(1), 10_000),
                code("EXPIRED1", Principal::Seat(2), 5_000),
                code("CHAIR-001", Principal::Chair, 10_000),
                code("SEAT3-NEW", Principal::Seat(3), 10_000),
            ])
            .await?;

        ensure!(matches!(
            store.redeem_code(&code_hash("NOPE"), 1_000, &key(1)).await,
            Err(StoreError::CodeUnknown)
        ));
        // Typed as it might be on a tablet: lower case, a space for the dash.
        let bound = store
            .redeem_code(&code_hash("ab12 cd34"), 1_000, &key(1))
            .await?;
        ensure!(bound == (meeting(), Principal::Seat(1)));
        // Used is reported before expired, even once the code has also expired.
        ensure!(matches!(
            store
                .redeem_code(&code_hash("AB12-CD34"), 20_000, &key(9))
                .await,
            Err(StoreError::CodeUsed)
        ));
        // Expiry is a moment: at it, the code is already refused.
        ensure!(matches!(
            store
                .redeem_code(&code_hash("EXPIRED1"), 5_000, &key(2))
                .await,
            Err(StoreError::CodeExpired)
        ));
        // A refused redemption changes nothing: the expired code is still unused.
        ensure!(matches!(
            store
                .redeem_code(&code_hash("EXPIRED1"), 4_999, &key(2))
                .await,
            Ok((_, Principal::Seat(2)))
        ));
        store
            .redeem_code(&code_hash("CHAIR-001"), 1_000, &key(7))
            .await?;
        ensure!(
            store.keys(&meeting()).await?
                == vec![
                    (Principal::Seat(1), key(1)),
                    (Principal::Seat(2), key(2)),
                    (Principal::Chair, key(7)),
                ]
        );

        // A new key for a principal replaces its old one (a replaced tablet).
        store
            .import_meeting(
                &meeting(),
                DEFINITION,
                &[
                    (Principal::Seat(1), key(4)),
                    (Principal::Seat(5), key(5)),
                    (Principal::Seat(5), key(5)),
                ],
                &[],
            )
            .await?;
        // A key enrolled for another principal leaves the first: one device, one seat.
        store
            .redeem_code(&code_hash("SEAT3-NEW"), 1_000, &key(4))
            .await?;
        ensure!(
            store.keys(&meeting()).await?
                == vec![
                    (Principal::Seat(2), key(2)),
                    (Principal::Seat(3), key(4)),
                    (Principal::Seat(5), key(5)),
                    (Principal::Chair, key(7)),
                ]
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_duplicate_code_fails_the_whole_batch() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let code = |text: &str| NewCode {
            code_hash: code_hash(text),
            meeting: meeting(),
            principal: Principal::Seat(1),
            expires_at: 10_000,
        };
        ensure!(store.add_codes(&[code("ONE"), code("ONE")]).await.is_err());
        ensure!(matches!(
            store.redeem_code(&code_hash("ONE"), 1_000, &key(1)).await,
            Err(StoreError::CodeUnknown)
        ));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn check_in_is_idempotent_and_keeps_the_first_time() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        store.check_in(&meeting(), 12, 100).await?;
        store.check_in(&meeting(), 3, 200).await?;
        store.check_in(&meeting(), 12, 300).await?;
        ensure!(store.present(&meeting()).await? == vec![3, 12]);
        let first = integer(
            &store,
            "SELECT checked_in_at FROM attendance WHERE seat = 12",
        )
        .await?;
        ensure!(first == 100, "check-in time {first}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn rounds_are_opened_extended_and_voided() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let first = round(Secrecy::Named, 1_000);
        store.open_round(&first).await?;
        // One open round per meeting.
        ensure!(
            store
                .open_round(&round(Secrecy::Named, 2_000))
                .await
                .is_err()
        );

        store.set_deadline(first.id, 90_000).await?;
        store
            .record_ballots(&[ballot(first.id, 4, Choice::Yes, 1)])
            .await?;
        store.void_round(first.id, 50_000).await?;

        let rounds = store.rounds(&meeting()).await?;
        let expected = RoundRecord {
            deadline: 90_000,
            status: RoundStatus::Voided,
            closed_at: Some(50_000),
            ..first.clone()
        };
        ensure!(rounds == vec![expected], "{rounds:?}");
        // A voided named round keeps its ballots: the record shows what happened.
        ensure!(store.ballots(first.id).await?.len() == 1);

        // Nothing more happens to a round once it has ended.
        ensure!(is_corrupt(store.set_deadline(first.id, 99_000).await));
        ensure!(is_corrupt(store.void_round(first.id, 60_000).await));
        ensure!(is_corrupt(
            store
                .record_ballots(&[ballot(first.id, 5, Choice::No, 1)])
                .await
        ));
        let result = result_of(&[Choice::Yes]);
        ensure!(is_corrupt(
            store
                .close_round(first.id, 60_000, &result, Secrecy::Named)
                .await
        ));
        ensure!(is_corrupt(store.set_deadline(RoundId([0; 16]), 1).await));

        // A re-vote is a new round on the same item.
        let second = round(Secrecy::Named, 70_000);
        store.open_round(&second).await?;
        let ids: Vec<RoundId> = store
            .rounds(&meeting())
            .await?
            .iter()
            .map(|r| r.id)
            .collect();
        ensure!(ids == vec![first.id, second.id]);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn ballots_are_upserted_by_sequence_number() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let r = round(Secrecy::Named, 1_000);
        store.open_round(&r).await?;
        let count = format!("SELECT count(*) FROM ballots WHERE round_id = '{}'", r.id);

        // A retried ballot, within a batch and across batches, is one row.
        let first = ballot(r.id, 7, Choice::Yes, 3);
        store
            .record_ballots(&[first.clone(), first.clone()])
            .await?;
        store.record_ballots(std::slice::from_ref(&first)).await?;
        ensure!(integer(&store, &count).await? == 1);
        ensure!(store.ballots(r.id).await? == vec![first.clone()]);

        // A lower sequence number never replaces a higher one.
        store
            .record_ballots(&[ballot(r.id, 7, Choice::No, 2)])
            .await?;
        ensure!(store.ballots(r.id).await? == vec![first]);

        // A higher one does, and the highest in a batch wins whatever its place.
        let changed = ballot(r.id, 7, Choice::Abstain, 5);
        store
            .record_ballots(&[
                ballot(r.id, 7, Choice::No, 4),
                changed.clone(),
                ballot(r.id, 2, Choice::No, 1),
                ballot(r.id, 7, Choice::Yes, 4),
            ])
            .await?;
        ensure!(store.ballots(r.id).await? == vec![ballot(r.id, 2, Choice::No, 1), changed]);
        store.record_ballots(&[]).await?;

        // A batch larger than SQLite takes in one statement: a party congress.
        let congress: Vec<BallotRecord> = (100..2_600)
            .map(|seat| ballot(r.id, seat, Choice::Yes, 1))
            .collect();
        store.record_ballots(&congress).await?;
        ensure!(integer(&store, &count).await? == 2 + 2_500);

        // A batch naming a round that is not open is refused as a whole.
        let unknown = ballot(RoundId([9; 16]), 1, Choice::Yes, 1);
        let fine = ballot(r.id, 3, Choice::Yes, 1);
        ensure!(is_corrupt(
            store.record_ballots(&[fine.clone(), unknown]).await
        ));
        ensure!(integer(&store, &count).await? == 2 + 2_500);

        // The refused batch's transaction ended with it: the next batch gets
        // the write lock and commits.
        store.record_ballots(std::slice::from_ref(&fine)).await?;
        ensure!(integer(&store, &count).await? == 2 + 2_500 + 1);
        Ok(())
    })
    .await
}

/// The ballots' audit entry is chained after whatever the meeting's chain
/// held (the store reads the head in the same statement as the rounds), and
/// a batch that names two meetings' rounds extends each chain with its own.
#[tokio::test]
async fn a_batch_extends_the_audit_chain_of_each_meeting_it_names() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let other = MeetingId::parse("phuc-loi-2026-k12-to-1").unwrap();
        store
            .import_meeting(&other, "title = \"Tổ 1\"", &[], &[])
            .await?;
        let here = round(Secrecy::Named, 1_000);
        let there = RoundRecord {
            meeting: other.clone(),
            ..round(Secrecy::Secret, 1_000)
        };
        store.open_round(&here).await?;
        store.open_round(&there).await?;
        store
            .record_ballots(&[ballot(here.id, 1, Choice::Yes, 1)])
            .await?;
        store
            .record_ballots(&[
                ballot(here.id, 2, Choice::No, 1),
                secret_ballot(there.id, 5, Choice::Abstain, 1, &[]),
                ballot(here.id, 3, Choice::Yes, 1),
            ])
            .await?;

        for (id, round, seats) in [
            (meeting(), here.id, vec![vec![1], vec![2, 3]]),
            (other, there.id, vec![vec![5]]),
        ] {
            let chain = store.audit_log(&id).await?;
            ensure!(
                check_links(&id, &chain).is_empty(),
                "{id}: {:?}",
                check_links(&id, &chain)
            );
            let batches: Vec<Vec<SeatNo>> = chain
                .iter()
                .filter_map(|e| match &e.event {
                    Event::BallotsAccepted { round: r, ballots } if *r == round => {
                        Some(ballots.iter().map(|a| a.seat).collect())
                    }
                    _ => None,
                })
                .collect();
            ensure!(batches == seats, "{id}: ballot entries {batches:?}");
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn closing_a_named_round_commits_its_result_and_keeps_its_ballots() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let r = round(Secrecy::Named, 1_000);
        store.open_round(&r).await?;
        let ballots = vec![
            ballot(r.id, 1, Choice::Yes, 1),
            ballot(r.id, 2, Choice::No, 1),
            ballot(r.id, 3, Choice::Yes, 2),
        ];
        store.record_ballots(&ballots).await?;

        // A result that is not the count of the stored ballots is refused,
        // and so is closing a named round as a secret one; nothing is written.
        let wrong = result_of(&[Choice::Yes, Choice::Yes, Choice::Yes]);
        ensure!(is_corrupt(
            store
                .close_round(r.id, 61_000, &wrong, Secrecy::Named)
                .await
        ));
        let result = result_of(&[Choice::Yes, Choice::No, Choice::Yes]);
        ensure!(is_corrupt(
            store
                .close_round(r.id, 61_000, &result, Secrecy::Secret)
                .await
        ));
        // A secret ballot for a named round is refused.
        ensure!(is_corrupt(
            store
                .record_ballots(&[secret_ballot(r.id, 4, Choice::No, 1, &[])])
                .await
        ));
        ensure!(store.rounds(&meeting()).await?[0].status == RoundStatus::Open);

        store
            .close_round(r.id, 61_000, &result, Secrecy::Named)
            .await?;
        let closed = store.rounds(&meeting()).await?;
        let expected = RoundRecord {
            status: RoundStatus::Closed,
            closed_at: Some(61_000),
            result: Some(result.clone()),
            ..r.clone()
        };
        ensure!(closed == vec![expected], "{closed:?}");
        ensure!(store.ballots(r.id).await? == ballots);
        ensure!(
            assert_no_seat_choice_link(&store, r.id).await.is_err(),
            "the secrecy check sees a named round's seat-choice links"
        );
        let passed = integer(
            &store,
            &format!("SELECT yes FROM tallies WHERE round_id = '{}'", r.id),
        )
        .await?;
        ensure!(passed == 2, "the tally's numbers are readable in SQL");
        ensure!(is_corrupt(
            store
                .close_round(r.id, 62_000, &result, Secrecy::Named)
                .await
        ));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_secret_round_never_stores_a_seat_beside_its_choice() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let r = round(Secrecy::Secret, 1_000);
        store.open_round(&r).await?;
        let first = secret_ballot(r.id, 9, Choice::Yes, 1, &[]);
        store
            .record_ballots(&[
                first.clone(),
                secret_ballot(r.id, 4, Choice::No, 1, &[]),
                secret_ballot(r.id, 6, Choice::Abstain, 1, &[]),
            ])
            .await?;
        // Seat 9 changes its vote: its first choice row goes.
        let changed = secret_ballot(r.id, 9, Choice::No, 2, &[&first]);
        store.record_ballots(std::slice::from_ref(&changed)).await?;
        // Sent again (a retry), the change writes nothing more.
        store.record_ballots(std::slice::from_ref(&changed)).await?;

        // While the round is open: two unlinked lists, and no ballot rows.
        let tables = assert_no_seat_choice_link(&store, r.id).await?;
        ensure!(
            tables == ["rounds", "secret_choices", "secret_participants"],
            "{tables:?}"
        );
        ensure!(store.ballots(r.id).await?.is_empty());
        let open = store.secret_ballots(r.id).await?;
        ensure!(open.seats() == vec![4, 6, 9], "{open:?}");
        ensure!(
            open.participants
                .iter()
                .map(|p| (p.seq, p.recorded_at))
                .collect::<Vec<_>>()
                == vec![(1, 1_001), (1, 1_001), (2, 1_002)],
            "{open:?}"
        );
        let mut chosen = open.votes();
        chosen.sort();
        ensure!(
            chosen == votes(&[Choice::No, Choice::No, Choice::Abstain]),
            "{open:?}"
        );
        ensure!(open.choices.iter().any(|(t, _)| *t == changed.tracker()));
        ensure!(open.choices.iter().all(|(t, _)| *t != first.tracker()));
        ensure!(
            open.choices.windows(2).all(|w| w[0].0 < w[1].0),
            "by tracker"
        );

        // Closed as a named round, or with a result that is not its choices':
        // refused, nothing written.
        let result = result_of(&[Choice::No, Choice::No, Choice::Abstain]);
        ensure!(is_corrupt(
            store
                .close_round(r.id, 61_000, &result, Secrecy::Named)
                .await
        ));
        let wrong = result_of(&[Choice::Yes, Choice::No, Choice::Abstain]);
        ensure!(is_corrupt(
            store
                .close_round(r.id, 61_000, &wrong, Secrecy::Secret)
                .await
        ));
        // A named ballot for a secret round is refused.
        ensure!(is_corrupt(
            store
                .record_ballots(&[ballot(r.id, 2, Choice::Yes, 1)])
                .await
        ));
        store
            .close_round(r.id, 61_000, &result, Secrecy::Secret)
            .await?;

        let kept = store.secret_ballots(r.id).await?;
        ensure!(
            kept == open,
            "the close rewrites the rows as they were: {kept:?}"
        );
        let closed = &store.rounds(&meeting()).await?[0];
        ensure!(closed.status == RoundStatus::Closed && closed.result == Some(result.clone()));
        // The chain's close carries the choices in the record's order.
        let chained = store.audit_log(&meeting()).await?;
        let closing = chained.iter().find_map(|e| match &e.event {
            Event::RoundClosed { secret_choices, .. } => secret_choices.clone(),
            _ => None,
        });
        let in_order: Vec<Choice> = kept.votes().iter().filter_map(Vote::choice).collect();
        ensure!(closing == Some(in_order), "{closing:?}");
        let tables = assert_no_seat_choice_link(&store, r.id).await?;
        ensure!(
            tables == ["rounds", "secret_choices", "secret_participants", "tallies"],
            "{tables:?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn voiding_a_secret_round_keeps_its_unlinked_lists() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let r = round(Secrecy::Secret, 1_000);
        store.open_round(&r).await?;
        store
            .record_ballots(&[
                secret_ballot(r.id, 9, Choice::Yes, 1, &[]),
                secret_ballot(r.id, 4, Choice::No, 1, &[]),
                secret_ballot(r.id, 6, Choice::Yes, 1, &[]),
            ])
            .await?;
        let open = store.secret_ballots(r.id).await?;
        store.void_round(r.id, 30_000).await?;

        let kept = store.secret_ballots(r.id).await?;
        ensure!(kept == open && kept.seats() == vec![4, 6, 9], "{kept:?}");
        let tables = assert_no_seat_choice_link(&store, r.id).await?;
        ensure!(
            tables == ["rounds", "secret_choices", "secret_participants"],
            "{tables:?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn rounds_come_back_in_opening_order_with_their_results() -> Result<()> {
    on_every_backend(|store| async move {
        with_meeting(&store).await?;
        let mut expected = Vec::new();
        for (i, choice) in [Choice::Yes, Choice::No].into_iter().enumerate() {
            let opened_at = 1_000 + 100_000 * i as u64;
            let r = RoundRecord {
                item: i as u32,
                ..round(Secrecy::Named, opened_at)
            };
            store.open_round(&r).await?;
            store.record_ballots(&[ballot(r.id, 1, choice, 1)]).await?;
            let result = result_of(&[choice]);
            store
                .close_round(r.id, opened_at + 5_000, &result, Secrecy::Named)
                .await?;
            expected.push(RoundRecord {
                status: RoundStatus::Closed,
                closed_at: Some(opened_at + 5_000),
                result: Some(result.clone()),
                ..r
            });
        }
        let open = round(Secrecy::Secret, 500_000);
        store.open_round(&open).await?;
        expected.push(open);
        ensure!(store.rounds(&meeting()).await? == expected);
        let other = MeetingId::parse("other").unwrap();
        ensure!(store.rounds(&other).await?.is_empty());
        Ok(())
    })
    .await
}

/// The store's rules for an amendment of a stored meeting: each refusal
/// names what it keeps and writes nothing, and what passes is chained with
/// who made it and which items changed.
#[tokio::test]
async fn an_amendment_keeps_what_the_record_holds_and_is_chained_or_writes_nothing() -> Result<()> {
    use gavel_protocol::floor::{FloorChange, FloorKind, FloorRequest, Speaker};
    use gavel_records::chain::{Amender, Sha};
    use gavel_server::meeting::amend::AmendRefusal;
    use gavel_server::meeting::{EXAMPLE, MeetingDefinition, MeetingForm};
    use gavel_server::store::Amendment;
    on_every_backend(|store| async move {
        let id = MeetingId::parse("phuc-loi-2026-ky-12").map_err(anyhow::Error::msg)?;
        store.import_meeting(&id, EXAMPLE, &[], &[]).await?;
        let amendment = |form: &MeetingForm, previous: Sha| -> Result<Amendment> {
            Ok(Amendment {
                previous,
                text: form.check()?.0,
                by: Amender::Chair,
                document: None,
            })
        };
        let stored = |store: Store, id: MeetingId| async move {
            let text = store
                .meetings()
                .await?
                .into_iter()
                .find(|m| m.id == id)
                .context("stored")?
                .definition;
            let chain = store.audit_length(&id).await?;
            anyhow::Ok((text, chain))
        };

        // The same meeting in the form's words: the file stays as written.
        let mut form = MeetingForm::of(&MeetingDefinition::parse(EXAMPLE)?);
        let chain = store.audit_length(&id).await?;
        let same = store
            .amend_meeting(&id, &amendment(&form, Sha::of(EXAMPLE.as_bytes()))?)
            .await?;
        ensure!(same.sha == Sha::of(EXAMPLE.as_bytes()) && same.items.is_empty());
        ensure!(stored(store.clone(), id.clone()).await? == (EXAMPLE.to_owned(), chain));

        // Before any round: the header and an item change, chained.
        form.quorum = serde_json::from_value(serde_json::json!("more_than_half"))?;
        form.topics[1].items[0].title = "Dự thảo Nghị quyết đã sửa".into();
        let amended = store
            .amend_meeting(&id, &amendment(&form, Sha::of(EXAMPLE.as_bytes()))?)
            .await?;
        ensure!(amended.items == [2], "{:?}", amended.items);
        let last = store.audit_log(&id).await?.pop().context("an entry")?;
        ensure!(
            last.event
                == Event::MeetingAmended {
                    definition_sha256: amended.sha,
                    by: Amender::Chair,
                    items: vec![2],
                },
            "{:?}",
            last.event
        );
        let previous = amended.sha;

        // Made to a text that is no longer stored: refused, nothing written.
        let before = stored(store.clone(), id.clone()).await?;
        let stale = store
            .amend_meeting(&id, &amendment(&form, Sha::of(EXAMPLE.as_bytes()))?)
            .await;
        ensure!(matches!(stale, Err(StoreError::DefinitionChanged(_))), "{stale:?}");

        // A key changed by an edit: refused.
        let mut keyed = form.clone();
        keyed.seats[0].public_key = Some(key(9).to_hex());
        let keyed = store.amend_meeting(&id, &amendment(&keyed, previous)?).await;
        ensure!(
            matches!(&keyed, Err(StoreError::Amend(AmendRefusal::Invalid { field, .. })) if field == "seats[0].public_key"),
            "{keyed:?}"
        );

        // A round on item 2 and a request at the floor of item 5.
        let voted = RoundRecord {
            meeting: id.clone(),
            item: 2,
            ..round(Secrecy::Named, 1_000)
        };
        store.open_round(&voted).await?;
        let request = FloorRequest {
            id: 2,
            item: 5,
            kind: FloorKind::Speak,
            speaker: Speaker::Seat(4),
            respondent: None,
            topic: None,
            requested_at: 1_500,
        };
        store
            .record_floor(&id, &[FloorChange::Requested { request, place: 0 }])
            .await?;
        let before = (before.0, store.audit_length(&id).await?);
        /// A change of the form that the store must refuse.
        type Change = fn(&mut MeetingForm);
        let refusals: [(&str, Change); 6] = [
            ("item_voted", |f| f.topics[1].items[0].title = "Khác".into()),
            ("item_voted", |f| drop(f.topics[0].items.remove(1))),
            ("item_recorded", |f| drop(f.topics.remove(2))),
            (
                "meeting_started",
                |f| {
                    f.total_seats = 39;
                    f.seats.pop();
                },
            ),
            ("meeting_started", |f| f.labels.yes = "Đồng ý".into()),
            ("questions", |f| f.topics[2].items[0].questions.clear()),
        ];
        for (expected, change) in refusals {
            let mut changed = form.clone();
            change(&mut changed);
            let refused = store.amend_meeting(&id, &amendment(&changed, previous)?).await;
            let reason = match &refused {
                Err(StoreError::Amend(AmendRefusal::ItemVoted { item: 2, .. })) => "item_voted",
                Err(StoreError::Amend(AmendRefusal::ItemRecorded { item: 5, .. })) => {
                    "item_recorded"
                }
                Err(StoreError::Amend(AmendRefusal::MeetingStarted { field: "questions", .. })) => {
                    "questions"
                }
                Err(StoreError::Amend(AmendRefusal::MeetingStarted { .. })) => "meeting_started",
                other => anyhow::bail!("{expected}: {other:?}"),
            };
            ensure!(reason == expected, "{expected}: {refused:?}");
            ensure!(
                stored(store.clone(), id.clone()).await? == before,
                "{expected}: nothing was written"
            );
        }

        // A name corrected and an item added after the last recorded one pass.
        let mut corrected = form.clone();
        corrected.seats[4].name = "Hoàng Văn Long (đã sửa)".into();
        let mut added = corrected.topics[3].items[0].clone();
        added.title = "Thông qua Nghị quyết kỳ họp".into();
        corrected.topics[3].items.push(added);
        let amended = store
            .amend_meeting(&id, &amendment(&corrected, previous)?)
            .await?;
        let count = u32::try_from(amended.definition.agenda.len())?;
        ensure!(amended.items == [count - 1], "{:?}", amended.items);
        Ok(())
    })
    .await
}
