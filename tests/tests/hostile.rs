//! Input the hub refuses. Each test sends one kind of hostile input to a real
//! server, asserts the typed refusal (or the close code, or the HTTP status),
//! and then shows that the server keeps serving the others: another tablet
//! votes and its ballot is in the store.
//!
//! Refusals already proven in `vote_path.rs` are not repeated here: malformed
//! JSON, unknown message types, a wrong protocol version, a watch for an
//! unknown meeting, a seat not checked in, a chair command from a delegate, a
//! reused or unknown code (`refusals_name_their_reason_and_the_connection_keeps_working`);
//! a forged signature, another seat's key, replays into another round and of
//! an old round (`forged_foreign_and_replayed_ballots_are_refused`); a ballot
//! after the deadline (`a_ballot_after_the_deadline_is_refused_as_late`); a
//! stale replay in the same round
//! (`a_changed_vote_counts_once_and_a_resent_ballot_is_harmless`).
//!
//! Tests that need several client addresses bind the client's socket to
//! another loopback address (127.0.0.2, 127.0.0.3, …), as devices on the
//! hall's Wi-Fi would have.

use ed25519_dalek::SigningKey;
use futures_util::{SinkExt, StreamExt};
use gavel_client::Session;
use gavel_protocol::messages::{ChairCommand, RoundStatus};
use gavel_protocol::signing::enroll_bytes;
use gavel_protocol::{
    Choice, ClientMsg, MAX_CLIENT_FRAME_BYTES, MeetingId, PROTOCOL_VERSION, Principal, PublicKey,
    RefusalReason, RoundId, ServerMsg, Signature,
};
use gavel_server::app::Options;
use gavel_server::limits::{LimitSettings, SILENT_PINGS};
use gavel_server::store::{NewCode, code_hash};
use gavel_tests::chair::{changeable_item, open_round};
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message, protocol::frame::coding::CloseCode};

/// A chair and two delegates, checked in, with a named vote open.
struct Hall {
    chair: Session,
    delegates: Vec<Session>,
    round: RoundId,
}

async fn hall(server: &TestServer) -> anyhow::Result<Hall> {
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=2 {
        let (_, mut d) = server.enroll(Principal::Seat(seat)).await?;
        d.check_in().await?;
        delegates.push(d);
    }
    let round = open_named(&mut chair).await?;
    for d in &mut delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
    }
    Ok(Hall {
        chair,
        delegates,
        round,
    })
}

async fn open_named(chair: &mut Session) -> anyhow::Result<RoundId> {
    let item = changeable_item(chair, gavel_protocol::rules::Secrecy::Named);
    open_round(chair, item, 120).await
}

/// The proof that no harm was done: a delegate votes, gets a receipt, and
/// the ballot is in the store.
async fn another_tablet_votes(
    server: &TestServer,
    delegate: &mut Session,
    round: RoundId,
) -> anyhow::Result<()> {
    let receipt = delegate.cast(Choice::Yes).await?;
    assert_eq!(receipt.round, round);
    let stored = server.store().await?.ballots(round).await?;
    assert!(
        stored
            .iter()
            .any(|b| b.seat == receipt.seat && b.seq == receipt.seq),
        "the acknowledged ballot is in the store"
    );
    Ok(())
}

type Raw = WebSocketStream<TcpStream>;

/// A WebSocket to `server` from the loopback address `127.0.0.{host}`.
async fn connect_from(server: &TestServer, host: u8) -> Result<Raw, tungstenite::Error> {
    connect_with(server, host, None).await
}

async fn connect_with(
    server: &TestServer,
    host: u8,
    receive_buffer: Option<u32>,
) -> Result<Raw, tungstenite::Error> {
    let addr: SocketAddr = server
        .url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .expect("the test server's address");
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, host), 0)))?;
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes)?;
    }
    let stream = socket.connect(addr).await?;
    let (ws, _) = tokio_tungstenite::client_async(server.url.as_str(), stream).await?;
    Ok(ws)
}

/// The next protocol frame, or `None` once the server has closed (with the
/// close code it gave, if any).
async fn read(ws: &mut Raw) -> Result<ServerMsg, Option<CloseCode>> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                return Ok(serde_json::from_str(&text).expect("the server's frames parse"));
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code)),
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Err(None),
        }
    }
}

