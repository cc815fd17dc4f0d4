//! The web apps, embedded in the binary so that a hall without internet needs
//! nothing but the server: the tablet (`/tablet/`), the chair's console
//! (`/chair/`), the hall screen (`/screen/`), and what they share
//! (`/common/`: the protocol in JavaScript, fonts, styles). No build step:
//! the files are served as they are in the repository.
//!
//! Besides the apps, `/api/meetings` lists the meetings, and
//! `/api/meetings/{id}/export?token=` serves a meeting's record once, to the
//! chair's console that asked for the token over its WebSocket.

use crate::hub::Hub;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use gavel_protocol::MeetingId;
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// The routes of the web apps and of the small read-only API they use.
pub fn routes(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/", get(|| async { asset("index.html") }))
        .route("/favicon.ico", get(|| async { asset("common/favicon.svg") }))
        .route("/tablet", get(|| async { Redirect::permanent("/tablet/") }))
        .route("/chair", get(|| async { Redirect::permanent("/chair/") }))
        .route("/screen", get(|| async { Redirect::permanent("/screen/") }))
        .route("/{app}/", get(|Path(app): Path<String>| async move { app_page(&app) }))
        .route(
            "/{app}/{*path}",
            get(|Path((app, path)): Path<(String, String)>| async move { server_asset(&app, &path) }),
        )
        .route("/api/meetings", get(meetings))
        .route("/api/meetings/{id}/export", get(export))
        .route("/api/meetings/{id}/view", get(view))
        .with_state(hub)
}

fn app_page(app: &str) -> Response {
    match app {
        "tablet" | "chair" | "screen" => asset(&format!("{app}/index.html")),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn server_asset(app: &str, path: &str) -> Response {
    match app {
        "tablet" | "chair" | "screen" | "common" | "landing" => asset(&format!("{app}/{path}")),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Pages and scripts are revalidated, so a new server is picked up at
    // once; fonts never change.
    let cache = if path.ends_with(".woff2") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mime = file.metadata.mimetype().to_owned();
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        file.data,
    )
        .into_response()
}

#[derive(Serialize)]
struct MeetingSummary {
    id: String,
    title: String,
    body: String,
}

/// The meetings this hub runs, so that a hall screen or a visitor can pick one.
async fn meetings(State(hub): State<Arc<Hub>>) -> Json<Vec<MeetingSummary>> {
    hub.restored().await;
    Json(
        hub.meetings()
            .into_iter()
            .map(|d| MeetingSummary {
                id: d.id.to_string(),
                title: d.title.clone(),
                body: d.body.clone(),
            })
            .collect(),
    )
}

#[derive(Deserialize)]
struct ExportQuery {
    token: String,
}

/// The meeting's record, as `gavel export` writes it, for a one-time token
/// the chair's console was given (`export_ready`); 403 for any other.
async fn export(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let Some(handle) = MeetingId::parse(&id).ok().and_then(|id| hub.meeting(&id)) else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    if !handle.redeem_export_token(&query.token) {
        return (
            StatusCode::FORBIDDEN,
            "this download link was used already or has expired; ask for the record again",
        )
            .into_response();
    }
    let meeting = handle.definition.id.clone();
    match hub.export(&meeting).await {
        Ok(bundle) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{meeting}.record.json\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bundle.to_json(),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(%meeting, error = %e, "export for the chair's console failed");
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
    }
}

/// A meeting's view (roster, agenda, labels): the bytes whose hash each
/// `welcome` names, the same for every client. The hash is the ETag, so a
/// client that reconnects revalidates with `If-None-Match` and gets a 304.
async fn view(State(hub): State<Arc<Hub>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    hub.restored().await;
    let Some(meeting) = id.parse::<MeetingId>().ok().and_then(|id| hub.meeting(&id)) else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    let served = &meeting.view;
    let etag = HeaderValue::from_str(&format!("\"{}\"", served.hash))
        .expect("a hex hash is a valid header value");
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    (
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            cache,
        ],
        served.bytes.clone(),
    )
        .into_response()
}
