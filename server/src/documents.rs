//! The agenda items' documents: read and checked when a meeting is imported,
//! served by hash while it runs.
//!
//! **At import** ([`read`]) every file the meeting file names is read
//! (relative to the meeting file), checked to be at most
//! [`MAX_DOCUMENT_BYTES`] and a PDF that opens, and hashed ([`check`], which
//! the secretariat's upload uses too: one set of checks, [`DocumentFault`]). The first file
//! that fails stops the import before the store is touched, with the file's
//! path and the reason: a secretary fixes one file and imports again.
//!
//! **Serving** ([`Served`]) reads a document's bytes from the store once,
//! checks them against the hash they are stored under (off the async
//! workers), and keeps that one copy for every later request (a hall of 300
//! tablets opening the same draft shares it; concurrent first requests wait
//! for the one read), within [`KEPT_BYTES`]. Bytes that do not match are an
//! error, logged and never kept nor served. A `Range` request is then a
//! slice of checked bytes, so no range is ever served unchecked and nothing
//! needs hashing per request. A response's [`body`] goes out a slice per
//! turn of its connection on the workers, so that a hall's downloads at
//! check-in take turns with its ballots instead of holding the workers for
//! megabytes at a time.
//!
//! **Presenting** a page before the hall needs the document's page count
//! ([`Served::pages`]): read from those checked bytes the first time, kept
//! beside them.

use crate::meeting::MeetingDefinition;
use crate::store::{NewDocument, Store, StoreError};
use axum::body::{Body, Bytes};
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The largest document accepted: a scanned draft resolution with its
/// annexes runs to tens of megabytes; 64 MiB leaves room for that while a
/// hall's Wi-Fi still carries it to every tablet before the session.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// The most bytes of checked documents [`Served`] keeps for serving: eight
/// of the largest documents, a session's whole set many times over, so that
/// a hall fetching it at check-in reads and hashes each document once.
/// Beyond it the documents asked for least recently are let go (read and
/// checked again if asked for again). A response being sent holds its
/// document's bytes until it is done, so the server's memory for documents
/// is at most this plus the documents let go while a download of them runs.
pub const KEPT_BYTES: usize = 512 * 1024 * 1024;

/// Why a document file was refused at import.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct DocumentError {
    /// The file as the import looked for it.
    pub file: PathBuf,
    pub reason: String,
}

/// Why a document's bytes are refused: the same checks whether the file
/// comes with a meeting file (`gavel meeting import`) or is uploaded in the
/// secretariat's app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentFault {
    /// Larger than [`MAX_DOCUMENT_BYTES`]: its size when it was told before
    /// the bytes were read, `None` when only reading them found out.
    #[error("{}", too_large(*.size))]
    TooLarge { size: Option<u64> },
    #[error("is not a PDF that opens: {0}")]
    NotPdf(String),
    #[error("is a PDF without pages")]
    NoPages,
}

fn too_large(size: Option<u64>) -> String {
    match size {
        Some(size) => {
            format!("is {size} bytes, more than the {MAX_DOCUMENT_BYTES} a document may have")
        }
        None => format!("is more than the {MAX_DOCUMENT_BYTES} bytes a document may have"),
    }
}

/// Refuses a document of `size` bytes before its bytes are read.
pub fn check_size(size: u64) -> Result<(), DocumentFault> {
    if size > MAX_DOCUMENT_BYTES {
        return Err(DocumentFault::TooLarge { size: Some(size) });
    }
    Ok(())
}

/// Checks a document's bytes (its size, and a PDF with pages that opens)
/// and answers their SHA-256, lower-case hex: what it is stored and served under.
pub fn check(content: &[u8]) -> Result<String, DocumentFault> {
    check_size(u64::try_from(content.len()).expect("a length fits in 64 bits"))?;
    match page_count(content) {
        Err(e) => Err(DocumentFault::NotPdf(e)),
        Ok(0) => Err(DocumentFault::NoPages),
        Ok(_) => Ok(hex::encode(Sha256::digest(content))),
    }
}

/// Reads and checks every document `definition` names, paths relative to
/// `base` (the meeting file's directory): all of them, or the first refusal.
pub fn read(
    definition: &MeetingDefinition,
    base: &Path,
) -> Result<Vec<NewDocument>, DocumentError> {
    definition
        .documents
        .iter()
        .map(|source| {
            let file = base.join(&source.file);
            let refuse = |reason: String| DocumentError {
                file: file.clone(),
                reason,
            };
            let size = std::fs::metadata(&file)
                .map_err(|e| refuse(format!("cannot be read: {e}")))?
                .len();
            check_size(size).map_err(|f| refuse(f.to_string()))?;
            let content =
                std::fs::read(&file).map_err(|e| refuse(format!("cannot be read: {e}")))?;
            let sha256 = check(&content).map_err(|f| refuse(f.to_string()))?;
            Ok(NewDocument {
                item: source.item,
                slot: source.slot,
                title: source.title.clone(),
                kind: source.kind,
                public: source.public,
                sha256,
                content,
            })
        })
        .collect()
}