/// Sends `msg` and returns the server's answer.
async fn say(ws: &mut Raw, msg: Message) -> Result<ServerMsg, Option<CloseCode>> {
    ws.send(msg).await.expect("sending a frame");
    read(ws).await
}

/// A `watch` of the example meeting, as a raw frame.
fn watch_frame() -> Message {
    let msg = ClientMsg::Watch {
        v: PROTOCOL_VERSION,
        meeting: example_meeting(),
    };
    Message::text(serde_json::to_string(&msg).expect("serializes"))
}

fn enroll_frame(code: &str, key: &SigningKey) -> Message {
    let public_key = PublicKey::of(key);
    let msg = ClientMsg::Enroll {
        v: PROTOCOL_VERSION,
        code: code.to_owned(),
        public_key,
        signature: Signature::sign(key, &enroll_bytes(code, &public_key)),
    };
    Message::text(serde_json::to_string(&msg).expect("serializes"))
}

fn reason(answer: &Result<ServerMsg, Option<CloseCode>>) -> Option<RefusalReason> {
    match answer {
        Ok(ServerMsg::Refused { reason, .. }) => Some(*reason),
        _ => None,
    }
}

fn new_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

#[tokio::test]
async fn binary_and_oversized_frames_are_refused_and_only_their_sender_is_closed()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server).await?;
        let mut raw = connect_from(&server, 1).await?;
        assert!(matches!(
            read(&mut raw).await,
            Ok(ServerMsg::Challenge { .. })
        ));
        let answer = say(&mut raw, Message::binary(vec![0u8, 159, 146, 150])).await;
        assert_eq!(
            reason(&answer),
            Some(RefusalReason::MalformedFrame),
            "{}",
            db.name
        );
        // The connection survives a binary frame: it can still log in.
        let answer = say(&mut raw, watch_frame()).await;
        assert!(
            matches!(answer, Ok(ServerMsg::Welcome { .. })),
            "{answer:?}"
        );

        // One byte over the limit: closed with 1009, the others unaffected.
        let oversized = format!(
            r#"{{"type":"sync","id":1,"pad":"{}"}}"#,
            "x".repeat(MAX_CLIENT_FRAME_BYTES)
        );
        raw.send(Message::text(oversized)).await?;
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Err(code) = read(&mut raw).await {
                    break code;
                }
            }
        })
        .await
        .expect("the server ends the connection");
        assert_eq!(end, Some(CloseCode::Size), "{}", db.name);
        another_tablet_votes(&server, &mut hall.delegates[1], hall.round).await?;
        hall.chair.sync().await?;
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_ballot_for_an_unknown_meeting_or_seat_cannot_get_past_login() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server).await?;
        let key = new_key();
        let elsewhere = MeetingId::parse("no-such-meeting").expect("a valid id");
        let err = gavel_client::Client::connect(&server.url)
            .await?
            .login(&elsewhere, &key)
            .await
            .err()
            .expect("unknown meeting");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::UnknownMeeting),
            "{}",
            db.name
        );
        // A key no seat enrolled: there is no seat to cast for.
        let err = gavel_client::Client::connect(&server.url)
            .await?
            .login(&example_meeting(), &key)
            .await
            .err()
            .expect("unknown key");
        assert_eq!(err.reason(), Some(RefusalReason::UnknownKey), "{}", db.name);
        // A cast before login is refused too.
        let mut raw = connect_from(&server, 1).await?;
        read(&mut raw).await.expect("challenge");
        let cast = format!(
            r#"{{"type":"cast","id":9,"round":"{}","documents":"{}","choice":"yes","seq":1,"signature":"{}"}}"#,
            hall.round,
            "00".repeat(32),
            "00".repeat(64)
        );
        let answer = say(&mut raw, Message::text(cast)).await;
        assert_eq!(reason(&answer), Some(RefusalReason::NotAuthenticated));
        another_tablet_votes(&server, &mut hall.delegates[0], hall.round).await?;
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_ballot_for_a_voided_round_is_refused_and_the_revote_counts() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server).await?;
        let voided = hall.round;
        hall.delegates[0].cast(Choice::No).await?;
        hall.chair.chair(ChairCommand::Void).await?;
        let late = &mut hall.delegates[1];
        late.wait_until(|s| {
            s.round()
                .is_some_and(|r| r.id == voided && r.status == RoundStatus::Voided)
        })
        .await?;
        let seq = late.next_seq();
        let err = late
            .cast_in(voided, Choice::Yes, seq)
            .await
            .expect_err("voided");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::WrongRound),
            "{}: {err}",
            db.name
        );
        let revote = open_named(&mut hall.chair).await?;
        late.wait_until(|s| s.open_round().is_some_and(|r| r.id == revote))
            .await?;
        // Into the voided round while another is open: the wrong round.
        let seq = late.next_seq();
        let err = late
            .cast_in(voided, Choice::Yes, seq)
            .await
            .expect_err("voided");
        assert_eq!(err.reason(), Some(RefusalReason::WrongRound), "{}", db.name);
        another_tablet_votes(&server, late, revote).await?;
        let store = server.store().await?;
        assert_eq!(store.ballots(voided).await?.len(), 1, "{}", db.name);
        assert_eq!(store.ballots(revote).await?.len(), 1, "{}", db.name);
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn an_expired_code_is_refused_and_stays_unusable() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server).await?;
        let code = gavel_server::enrollment::new_code();
        server
            .store()
            .await?
            .add_codes(&[NewCode {
                code_hash: code_hash(&code),
                meeting: example_meeting(),
                principal: Principal::Seat(4),
                expires_at: 1_000,
            }])
            .await?;
        let mut client = gavel_client::Client::connect(&server.url).await?;
        let err = client.enroll(&code, &new_key()).await.expect_err("expired");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::CodeExpired),
            "{}",
            db.name
        );
        let err = client
            .enroll(&code, &new_key())
            .await
            .expect_err("still expired");
        assert_eq!(err.reason(), Some(RefusalReason::CodeExpired));
        another_tablet_votes(&server, &mut hall.delegates[0], hall.round).await?;
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn guessing_codes_closes_the_connection_and_then_blocks_the_address() -> anyhow::Result<()> {
    let limits = LimitSettings {
        failures_per_minute: 7,
        ..LimitSettings::default()
    };
    for db in databases().await {
        let options = Options {
            limits,
            ..Options::default()
        };
        let server = TestServer::with_example_and(&db.url, options).await?;
        let mut hall = hall(&server).await?;
        let store = server.store().await?;
        let codes = gavel_server::enrollment::issue(
            &store,
            &example_meeting(),
            &[Principal::Seat(6), Principal::Seat(7)],
            1,
        )
        .await?;

        // Five wrong guesses on one connection: each refused, then closed.
        let mut guesser = connect_from(&server, 2).await?;
        read(&mut guesser).await.expect("challenge");
        for _ in 0..5 {
            let guess = gavel_server::enrollment::new_code();
            let answer = say(&mut guesser, enroll_frame(&guess, &new_key())).await;
            assert_eq!(
                reason(&answer),
                Some(RefusalReason::UnknownCode),
                "{}",
                db.name
            );
        }
        assert_eq!(
            read(&mut guesser).await.err(),
            Some(Some(CloseCode::Policy))
        );

        // Two more from a new connection reach the address's limit of seven:
        // after that even a correct code is refused from this address…
        let mut guesser = connect_from(&server, 2).await?;
        read(&mut guesser).await.expect("challenge");
        for _ in 0..2 {
            let guess = gavel_server::enrollment::new_code();
            let answer = say(&mut guesser, enroll_frame(&guess, &new_key())).await;
            assert_eq!(reason(&answer), Some(RefusalReason::UnknownCode));
        }
        let answer = say(&mut guesser, enroll_frame(&codes[0].1, &new_key())).await;
        assert_eq!(
            reason(&answer),
            Some(RefusalReason::RateLimited),
            "{}",
            db.name
        );
        let mut again = connect_from(&server, 2).await?;
        read(&mut again).await.expect("challenge");
        let answer = say(&mut again, enroll_frame(&codes[0].1, &new_key())).await;
        assert_eq!(reason(&answer), Some(RefusalReason::RateLimited));

        // …while another address enrolls with the code that was refused
        // (it was not burnt) and the hall votes on.
        let mut neighbour = connect_from(&server, 3).await?;
        read(&mut neighbour).await.expect("challenge");
        let answer = say(&mut neighbour, enroll_frame(&codes[0].1, &new_key())).await;
        assert!(
            matches!(
                answer,
                Ok(ServerMsg::Enrolled {
                    principal: Principal::Seat(6),
                    ..
                })
            ),
            "{}: {answer:?}",
            db.name
        );
        another_tablet_votes(&server, &mut hall.delegates[0], hall.round).await?;
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_flood_of_connections_from_one_address_gets_429_and_others_still_connect()
-> anyhow::Result<()> {
    let limits = LimitSettings {
        connections_per_address: 4,
        ..LimitSettings::default()
    };
    for db in databases().await {
        let options = Options {
            limits,
            ..Options::default()
        };
        let server = TestServer::with_example_and(&db.url, options).await?;
        let mut hall = hall(&server).await?;
        let mut flood = Vec::new();
        for _ in 0..4 {
            flood.push(connect_from(&server, 2).await?);
        }
        for _ in 0..3 {
            match connect_from(&server, 2).await {
                Err(tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status(), 429, "{}", db.name);
                }
                other => panic!(
                    "{}: expected HTTP 429, got {:?}",
                    db.name,
                    other.map(|_| ())
                ),
            }
        }
        // Another device (another address) connects and follows the meeting.
        let mut neighbour = connect_from(&server, 3).await?;
        read(&mut neighbour).await.expect("challenge");
        let answer = say(&mut neighbour, watch_frame()).await;
        assert!(
            matches!(answer, Ok(ServerMsg::Welcome { .. })),
            "{answer:?}"
        );
        another_tablet_votes(&server, &mut hall.delegates[0], hall.round).await?;
        drop(flood);
        server.stop()?;
    }
    Ok(())
}

/// A tablet that stops reading (while it keeps asking for snapshots) is
/// dropped once one frame waits longer than the send timeout, while the
/// chair's commands and a watcher's updates keep flowing. Each address may hold one connection, so a new connection from
/// the stuck tablet's address succeeds exactly when the server has let the
/// stuck one go. Memory stays bounded by construction: the stuck connection's
/// broadcast receiver lags (a bounded ring, resolved by a fresh snapshot) and
/// its socket's write buffer is capped (`app.rs`).
#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_nobody_else_waits() -> anyhow::Result<()> {
    let limits = LimitSettings {
        connections_per_address: 1,
        send_timeout: Duration::from_millis(300),
        ..LimitSettings::default()
    };
    let db = databases().await.remove(0);
    let options = Options {
        limits,
        ..Options::default()
    };
    let server = TestServer::with_example_and(&db.url, options).await?;
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let watch = watch_frame();

    // The stuck tablet logs in as a watcher, never reads again, and keeps
    // asking for snapshots (each a few hundred bytes for a few dozen sent)
    // until the server stops taking its frames.
    let mut stuck = connect_with(&server, 2, Some(4096)).await?;
    stuck.send(watch.clone()).await?;
    let (mut stuck_out, stuck_in) = stuck.split();
    let flooder = tokio::spawn(async move {
        for id in 0u64.. {
            let sync = Message::text(format!(r#"{{"type":"sync","id":{id}}}"#));
            if stuck_out.send(sync).await.is_err() {
                break;
            }
        }
    });

    // A healthy watcher reads everything on its own task.
    let mut healthy = connect_from(&server, 3).await?;
    healthy.send(watch).await?;
    let (seen_tx, mut seen) = tokio::sync::watch::channel(None);
    let reader = tokio::spawn(async move {
        while let Ok(msg) = read(&mut healthy).await {
            if let ServerMsg::Snapshot(s) = msg {
                seen_tx.send_replace(s.current_item);
            }
        }
    });

    let items = chair.meeting.agenda.len() as u32;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut item = 0;
    let released = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the stuck client was never dropped"
        );
        item = (item + 1) % items;
        let sent = Instant::now();
        chair.chair(ChairCommand::SetItem { item }).await?;
        slowest = slowest.max(sent.elapsed());
        match connect_from(&server, 2).await {
            Ok(ws) => break ws,
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
            Err(e) => return Err(e.into()),
        }
    };
    assert!(
        slowest < Duration::from_secs(2),
        "the chair waited {slowest:?} for a command while a client was stuck"
    );
    drop(released);
    tokio::time::timeout(
        Duration::from_secs(10),
        seen.wait_for(|shown| *shown == Some(item)),
    )
    .await
    .expect("the healthy watcher sees the chair's last change")?;
    reader.abort();
    flooder.abort();
    drop(stuck_in);
    server.stop()?;
    Ok(())
}

