//! `/healthz` and `/readyz` as an orchestrator or a load balancer sees them:
//! ready on both stores once the meetings are restored; not ready, with the
//! reason, while PostgreSQL is away at start (the server waits for it and
//! holds connections until the meetings are there) and when it goes away
//! later; ready again, by itself, once it is back.

use ed25519_dalek::SigningKey;
use gavel_client::Client;
use gavel_server::app;
use gavel_server::meeting::EXAMPLE;
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::http::{self, Response};
use gavel_tests::proxy::Proxy;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Asks `/readyz` until it answers `status`; fails after 30 s.
async fn readyz_until(addr: &str, status: u16) -> anyhow::Result<Response> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = http::get(addr, "/readyz").await?;
        if response.status == status {
            return Ok(response);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "/readyz still answers {response:?}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ready_response() -> Response {
    Response {
        status: 200,
        body: "ready\n".into(),
    }
}

fn restoring_response() -> Response {
    Response {
        status: 503,
        body: "not ready: restoring meetings\n".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_server_is_live_and_ready_on_each_store() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let health = http::get(addr, "/healthz").await?;
        assert_eq!((health.status, health.body.as_str()), (200, "ok"));
        // Just after start the meetings may still be loading: not ready,
        // and saying why.
        let first = http::get(addr, "/readyz").await?;
        assert!(
            first == ready_response() || first == restoring_response(),
            "{}: {first:?}",
            db.name
        );
        // A connection waits for the meetings; once it is in, the server is
        // ready at the first asking.
        let watcher = Client::connect(&server.url)
            .await?
            .watch(&example_meeting())
            .await?;
        assert_eq!(watcher.meeting.id, example_meeting());
        assert_eq!(
            http::get(addr, "/readyz").await?,
            ready_response(),
            "{}",
            db.name
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_while_postgresql_is_away_and_ready_again_when_it_is_back() -> anyhow::Result<()>
{
    let Some(db) = databases()
        .await
        .into_iter()
        .find(|db| db.name == "postgres")
    else {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); the readiness outage test is skipped");
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    let store = Store::connect(&proxied).await?;
    store
        .import_meeting(&example_meeting(), EXAMPLE, &[], &[])
        .await?;

    // The database goes away before the server has loaded its meetings.
    proxy.cut();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app::run(
        listener,
        store,
        SigningKey::generate(&mut rand::rngs::OsRng),
        app::Options::default(),
        shutdown.clone(),
    ));
    let health = http::get(&addr, "/healthz").await?;
    assert_eq!(health.status, 200, "alive while it cannot restore");
    let restoring = http::get(&addr, "/readyz").await?;
    assert_eq!(
        (restoring.status, restoring.body.as_str()),
        (503, "not ready: restoring meetings: store unavailable\n")
    );
    // A hall screen that connects now is held until the meeting is there,
    // not refused.
    let url = format!("ws://{addr}/ws");
    let watcher = tokio::spawn(async move {
        let session = Client::connect(&url)
            .await?
            .watch(&example_meeting())
            .await?;
        anyhow::Ok(session)
    });

    proxy.restore();
    assert_eq!(readyz_until(&addr, 200).await?, ready_response());
    let session = watcher.await??;
    assert_eq!(session.meeting.id, example_meeting());

    // Away while running: not ready, with the reason; back: ready again.
    proxy.cut();
    let away = readyz_until(&addr, 503).await?;
    assert_eq!(away.body, "not ready: store unavailable\n");
    proxy.restore();
    readyz_until(&addr, 200).await?;

    shutdown.cancel();
    server.await??;
    Ok(())
}
