//! The agenda items' documents in the secretariat's app: each item's
//! documents with every stored version, a PDF attached to an item, and a
//! document replaced with a new version.
//!
//! **The PDF is the request body, its fields the query**
//! (`POST /api/secretariat/meetings/{id}/items/{n}/documents?title=&kind=&public=`,
//! and `…/documents/{slot}` for a new version, whose fields default to the
//! current ones). A body that is the file and nothing else needs no multipart
//! parser, and its declared length is refused (413) before a byte of it is
//! read; a body that does not declare one is read up to the limit and
//! refused past it. The bytes are checked as `gavel meeting import` checks a
//! file ([`crate::documents::check`]: one set of checks).
//!
//! **The meeting file names the document by its hash:**
//! `file = "documents/<sha256>.pdf"`. The file exported from the app (`/file`)
//! then says exactly which bytes each slot holds now, and reads back
//! unchanged; it is the layout `gavel export --documents` writes beside a
//! meeting's record, so that file with that folder imports elsewhere with
//! `gavel meeting import` as it stands. Storing a version therefore rewrites
//! the definition too (in the app's form of the file), in the same
//! transaction as the version and its audit entries: an amendment of the
//! meeting like any other ([`Hub::amend`]), under the same rules, which
//! allow it while other items have rounds. Once a round was opened on the
//! item its documents are what was voted on, and a new one is refused
//! (`item_voted`).
//!
//! **A running meeting learns it at once**: its devices connect again and
//! fetch the new view, so a tablet lists the new version.
//!
//! [`Hub::amend`]: crate::hub::Hub::amend

use super::owner::{AmendCall, Call, Upload, at_owner};
use super::{Office, Refusal, stored};
use crate::documents::{DocumentFault, check, check_size};
use crate::meeting::{DefinitionError, DocumentForm, MeetingForm};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gavel_protocol::PublicKey;
use gavel_protocol::messages::{DocumentKind, DocumentView};
use gavel_records::chain::Sha;
use serde::{Deserialize, Serialize};

/// One document of an item as the meeting file names it, with every stored
/// version, the oldest first (none for a file imported without its documents).
#[derive(Serialize)]
struct ListedDocument {
    slot: u32,
    title: String,
    kind: DocumentKind,
    public: bool,
    versions: Vec<DocumentView>,
}

#[derive(Serialize)]
struct ItemDocuments {
    index: u32,
    topic: String,
    title: String,
    /// A round was opened on it: its documents are fixed.
    voted: bool,
    documents: Vec<ListedDocument>,
}

#[derive(Serialize)]
pub(super) struct Listed {
    items: Vec<ItemDocuments>,
}

