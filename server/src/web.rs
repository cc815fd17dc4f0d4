//! The web apps, embedded in the binary so that a hall without internet needs
//! nothing but the server: the tablet (`/tablet/`), the chair's console
//! (`/chair/`), the hall screen (`/screen/`), the public page
//! (`/public/{meeting}`), the secretariat's app (`/admin/`, whose API is
//! [`crate::secretariat`]), and what they share (`/common/`: the protocol
//! in JavaScript, fonts, styles, and pdf.js, vendored already built, which
//! draws documents for the tablet's reader and the hall screen's presented
//! page: `server/pdfjs/README.md`).
//! No build step: the files are served as they are in the repository.
//!
//! Besides the apps, `/api/meetings` lists the meetings (every one of the
//! deployment, whichever node hosts it, each marked `hosted` if the node
//! that answered does), and
//! `/api/meetings/{id}/export?token=` serves a meeting's record once, to the
//! chair's console that asked for the token over its WebSocket, and
//! `/api/meetings/{id}/documents/{sha256}` serves an agenda item's document
//! by its hash: public ones to anyone, the others with the `document_access`
//! token of a logged-in session (header `X-Gavel-Document-Access` or query
//! `access`).
//!
//! `/api/meetings/{id}/rounds/{round}/trackers` serves a secret round's
//! published list (each tracker and what was counted under it, no seat)
//! once its result is out, to anyone, so that a delegate's tablet can check
//! its own ballot.
//!
//! `/public/{meeting}` is the meeting's public page (`web/public/`): the hall
//! screen's live feed, the agenda with the public documents, the results, the
//! resolutions adopted and the minutes, which `/api/meetings/{id}/minutes`
//! prints from the record as `gavel export` does. It is the one page that
//! may be framed, by the sites of `public_frame_ancestors` only
//! ([`PublicPolicy`]); every other response forbids framing.

use crate::documents::{self, Requested};
use crate::hub::Hub;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use dashmap::DashMap;
use gavel_protocol::published::{ListRefusal, ListRefused};
use gavel_protocol::wording::Lang;
use gavel_protocol::{MeetingId, RoundId};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// The routes of the web apps and of the small read-only API they use.
pub fn routes(hub: Arc<Hub>, policy: PublicPolicy) -> Router {
    let public = Arc::new(Public {
        policy,
        minutes: DashMap::new(),
    });
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
        .route("/public/{name}", get(public_page))
        .route("/api/meetings/{id}/minutes", get(minutes))
        .route("/api/meetings/{id}/rounds/{round}/trackers", get(published_list))
        .layer(Extension(public))
        .with_state(hub)
}

/// Why a `public_frame_ancestors` setting was refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "public_frame_ancestors: {0:?} is not a site: write an origin such as https://hdnd.example.gov.vn, or 'self'"
)]
pub struct FrameAncestorError(String);

/// The Content-Security-Policies of the public page and of the minutes it
/// shows: the sites of the settings may frame them, and only them.
#[derive(Debug, Clone)]
pub struct PublicPolicy {
    page: HeaderValue,
    minutes: HeaderValue,
}

impl PublicPolicy {
    /// Each site is an origin (`https://host[:port]`, or `http://`) or
    /// `'self'`: nothing that could end the directive or add another.
    pub fn new(ancestors: &[String]) -> Result<PublicPolicy, FrameAncestorError> {
        for site in ancestors {
            let origin = site
                .strip_prefix("https://")
                .or_else(|| site.strip_prefix("http://"))
                .is_some_and(|rest| {
                    !rest.is_empty()
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-.:[]*".contains(c))
                });
            if !origin && site != "'self'" {
                return Err(FrameAncestorError(site.clone()));
            }
        }
        let sites = ancestors.join(" ");
        let page = if sites.is_empty() { "'none'" } else { &sites };
        let header = |policy: String| {
            HeaderValue::from_str(&policy).expect("checked sites make a valid header")
        };
        Ok(PublicPolicy {
            page: header(crate::app::content_security_policy(page)),
            // The minutes are one self-contained file, its styles and font
            // inline, its charts inline SVG, and no script: shown in the
            // public page (same origin), which the sites may frame.
            minutes: header(format!(
                "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'self' {sites}"
            )),
        })
    }
}

