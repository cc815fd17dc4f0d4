//! The baselines Gavel is measured against, by the same binary on the same
//! machine: a minimal broadcaster, `verify_strict` on every core, and
//! batched inserts through sqlx.

use crate::measure::{Cpu, arrival, cpu_seconds, now_ms, now_us, unix_us};
use crate::report::{Report, Seen};
use crate::swarm::{GIVE_UP, LOGINS_IN_FLIGHT};
use anyhow::Context as _;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt, stream};
use gavel_client::client::{READ_BUFFER, Socket, arrivals, open_socket};
use gavel_protocol::messages::LiveTally;
use gavel_protocol::{Counts, RoundId, ServerMsg};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt as _;
use tokio::time::{Instant, sleep};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A tally frame as Gavel sends a delegate in a round of `seats` with interim totals.
pub(crate) fn tally_frame(version: u64, seats: u32) -> ServerMsg {
    ServerMsg::Tally {
        version,
        round: RoundId([7; 16]),
        live: LiveTally {
            taking_part: seats / 2,
            counts: Some(Counts {
                total_seats: seats,
                present: seats,
                yes: seats / 4,
                no: seats / 8,
                abstain: seats / 8,
            }),
            marks: None,
            voted: None,
            choices: None,
        },
        server_time_us: now_us(),
    }
}

/// The broadcaster's listen queue, as long as the Gavel server's: 10,000
/// clients connecting at once overrun tokio's default of 1,024.
pub(crate) const LISTEN_BACKLOG: u32 = 8192;
/// What the broadcaster prints on stdout once it listens, before its address.
pub(crate) const BROADCASTER_LISTENING: &str = "broadcaster listening on ";

/// The floor for fan-out: a minimal tokio-tungstenite server sends a
/// tally-sized frame (serialized once, shared by every connection) every
/// `interval` to `clients` clients for `duration`; measured as the swarm
/// measures Gavel. For a fair floor, `interval` is the pace at which Gavel
/// sent updates in the fan-out run it is compared with: at a faster pace,
/// 10,000 clients on two cores fall behind and the baseline measures its own
/// growing queue rather than the time one update takes to reach everyone. The broadcaster is its own process (`program broadcaster`, see
/// [`broadcaster`]), as a server is: the two ends of 10,000 connections in
/// one process would need 20,000 open files.
pub async fn baseline_broadcast(
    program: &Path,
    clients: u32,
    duration: Duration,
    interval: Duration,
    frame: Option<&Path>,
) -> anyhow::Result<Report> {
    let mut command = tokio::process::Command::new(program);
    command.args([
        "broadcaster",
        "--clients",
        &clients.to_string(),
        "--seconds",
        &duration.as_secs_f64().to_string(),
        "--interval-ms",
        &interval.as_millis().to_string(),
    ]);
    if let Some(frame) = frame {
        command.arg("--frame").arg(frame);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} broadcaster", program.display()))?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .context("the broadcaster exited before listening")?;
        if let Some(addr) = line.strip_prefix(BROADCASTER_LISTENING) {
            break addr.trim().to_owned();
        }
    };
    let url = format!("ws://{addr}");
    let started = Instant::now();
    // The same read buffer as the swarm's tablets have when they measure
    // Gavel: the measuring end must be the same for both.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let connected: Vec<Socket> = stream::iter(0..clients)
        .map(|_| open_socket(&url, config, None))
        .buffered(LOGINS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut report = Report::new("baseline-broadcast", clients);
    report.login_seconds = Some(started.elapsed().as_secs_f64());
    let pid = child.id();
    let cpu_before = Cpu::read(pid);
    // Each reader stops when the broadcaster, done, closes its connection.
    let readers: Vec<_> = connected
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                arrivals(&mut ws)
                    .context("a broadcaster client's TCP stream")?
                    .stamp()
                    .context("asking the kernel to timestamp arrivals (Linux)")?;
                let mut seen = Vec::new();
                while let Some(Ok(Message::Text(text))) = ws.next().await {
                    let timed = match serde_json::from_str(&text) {
                        Ok(ServerMsg::Tally {
                            version,
                            server_time_us,
                            ..
                        }) => Some((version, server_time_us)),
                        Ok(ServerMsg::Floor(view)) => Some((view.version, view.server_time * 1000)),
                        _ => None,
                    };
                    if let Some((version, server_time_us)) = timed {
                        seen.push(Seen {
                            version,
                            server_time_us,
                            arrived: unix_us(arrival(arrivals(&mut ws).and_then(|tcp| tcp.last()))),
                            read: now_us(),
                        });
                    }
                }
                anyhow::Ok(seen)
            })
        })
        .collect();
    let mut seen = Vec::with_capacity(readers.len());
    for reader in readers {
        seen.push(reader.await??);
    }
    // Read before the wait: until it is reaped, an exited broadcaster's
    // CPU times stay readable.
    let cpu_after = Cpu::read(pid);
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "the broadcaster failed: {status}");
    report.fanout(&seen);
    report.cpu_per_update(cpu_before, cpu_after);
    Ok(report)
}