/// Sends one raw HTTP/1.1 request and returns the response head, lower-cased.
async fn http_head(server: &TestServer, request: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server
        .url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_owned();
    let mut stream = TcpStream::connect(&addr).await?;
    stream
        .write_all(request.replace("{host}", &addr).as_bytes())
        .await?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    // The head ends at the first blank line; the body does not matter here.
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed before the end of the head");
        response.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&response).to_lowercase())
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_foreign_pages_cannot_open_the_websocket()
-> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let server = TestServer::with_example(&db.url).await?;
    let head = http_head(
        &server,
        "GET /tablet/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    )
    .await?;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    for expected in [
        "content-security-policy: default-src 'self'; script-src 'self'; style-src 'self';",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
    ] {
        assert!(head.contains(expected), "missing {expected:?} in {head}");
    }
    let upgrade = "GET /ws HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let foreign = http_head(
        &server,
        &format!("{upgrade}Origin: http://evil.example\r\n\r\n"),
    )
    .await?;
    assert!(foreign.starts_with("http/1.1 403"), "{foreign}");
    let own = http_head(
        &server,
        &format!("{upgrade}Origin: http://{{host}}\r\n\r\n"),
    )
    .await?;
    assert!(own.starts_with("http/1.1 101"), "{own}");
    server.stop()
}