/// Why a document could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store holds no bytes for document {0}")]
    Missing(String),
    #[error("the store returned bytes for document {expected} whose SHA-256 is {actual}")]
    Mismatch { expected: String, actual: String },
    #[error("document {sha256} does not open as a PDF: {reason}")]
    NotPdf { sha256: String, reason: String },
    #[error("a document's bytes could not be hashed: {0}")]
    Hashing(String),
}

/// The documents' checked bytes, one shared copy per hash (see the module's notes).
#[derive(Default)]
pub struct Served {
    bytes: Mutex<Kept>,
    /// Each document's page count, counted once when a page of it is first
    /// presented.
    pages: DashMap<String, Arc<OnceCell<u32>>>,
}

impl Served {
    /// The bytes stored under `sha256`, checked against it.
    pub async fn get(&self, store: &Store, sha256: &str) -> Result<Bytes, ServeError> {
        let cell = self.kept().cell(sha256);
        let bytes = cell
            .get_or_try_init(|| async {
                let content = store
                    .document_content(sha256)
                    .await?
                    .ok_or_else(|| ServeError::Missing(sha256.to_owned()))?;
                // Hashing tens of megabytes takes a worker for tens of
                // milliseconds: off the async workers, where ballots wait.
                let (content, actual) = tokio::task::spawn_blocking(move || {
                    let actual = hex::encode(Sha256::digest(&content));
                    (content, actual)
                })
                .await
                .map_err(|e| ServeError::Hashing(e.to_string()))?;
                if actual != sha256 {
                    return Err(ServeError::Mismatch {
                        expected: sha256.to_owned(),
                        actual,
                    });
                }
                Ok(Bytes::from(content))
            })
            .await?
            .clone();
        self.kept().trim(sha256, KEPT_BYTES);
        Ok(bytes)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many pages the document stored under `sha256` has. Parsing a
    /// long PDF takes a while, so it runs off the async workers, once.
    pub async fn pages(&self, store: &Store, sha256: &str) -> Result<u32, ServeError> {
        let cell = self.pages.entry(sha256.to_owned()).or_default().clone();
        let count = cell.get_or_try_init(|| async {
            let bytes = self.get(store, sha256).await?;
            let counted = tokio::task::spawn_blocking(move || page_count(&bytes)).await;
            let not_pdf = |reason: String| ServeError::NotPdf {
                sha256: sha256.to_owned(),
                reason,
            };
            counted
                .map_err(|e| not_pdf(e.to_string()))?
                .map_err(not_pdf)
        });
        count.await.copied()
    }
}

/// The checked documents [`Served`] keeps, each with when it was last asked
/// for, in at most [`KEPT_BYTES`].
#[derive(Default)]
struct Kept {
    documents: HashMap<String, KeptDocument>,
    /// Counts requests: the larger a document's `used`, the more recently
    /// it was asked for.
    requests: u64,
}

struct KeptDocument {
    bytes: Arc<OnceCell<Bytes>>,
    used: u64,
}

impl Kept {
    /// The cell `sha256`'s checked bytes are (or will be) in, marked as just asked for.
    fn cell(&mut self, sha256: &str) -> Arc<OnceCell<Bytes>> {
        self.requests += 1;
        let used = self.requests;
        let kept = self
            .documents
            .entry(sha256.to_owned())
            .or_insert_with(|| KeptDocument {
                bytes: Arc::default(),
                used,
            });
        kept.used = used;
        kept.bytes.clone()
    }