/// The broadcaster of [`baseline_broadcast`], in its own process: listens on
/// a free loopback port (announced on stdout), waits until `clients`
/// connections are subscribed, sends a frame every `interval` for `duration`, then
/// closes every connection with a close handshake and returns once each
/// client has read to its end. Exiting with 10,000 sockets' frames still
/// unread would leave them to the kernel, which resets orphaned sockets
/// beyond its limit, and the clients would lose their last frames.
///
/// With `frame` (a `floor` frame Gavel sent, see [`crate::floor`]) it sends
/// that frame, its version and clock renewed, instead of a tally: the same
/// bytes to build, send and read as Gavel's change of the floor.
pub async fn broadcaster(
    clients: u32,
    duration: Duration,
    interval: Duration,
    frame: Option<&Path>,
) -> anyhow::Result<()> {
    let mut floor = match frame {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            match serde_json::from_str(&text)
                .with_context(|| format!("{} is not a frame", path.display()))?
            {
                ServerMsg::Floor(view) => Some(view),
                _ => anyhow::bail!("{} is not a floor frame", path.display()),
            }
        }
        None => None,
    };
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = socket.listen(LISTEN_BACKLOG)?;
    println!("{BROADCASTER_LISTENING}{}", listener.local_addr()?);
    let (frames, _) = tokio::sync::broadcast::channel::<Message>(1024);
    let connections = tokio_util::task::TaskTracker::new();
    let accepting = {
        let frames = frames.clone();
        let connections = connections.clone();
        tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => return e,
                };
                // As the hub does, so that both are measured alike.
                let _ = stream.set_nodelay(true);
                let mut frames = frames.subscribe();
                connections.spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    // Until the channel closes: every frame has been sent.
                    while let Ok(frame) = frames.recv().await {
                        if ws.send(frame).await.is_err() {
                            return;
                        }
                    }
                    if ws.close(None).await.is_ok() {
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                });
            }
        })
    };
    // Wait until every connection is subscribed before the first frame.
    while frames.receiver_count() < clients as usize {
        if accepting.is_finished() {
            let error = accepting.await?;
            return Err(anyhow::Error::from(error).context("the broadcaster stopped accepting"));
        }
        sleep(Duration::from_millis(10)).await;
    }
    let mut tick = tokio::time::interval(interval);
    let end = Instant::now() + duration;
    let mut version = 0;
    while Instant::now() < end {
        tick.tick().await;
        version += 1;
        let text = match &mut floor {
            Some(view) => {
                view.version = version;
                view.server_time = now_ms();
                serde_json::to_string(&ServerMsg::Floor(view.clone()))?
            }
            None => serde_json::to_string(&tally_frame(version, clients))?,
        };
        let _ = frames.send(Message::text(text));
    }
    // Closing the channel (the accepting task holds a sender too) ends each
    // connection once its frames are sent.
    accepting.abort();
    let _ = accepting.await;
    drop(frames);
    connections.close();
    tokio::time::timeout(GIVE_UP, connections.wait())
        .await
        .context("the clients did not read their frames to the end")?;
    Ok(())
}