/// What the public routes share.
struct Public {
    policy: PublicPolicy,
    /// The minutes last printed, per meeting and language, with the length
    /// of the audit chain they were printed at. Printing reads the whole
    /// record and a public page may have many readers: they are printed
    /// again only once the record has changed, and one at a time per meeting
    /// and language (the lock is held while printing, so readers arriving
    /// together wait for one print rather than each starting their own,
    /// while another meeting's readers, on a node hosting many councils, do
    /// not wait for it).
    minutes: DashMap<(MeetingId, Lang), Arc<tokio::sync::Mutex<Option<Printed>>>>,
}

/// Minutes as printed, with the length of the audit chain they were printed at.
type Printed = (u64, Bytes);

/// `/public/{meeting}`: the meeting's public page, which the settings'
/// sites may frame; any other name is one of the page's own files.
async fn public_page(
    State(hub): State<Arc<Hub>>,
    Extension(public): Extension<Arc<Public>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    hub.restored().await;
    let meeting = MeetingId::parse(&name).ok().and_then(|id| hub.meeting(&id));
    if meeting.is_none() {
        return match Assets::get(&format!("public/{name}")) {
            Some(_) => asset(&format!("public/{name}"), &headers),
            None => (StatusCode::NOT_FOUND, "no such meeting").into_response(),
        };
    }
    let mut page = asset("public/index.html", &headers);
    page.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, public.policy.page.clone());
    page
}

#[derive(Deserialize)]
struct MinutesQuery {
    lang: Option<String>,
}

/// The meeting's minutes as `gavel export` prints them, in `lang` (`vi`,
/// the default, or `en`), for the public page; 404 for an unknown meeting.
async fn minutes(
    State(hub): State<Arc<Hub>>,
    Extension(public): Extension<Arc<Public>>,
    Path(id): Path<String>,
    Query(query): Query<MinutesQuery>,
) -> Response {
    hub.restored().await;
    let Some(meeting) = MeetingId::parse(&id)
        .ok()
        .filter(|id| hub.meeting(id).is_some())
    else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    let lang = match query.lang.as_deref() {
        None | Some("vi") => Lang::Vi,
        Some("en") => Lang::En,
        Some(_) => return (StatusCode::BAD_REQUEST, "lang is vi or en").into_response(),
    };
    let slot = public
        .minutes
        .entry((meeting.clone(), lang))
        .or_default()
        .clone();
    let mut kept = slot.lock().await;
    let printed = async {
        let length = hub.record_length(&meeting).await?;
        if let Some((at, html)) = kept.as_ref()
            && *at == length
        {
            return Ok(html.clone());
        }
        let html = Bytes::from(hub.minutes(&meeting, lang).await?);
        *kept = Some((length, html.clone()));
        Ok::<_, anyhow::Error>(html)
    };
    let html = match printed.await {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(%meeting, error = %e, "the public minutes could not be printed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the minutes cannot be printed now",
            )
                .into_response();
        }
    };
    drop(kept);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                public.policy.minutes.clone(),
            ),
        ],
        html,
    )
        .into_response()
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
    /// Whether the node that answered hosts the meeting now: on a
    /// deployment of several nodes, what an operator asks of each; always
    /// true on one.
    hosted: bool,
}