    /// Lets go of the documents asked for least recently, never `keep` (just
    /// served) nor one still being read, until the rest fit in `limit` bytes.
    fn trim(&mut self, keep: &str, limit: usize) {
        let size = |d: &KeptDocument| d.bytes.get().map_or(0, Bytes::len);
        let mut held: usize = self.documents.values().map(size).sum();
        while held > limit {
            let oldest = self
                .documents
                .iter()
                .filter(|(sha256, d)| *sha256 != keep && d.bytes.initialized())
                .min_by_key(|(_, d)| d.used)
                .map(|(sha256, _)| sha256.clone());
            let Some(oldest) = oldest else { return };
            if let Some(gone) = self.documents.remove(&oldest) {
                held -= size(&gone);
            }
        }
    }
}

/// How much of a document its connection sends in one turn on a worker
/// before the other tasks there (the hall's ballots among them) have
/// theirs. Left alone, a download to a fast reader writes until its socket
/// is full, megabytes at a time on a local network, and a hundred of them
/// put a ballot behind a hundred such writes.
const SLICE_BYTES: usize = 256 * 1024;

/// A document's checked `bytes` as a response body, a slice at a time with
/// the connection's turn ending after each (see [`SLICE_BYTES`]); the
/// slices share the one copy, so nothing is copied nor hashed per request.
/// Its length is not in the body: the response says it.
pub fn body(bytes: Bytes) -> Body {
    let slices = futures_util::stream::unfold((bytes, false), |(mut rest, sent)| async move {
        if rest.is_empty() {
            return None;
        }
        if sent {
            next_turn().await;
        }
        let slice = rest.split_to(SLICE_BYTES.min(rest.len()));
        Some((Ok::<_, Infallible>(slice), (rest, true)))
    });
    Body::from_stream(slices)
}

/// Ends the current task's turn on its worker, and resumes on its next.
/// `yield_now` would not do: the connection polls its body again within the
/// same turn (up to sixteen times) and would be given the next slice at
/// once. So the task spends what is left of its scheduling budget, which
/// its socket writes respect as well, and waits until the runtime grants a
/// new one.
async fn next_turn() {
    use std::task::Poll;
    use tokio::task::coop::poll_proceed;
    let mut spent = false;
    std::future::poll_fn(move |cx| {
        if spent {
            return poll_proceed(cx).map(|granted| granted.made_progress());
        }
        spent = true;
        // A budget is at most 128; an unbudgeted task (outside a runtime's
        // budgeting) has no turn to end.
        for _ in 0..=u8::MAX {
            match poll_proceed(cx) {
                Poll::Ready(granted) => granted.made_progress(),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    })
    .await;
}

/// The number of pages of the PDF `content`.
fn page_count(content: &[u8]) -> Result<u32, String> {
    let pdf = lopdf::Document::load_mem(content).map_err(|e| e.to_string())?;
    Ok(pdf.get_pages().len() as u32)
}

/// What a request's `Range` header asks of a document of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// No header, or one that is not a single byte range: served whole, as
    /// HTTP allows.
    Whole,
    /// The bytes `first..=last`, `last` already cut to the end.
    Range { first: u64, last: u64 },
    /// A range that starts past the end (416).
    Unsatisfiable,
}

/// Reads a `Range` header for a document of `len` bytes.
pub fn byte_range(header: Option<&str>, len: u64) -> Requested {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Requested::Whole;
    };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Requested::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Requested::Whole;
        };
        if suffix == 0 || len == 0 {
            return Requested::Unsatisfiable;
        }
        return Requested::Range {
            first: len.saturating_sub(suffix),
            last: len - 1,
        };
    }
    let Ok(first) = first.parse::<u64>() else {
        return Requested::Whole;
    };
    let last = match last {
        "" => len.saturating_sub(1),
        last => match last.parse::<u64>() {
            Ok(last) if last >= first => last.min(len.saturating_sub(1)),
            _ => return Requested::Whole,
        },
    };
    if first >= len {
        return Requested::Unsatisfiable;
    }
    Requested::Range { first, last }
}

#[cfg(test)]
mod tests {
    use super::{Kept, Requested, byte_range};
    use axum::body::Bytes;

    /// Asks `kept` for `sha256` and fills it with `len` bytes, as a served request does.
    fn serve(kept: &mut Kept, sha256: &str, len: usize, limit: usize) {
        let cell = kept.cell(sha256);
        if !cell.initialized() {
            cell.set(Bytes::from(vec![0; len])).expect("empty");
        }
        kept.trim(sha256, limit);
    }

    fn held(kept: &Kept) -> Vec<&str> {
        let mut names: Vec<_> = kept.documents.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn the_documents_asked_for_least_recently_go_beyond_the_limit() {
        let mut kept = Kept::default();
        serve(&mut kept, "a", 40, 100);
        serve(&mut kept, "b", 40, 100);
        serve(&mut kept, "a", 40, 100);
        assert_eq!(held(&kept), ["a", "b"]);
        // c makes 120 bytes: b, asked for before a's second request, goes.
        serve(&mut kept, "c", 40, 100);
        assert_eq!(held(&kept), ["a", "c"]);
        // One document larger than the limit is kept while it is the one asked for.
        serve(&mut kept, "d", 150, 100);
        assert_eq!(held(&kept), ["d"]);
        // A document still being read is not let go, nor counted.
        let reading = kept.cell("e");
        serve(&mut kept, "f", 10, 100);
        assert_eq!(held(&kept), ["e", "f"]);
        assert!(!reading.initialized());
    }

    #[test]
    fn ranges_are_read_as_http_says() {
        let range = |first, last| Requested::Range { first, last };
        assert_eq!(byte_range(None, 100), Requested::Whole);
        assert_eq!(byte_range(Some("bytes=0-9"), 100), range(0, 9));
        assert_eq!(byte_range(Some("bytes=90-"), 100), range(90, 99));
        assert_eq!(byte_range(Some("bytes=-10"), 100), range(90, 99));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), range(50, 99));
        assert_eq!(
            byte_range(Some("bytes=100-"), 100),
            Requested::Unsatisfiable
        );
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Requested::Whole);
        assert_eq!(byte_range(Some("bytes=9-0"), 100), Requested::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 100), Requested::Whole);
    }
}
