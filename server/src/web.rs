//! The web apps, embedded in the binary so that a hall without internet needs
//! nothing but the server: the tablet (`/tablet/`), the chair's console
//! (`/chair/`), the hall screen (`/screen/`), the secretariat's app
//! (`/admin/`, whose API is [`crate::secretariat`]), and what they share
//! (`/common/`: the protocol in JavaScript, fonts, styles, and the tablet's
//! PDF reader, pdf.js, vendored already built: `server/pdfjs/README.md`).
//! No build step: the files are served as they are in the repository.
//!
//! Besides the apps, `/api/meetings` lists the meetings, and
//! `/api/meetings/{id}/export?token=` serves a meeting's record once, to the
//! chair's console that asked for the token over its WebSocket, and
//! `/api/meetings/{id}/documents/{sha256}` serves an agenda item's document
//! by its hash: public ones to anyone, the others with the `document_access`
//! token of a logged-in session (header `X-Gavel-Document-Access` or query
//! `access`).

use crate::documents::{self, Requested};
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
        .route("/", get(|headers: HeaderMap| async move { asset("index.html", &headers) }))
        .route(
            "/favicon.ico",
            get(|headers: HeaderMap| async move { asset("common/favicon.svg", &headers) }),
        )
        .route("/tablet", get(|| async { Redirect::permanent("/tablet/") }))
        .route("/chair", get(|| async { Redirect::permanent("/chair/") }))
        .route("/screen", get(|| async { Redirect::permanent("/screen/") }))
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route(
            "/{app}/",
            get(|Path(app): Path<String>, headers: HeaderMap| async move { app_page(&app, &headers) }),
        )
        .route(
            "/{app}/{*path}",
            get(
                |Path((app, path)): Path<(String, String)>, headers: HeaderMap| async move {
                    server_asset(&app, &path, &headers)
                },
            ),
        )
        .route("/api/meetings", get(meetings))
        .route("/api/meetings/{id}/export", get(export))
        .route("/api/meetings/{id}/view", get(view))
        .route("/api/meetings/{id}/documents/{sha256}", get(document))
        .with_state(hub)
}

fn app_page(app: &str, headers: &HeaderMap) -> Response {
    match app {
        "tablet" | "chair" | "screen" | "admin" => asset(&format!("{app}/index.html"), headers),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn server_asset(app: &str, path: &str, headers: &HeaderMap) -> Response {
    match app {
        "tablet" | "chair" | "screen" | "admin" | "common" | "landing" => {
            asset(&format!("{app}/{path}"), headers)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A file of the web apps. Pages and scripts are revalidated, so a new
/// server is picked up at once; their hash is the ETag, so revalidating an
/// unchanged file is a 304 rather than its bytes again (a hall of tablets
/// reloading does not fetch the 1.7 MB of the PDF reader each time). Fonts
/// never change.
fn asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = HeaderValue::from_static(if path.ends_with(".woff2") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(file.metadata.sha256_hash())))
        .expect("a hex hash is a valid header value");
    let fixed = [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)];
    if if_none_match(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, fixed).into_response();
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .expect("a MIME type is a valid header value");
    (fixed, [(header::CONTENT_TYPE, mime)], file.data).into_response()
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

/// The header a session's `document_access` token travels in.
const DOCUMENT_ACCESS: &str = "x-gavel-document-access";

#[derive(Deserialize)]
struct DocumentQuery {
    access: Option<String>,
}

/// An item's document, named by its meeting and hash. The bytes never
/// change under their name, so the hash is a strong ETag and the response
/// may be cached for good; a delegates-only one only privately. A single
/// byte range is served as a slice of the checked bytes (206, or 416 past
/// the end). Refusals: 400 for a name that is not a SHA-256 (no path ever
/// reaches the store), 404 for an unknown meeting or a hash this meeting
/// does not have (another meeting's document included), 401 without a
/// token and 403 with one that is wrong or expired, 500 when the store's
/// bytes do not match their hash.
async fn document(
    State(hub): State<Arc<Hub>>,
    Path((id, sha256)): Path<(String, String)>,
    Query(query): Query<DocumentQuery>,
    headers: HeaderMap,
) -> Response {
    hub.restored().await;
    let Some(meeting) = id.parse::<MeetingId>().ok().and_then(|id| hub.meeting(&id)) else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    let is_sha256 = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_sha256 {
        return (
            StatusCode::BAD_REQUEST,
            "a document is named by its SHA-256 in lower-case hex",
        )
            .into_response();
    }
    let Some(public) = meeting.document_public(&sha256) else {
        return (StatusCode::NOT_FOUND, "this meeting has no such document").into_response();
    };
    if !public {
        let token = headers
            .get(DOCUMENT_ACCESS)
            .and_then(|v| v.to_str().ok())
            .or(query.access.as_deref());
        let Some(token) = token else {
            return (
                StatusCode::UNAUTHORIZED,
                "this document is for the meeting's delegates: open it from a logged-in tablet",
            )
                .into_response();
        };
        if !meeting.document_access_valid(token) {
            return (
                StatusCode::FORBIDDEN,
                "this document link has expired or is not valid; open it again from the tablet",
            )
                .into_response();
        }
    }
    let etag = HeaderValue::from_str(&format!("\"{sha256}\""))
        .expect("a hex hash is a valid header value");
    let cache = HeaderValue::from_static(if public {
        "public, max-age=31536000, immutable"
    } else {
        "private, max-age=31536000, immutable"
    });
    let fixed = [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)];
    if if_none_match(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, fixed).into_response();
    }
    let bytes = match hub.document(&sha256).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(meeting = %meeting.definition.id, document = %sha256, error = %e, "a document cannot be served");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the document cannot be served",
            )
                .into_response();
        }
    };
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let pdf = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        ),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ];
    match documents::byte_range(range, len) {
        Requested::Whole => (fixed, pdf, bytes).into_response(),
        Requested::Range { first, last } => {
            let content_range = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}"))
                .expect("numbers are a valid header value");
            let slice = bytes.slice(first as usize..=last as usize);
            (
                StatusCode::PARTIAL_CONTENT,
                fixed,
                pdf,
                [(header::CONTENT_RANGE, content_range)],
                slice,
            )
                .into_response()
        }
        Requested::Unsatisfiable => {
            let content_range = HeaderValue::from_str(&format!("bytes */{len}"))
                .expect("numbers are a valid header value");
            (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, content_range)],
            )
                .into_response()
        }
    }
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        })
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
    if if_none_match(&headers, &etag) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apps_files_revalidate_by_their_hash() {
        let first = asset("tablet/viewer.js", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = first.headers()[header::ETAG].clone();
        let mut revalidate = HeaderMap::new();
        revalidate.insert(header::IF_NONE_MATCH, etag.clone());
        let unchanged = asset("tablet/viewer.js", &revalidate);
        assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(unchanged.headers()[header::ETAG], etag);
        // Another file's tag does not spare its bytes; the reader's worker is a script.
        let worker = asset("common/pdfjs/pdf.worker.min.mjs", &revalidate);
        assert_eq!(worker.status(), StatusCode::OK);
        assert_ne!(worker.headers()[header::ETAG], etag);
        let mime = worker.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(mime.contains("javascript"), "{mime}");
    }
}