/// Every meeting of the deployment, whichever node hosts it, so that a hall
/// screen or a visitor can pick one on any node; 503 while the store does
/// not answer.
async fn meetings(State(hub): State<Arc<Hub>>) -> Response {
    hub.restored().await;
    match hub.every_meeting().await {
        Ok(all) => Json(
            all.into_iter()
                .map(|(d, hosted)| MeetingSummary {
                    id: d.id.to_string(),
                    title: d.title.clone(),
                    body: d.body.clone(),
                    hosted,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "the meetings could not be listed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the meetings cannot be listed now; try again in a moment",
            )
                .into_response()
        }
    }
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
    let Some(meeting) = MeetingId::parse(&id)
        .ok()
        .filter(|id| hub.meeting(id).is_some() || hub.hosted_elsewhere(id))
    else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    match hub.redeem_export_token(&meeting, &query.token).await {
        Ok(true) => {}
        Ok(false) => {
            return (
                StatusCode::FORBIDDEN,
                "this download link was used already or has expired; ask for the record again",
            )
                .into_response();
        }
        Err(e) => {
            tracing::error!(%meeting, error = %e, "a download token could not be checked");
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
        }
    }
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
    let Ok(meeting) = id.parse::<MeetingId>() else {
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
    let public = match hub.document_public(&meeting, &sha256).await {
        Ok(None) => return (StatusCode::NOT_FOUND, "no such meeting").into_response(),
        Ok(Some(None)) => {
            return (StatusCode::NOT_FOUND, "this meeting has no such document").into_response();
        }
        Ok(Some(Some(public))) => public,
        Err(e) => {
            tracing::error!(%meeting, error = %e, "a document's meeting could not be read");
            return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
        }
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
        if !hub.document_access_valid(&meeting, token) {
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
            tracing::error!(%meeting, document = %sha256, error = %e, "a document cannot be served");
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
    // The body is sent a slice at a time, so its length is told here.
    let length = |n: usize| [(header::CONTENT_LENGTH, HeaderValue::from(n))];
    match documents::byte_range(range, len) {
        Requested::Whole => {
            (fixed, pdf, length(bytes.len()), documents::body(bytes)).into_response()
        }
        Requested::Range { first, last } => {
            let content_range = HeaderValue::from_str(&format!("bytes {first}-{last}/{len}"))
                .expect("numbers are a valid header value");
            let slice = bytes.slice(first as usize..=last as usize);
            (
                StatusCode::PARTIAL_CONTENT,
                fixed,
                pdf,
                [(header::CONTENT_RANGE, content_range)],
                length(slice.len()),
                documents::body(slice),
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

/// A secret round's published list (PROTOCOL.md §6.4): public, like the
/// results, since it is the list the record publishes and names no seat; a
/// delegate's tablet finds its ballot in it by its tracker. Refused with a
/// JSON reason: `404` for a meeting or round this meeting does not have, or
/// a named round; `409` while the result is not out.
async fn published_list(
    State(hub): State<Arc<Hub>>,
    Path((id, round)): Path<(String, String)>,
) -> Response {
    hub.restored().await;
    let refused = |status: StatusCode, reason: ListRefusal| {
        let body = ListRefused {
            reason,
            message: reason.to_string(),
        };
        (status, Json(body)).into_response()
    };
    let (Ok(meeting), Ok(round)) = (id.parse::<MeetingId>(), RoundId::from_hex(&round)) else {
        return refused(StatusCode::NOT_FOUND, ListRefusal::UnknownRound);
    };
    match hub.published_list(&meeting, round).await {
        Ok(Ok(list)) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
            Json(list),
        )
            .into_response(),
        Ok(Err(reason @ (ListRefusal::UnknownRound | ListRefusal::NotSecret))) => {
            refused(StatusCode::NOT_FOUND, reason)
        }
        Ok(Err(reason)) => refused(StatusCode::CONFLICT, reason),
        Err(e) => {
            tracing::error!(%meeting, %round, error = %e, "reading a published list failed");
            (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer").into_response()
        }
    }
}

/// A meeting's view (roster, agenda, labels): the bytes whose hash each
/// `welcome` names, the same for every client. The hash is the ETag, so a
/// client that reconnects revalidates with `If-None-Match` and gets a 304.
async fn view(State(hub): State<Arc<Hub>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    hub.restored().await;
    let Ok(id) = id.parse::<MeetingId>() else {
        return (StatusCode::NOT_FOUND, "no such meeting").into_response();
    };
    let served = match hub.view_of(&id).await {
        Ok(Some(view)) => view,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such meeting").into_response(),
        Err(e) => {
            tracing::error!(meeting = %id, error = %e, "reading a meeting's view failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer").into_response();
        }
    };
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

    #[test]
    fn only_origins_may_frame_the_public_page() {
        let sites = [
            "https://hdnd.example.gov.vn".to_owned(),
            "'self'".to_owned(),
        ];
        let policy = PublicPolicy::new(&sites).unwrap();
        let page = policy.page.to_str().unwrap();
        assert!(
            page.contains("frame-ancestors https://hdnd.example.gov.vn 'self';"),
            "{page}"
        );
        let nobody = PublicPolicy::new(&[]).unwrap();
        assert!(
            nobody
                .page
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none';")
        );
        // Anything that could end the directive, or is no origin, is refused by name.
        for wrong in [
            "https://a.example; script-src *",
            "hdnd.example.gov.vn",
            "https://",
            "*",
            "https://a.example/path",
        ] {
            let error = PublicPolicy::new(&[wrong.to_owned()]).unwrap_err();
            assert!(error.to_string().contains(wrong), "{error}");
        }
    }
}