/// Every item of the meeting with its documents and their versions.
pub(super) async fn list(
    State(office): State<Office>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Listed>, Refusal> {
    office.desk.session_valid(&headers)?;
    let (_, definition) = stored(&office, &id).await?;
    let store = office.hub.store();
    let versions = store.documents(&definition.id).await?;
    let rounds = store.rounds(&definition.id).await?;
    let items = definition
        .agenda
        .iter()
        .map(|item| ItemDocuments {
            index: item.index,
            topic: item.topic.clone(),
            title: item.title.clone(),
            voted: rounds.iter().any(|r| r.item == item.index),
            documents: definition
                .documents
                .iter()
                .filter(|d| d.item == item.index)
                .map(|d| {
                    let mut of_slot: Vec<DocumentView> = versions
                        .iter()
                        .filter(|v| v.item == d.item && v.slot == d.slot)
                        .map(|v| v.view.clone())
                        .collect();
                    of_slot.sort_by_key(|v| v.version);
                    ListedDocument {
                        slot: d.slot,
                        title: d.title.clone(),
                        kind: d.kind,
                        public: d.public,
                        versions: of_slot,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Json(Listed { items }))
}

/// A document's fields as the query gives them, each as written: checked
/// here, so that a wrong one is a typed refusal that names its field.
#[derive(Deserialize)]
pub(super) struct Fields {
    title: Option<String>,
    kind: Option<String>,
    public: Option<String>,
}

/// The version just stored, with its item and slot.
#[derive(Serialize)]
pub(super) struct Stored {
    item: u32,
    slot: u32,
    document: DocumentView,
}

/// Attaches a PDF to item `n` as its next document.
pub(super) async fn attach(
    State(office): State<Office>,
    headers: HeaderMap,
    Path((id, item)): Path<(String, u32)>,
    Query(fields): Query<Fields>,
    body: Body,
) -> Result<Response, Refusal> {
    let device = office.desk.session_valid(&headers)?;
    let slot = None;
    upload(&office, &headers, device, &id, (item, slot), fields, body).await
}

/// Stores a new version of the item's document in `slot`.
pub(super) async fn replace(
    State(office): State<Office>,
    headers: HeaderMap,
    Path((id, item, slot)): Path<(String, u32, u32)>,
    Query(fields): Query<Fields>,
    body: Body,
) -> Result<Response, Refusal> {
    let device = office.desk.session_valid(&headers)?;
    let slot = Some(slot);
    upload(&office, &headers, device, &id, (item, slot), fields, body).await
}

fn invalid(field: &str, message: String) -> Refusal {
    Refusal::InvalidForm(DefinitionError {
        line: 0,
        column: 0,
        field: field.to_owned(),
        message,
    })
}

/// The document's fields: those given, the current version's for the rest.
fn document_fields(
    fields: Fields,
    current: Option<&DocumentForm>,
) -> Result<(String, DocumentKind, bool), Refusal> {
    let title = fields
        .title
        .or_else(|| current.map(|c| c.title.clone()))
        .unwrap_or_default();
    let kind = match fields.kind {
        Some(kind) => serde_json::from_value(serde_json::Value::String(kind.clone()))
            .map_err(|_| {
                invalid(
                    "kind",
                    format!(
                        "{kind:?} is not a kind of document: submission, report, draft_resolution or other"
                    ),
                )
            })?,
        None => current
            .map(|c| c.kind)
            .ok_or_else(|| invalid("kind", "say which kind of document it is".to_owned()))?,
    };
    let public = match fields.public.as_deref() {
        Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(invalid(
                "public",
                format!("{other:?} is neither true nor false"),
            ));
        }
        None => current.is_some_and(|c| c.public),
    };
    Ok((title, kind, public))
}

/// The body's bytes, refused as soon as they pass the limit (a body that
/// did not declare its length), or when the upload broke off.
async fn read_body(body: Body) -> Result<Vec<u8>, Refusal> {
    let mut content = Vec::new();
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| Refusal::UploadBroken)?;
        content.extend_from_slice(&chunk);
        check_size(content.len() as u64)
            .map_err(|_| Refusal::Document(DocumentFault::TooLarge { size: None }))?;
    }
    Ok(content)
}

/// Stores the body as the document in `place` (an item, and the slot of
/// the document it replaces or none for a new one), with the definition
/// rewritten to name it: one amendment of the meeting, by `device`.
async fn upload(
    office: &Office,
    headers: &HeaderMap,
    device: PublicKey,
    id: &str,
    (item, slot): (u32, Option<u32>),
    fields: Fields,
    body: Body,
) -> Result<Response, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(size) = declared {
        check_size(size).map_err(Refusal::Document)?;
    }
    let (text, definition) = stored(office, id).await?;
    let mut form = MeetingForm::of(&definition);
    let (t, i) = form.place(item).ok_or(Refusal::UnknownItem(item))?;
    let documents = &mut form.topics[t].items[i].documents;
    let current = match slot {
        Some(slot) => Some(
            documents
                .get(slot as usize)
                .ok_or(Refusal::UnknownDocument { item, slot })?,
        ),
        None => None,
    };
    let (title, kind, public) = document_fields(fields, current)?;
    let store = office.hub.store();
    // Asked before the bytes are read; the store asks again as it writes.
    if store
        .rounds(&definition.id)
        .await?
        .iter()
        .any(|r| r.item == item)
    {
        return Err(Refusal::ItemVoted { item, title });
    }
    let content = read_body(body).await?;
    // Opening a long PDF takes a while: off the async workers.
    let (sha256, content) =
        tokio::task::spawn_blocking(move || check(&content).map(|sha256| (sha256, content)))
            .await
            .map_err(|e| Refusal::Document(DocumentFault::NotPdf(e.to_string())))?
            .map_err(Refusal::Document)?;
    let named = DocumentForm {
        title: title.clone(),
        kind,
        file: format!("documents/{sha256}.pdf"),
        public,
    };
    let slot = match slot {
        Some(slot) => {
            documents[slot as usize] = named;
            slot
        }
        None => {
            documents.push(named);
            u32::try_from(documents.len() - 1).expect("fewer than 2^32 documents")
        }
    };
    let (new_text, _) = form.check().map_err(|e| {
        // A document's field, told by its own name: the form's path is the
        // app's business, not the secretariat's.
        let field = e.field.rsplit('.').next().unwrap_or_default().to_owned();
        invalid(&field, e.message)
    })?;
    let upload = Upload {
        item,
        slot,
        title,
        kind,
        public,
        sha256,
        content: Some(content),
    };
    let amend = AmendCall {
        previous: Sha::of(text.as_bytes()),
        text: new_text,
        device,
        document: Some(upload),
    };
    let answer = at_owner(&office.hub, &definition.id, Call::Amend(Box::new(amend))).await?;
    if !answer.is_done() {
        return Ok(answer.into_response());
    }
    let latest = store
        .documents(&definition.id)
        .await?
        .into_iter()
        .filter(|d| d.item == item && d.slot == slot)
        .max_by_key(|d| d.view.version)
        .ok_or(Refusal::StoreUnavailable)?;
    tracing::info!(%id, item, slot, version = latest.view.version, "the secretariat stored a document");
    Ok(Json(Stored {
        item,
        slot,
        document: latest.view,
    })
    .into_response())
}