/// The floor for signature checks: `verify_strict` of ballot-sized messages
/// on `threads` threads for `duration`.
pub fn baseline_verify(threads: usize, duration: Duration) -> Report {
    let mut rng = rand::rngs::OsRng;
    let samples: Arc<Vec<_>> = Arc::new(
        (0..256u32)
            .map(|i| {
                let key = SigningKey::generate(&mut rng);
                // About the size of a ballot's signed bytes.
                let message = format!("gavel-ballot-v1 swarm-meeting {i:0>90}").into_bytes();
                let signature = key.sign(&message);
                (key.verifying_key(), message, signature)
            })
            .collect(),
    );
    let cpu_before = cpu_seconds("self");
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let samples = samples.clone();
            std::thread::spawn(move || {
                let mut done = 0u64;
                while started.elapsed() < duration {
                    for (key, message, signature) in samples.iter() {
                        key.verify_strict(message, signature)
                            .expect("a valid signature");
                    }
                    done += samples.len() as u64;
                }
                done
            })
        })
        .collect();
    let total: u64 = workers
        .into_iter()
        .map(|w| w.join().expect("verify thread"))
        .sum();
    let mut report = Report::new("baseline-verify", 0);
    report.threads = Some(threads);
    report.verifies_per_second = Some(total as f64 / started.elapsed().as_secs_f64());
    report.cpu_us_per_verify = cpu_before
        .zip(cpu_seconds("self"))
        .filter(|_| total > 0)
        .map(|(before, after)| (after - before) * 1e6 / total as f64);
    report
}

/// The ceiling for durable commits: batches of `batch` ballot-shaped rows
/// into a scratch table, one transaction each, as fast as one writer can
/// (PostgreSQL: one `UNNEST` insert per batch; SQLite: multi-row inserts),
/// with the durability settings the server uses. The table is dropped after.
pub async fn baseline_store(url: &str, batch: usize, duration: Duration) -> anyhow::Result<Report> {
    use sqlx::Connection as _;
    let table = format!("swarm_baseline_{:016x}", rand::random::<u64>());
    let signature = vec![7u8; 64];
    let mut report = Report::new("baseline-store", 0);
    report.batch = Some(batch);
    let mut rows = 0usize;
    let elapsed = if url.starts_with("postgres") {
        use std::str::FromStr as _;
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?
            .options([("synchronous_commit", "on")]);
        let mut db = sqlx::PgConnection::connect_with(&options).await?;
        sqlx::query(&format!(
            "CREATE TABLE {table} (round_id TEXT NOT NULL, seat BIGINT NOT NULL, \
             choice TEXT NOT NULL, seq BIGINT NOT NULL, signature BYTEA NOT NULL, \
             recorded_at BIGINT NOT NULL, PRIMARY KEY (round_id, seat))"
        ))
        .execute(&mut db)
        .await?;
        let started = Instant::now();
        let insert = format!(
            "INSERT INTO {table} (round_id, seat, choice, seq, signature, recorded_at) \
             SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], \
             $5::BYTEA[], $6::BIGINT[])"
        );
        while started.elapsed() < duration {
            let seats: Vec<i64> = (rows..rows + batch).map(|s| s as i64).collect();
            let mut tx = db.begin().await?;
            sqlx::query(&insert)
                .bind(vec!["r"; batch])
                .bind(&seats)
                .bind(vec!["yes"; batch])
                .bind(&seats)
                .bind(vec![signature.clone(); batch])
                .bind(vec![now_ms() as i64; batch])
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            rows += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut db)
            .await?;
        elapsed
    } else {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr as _;
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let mut db = sqlx::SqliteConnection::connect_with(&options).await?;
        sqlx::query(&format!(
            "CREATE TABLE {table} (round_id TEXT NOT NULL, seat INTEGER NOT NULL, \
             choice TEXT NOT NULL, seq INTEGER NOT NULL, signature BLOB NOT NULL, \
             recorded_at INTEGER NOT NULL, PRIMARY KEY (round_id, seat))"
        ))
        .execute(&mut db)
        .await?;
        let started = Instant::now();
        while started.elapsed() < duration {
            let mut tx = db.begin().await?;
            let mut insert = sqlx::QueryBuilder::new(format!(
                "INSERT INTO {table} (round_id, seat, choice, seq, signature, recorded_at) "
            ));
            insert.push_values(rows..rows + batch, |mut row, seat| {
                row.push_bind("r")
                    .push_bind(seat as i64)
                    .push_bind("yes")
                    .push_bind(seat as i64)
                    .push_bind(&signature[..])
                    .push_bind(now_ms() as i64);
            });
            insert.build().execute(&mut *tx).await?;
            tx.commit().await?;
            rows += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut db)
            .await?;
        elapsed
    };
    report.rows_per_second = Some(rows as f64 / elapsed.as_secs_f64());
    Ok(report)
}