/// A tablet that vanished without closing (its Wi-Fi gone, its lid shut)
/// answers no pings and is let go after a few, with a close frame that says
/// why; a tablet that reads, and so answers every ping by itself, stays
/// connected through many more.
#[tokio::test]
async fn a_vanished_client_is_let_go_after_unanswered_pings() -> anyhow::Result<()> {
    let every = Duration::from_millis(100);
    let db = databases().await.remove(0);
    let options = Options {
        limits: LimitSettings {
            ping_interval: every,
            ..LimitSettings::default()
        },
        ..Options::default()
    };
    let server = TestServer::with_example_and(&db.url, options).await?;

    // Logs in as a watcher, reads its first frames, then neither reads nor writes.
    let mut vanished = connect_from(&server, 2).await?;
    assert!(matches!(
        read(&mut vanished).await,
        Ok(ServerMsg::Challenge { .. })
    ));
    assert!(matches!(
        say(&mut vanished, watch_frame()).await,
        Ok(ServerMsg::Welcome { .. })
    ));

    // Reads everything until it has been pinged well past the silence limit.
    let mut present = connect_from(&server, 3).await?;
    present.send(watch_frame()).await?;
    let enough = SILENT_PINGS + 5;
    let pinged = tokio::spawn(async move {
        let mut pings = 0;
        while pings < enough {
            match present.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code)),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Err(None),
            }
        }
        Ok(present)
    });
    let present = tokio::time::timeout(Duration::from_secs(30), pinged)
        .await
        .expect("the reading client is pinged")?;
    assert!(
        present.is_ok(),
        "a client that answers pings is kept: {:?}",
        present.err()
    );

    // By now the vanished one has been silent for more than SILENT_PINGS intervals.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Err(code) = read(&mut vanished).await {
                return code;
            }
        }
    })
    .await
    .expect("the server has closed the vanished client's connection");
    assert_eq!(
        end,
        Some(CloseCode::Away),
        "the server closes it, saying why"
    );
    server.stop()?;
    Ok(())
}
