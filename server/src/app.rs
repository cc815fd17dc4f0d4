//! The HTTP side: the router, the WebSocket upgrade with its limits, and a
//! graceful shutdown that also covers upgraded connections (axum's own
//! graceful shutdown does not wait for them).

use crate::connection;
use crate::hub::Hub;
use crate::store::Store;
use anyhow::Context as _;
use axum::Router;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::get;
use ed25519_dalek::SigningKey;
use gavel_protocol::MAX_CLIENT_FRAME_BYTES;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Bytes read from a socket at a time: ballots are small, and a small buffer
/// keeps an idle tablet's connection cheap.
const READ_BUFFER: usize = 4 * 1024;
/// Bytes a slow client may have queued for it before sends start to wait.
const MAX_WRITE_BUFFER: usize = 256 * 1024;

#[derive(Clone)]
struct AppState {
    hub: Arc<Hub>,
    shutdown: CancellationToken,
    connections: TaskTracker,
}

/// Starts the hub on `store` and serves until `shutdown` fires; returns once
/// every connection has been closed and every meeting's last ballots committed.
pub async fn run(
    listener: TcpListener,
    store: Store,
    server_key: SigningKey,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let hub = Hub::start(store, server_key, shutdown.clone()).await?;
    let state = AppState {
        hub: hub.clone(),
        shutdown: shutdown.clone(),
        connections: TaskTracker::new(),
    };
    let router = Router::new()
        .route("/ws", get(upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state.clone())
        .merge(crate::web::routes(hub.clone()));
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(%addr, "gavel listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
    .context("serving HTTP")?;
    state.connections.close();
    state.connections.wait().await;
    hub.stopped().await;
    tracing::info!("gavel stopped");
    Ok(())
}

async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> impl IntoResponse {
    ws.max_message_size(MAX_CLIENT_FRAME_BYTES)
        .max_frame_size(MAX_CLIENT_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| {
            let AppState {
                hub,
                shutdown,
                connections,
            } = state;
            connections.track_future(connection::serve(socket, hub, peer, shutdown))
        })
}
