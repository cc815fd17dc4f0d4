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
//! checks them against the hash they are stored under, and keeps that one
//! copy for every later request (a hall of 300 tablets opening the same
//! draft shares it; concurrent first requests wait for the one read). Bytes
//! that do not match are an error, logged and never kept nor served. A
//! `Range` request is then a slice of checked bytes, so no range is ever
//! served unchecked and nothing needs hashing per request.
//!
//! **Presenting** a page before the hall needs the document's page count
//! ([`Served::pages`]): read from those checked bytes the first time, kept
//! beside them.

use crate::meeting::MeetingDefinition;
use crate::store::{NewDocument, Store, StoreError};
use axum::body::Bytes;
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The largest document accepted: a scanned draft resolution with its
/// annexes runs to tens of megabytes; 64 MiB leaves room for that while a
/// hall's Wi-Fi still carries it to every tablet before the session.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

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
}

/// The documents' checked bytes, one shared copy per hash (see the module's notes).
#[derive(Default)]
pub struct Served {
    bytes: DashMap<String, Arc<OnceCell<Bytes>>>,
    /// Each document's page count, counted once when a page of it is first
    /// presented.
    pages: DashMap<String, Arc<OnceCell<u32>>>,
}

impl Served {
    /// The bytes stored under `sha256`, checked against it.
    pub async fn get(&self, store: &Store, sha256: &str) -> Result<Bytes, ServeError> {
        let cell = self.bytes.entry(sha256.to_owned()).or_default().clone();
        cell.get_or_try_init(|| async {
            let content = store
                .document_content(sha256)
                .await?
                .ok_or_else(|| ServeError::Missing(sha256.to_owned()))?;
            let actual = hex::encode(Sha256::digest(&content));
            if actual != sha256 {
                return Err(ServeError::Mismatch {
                    expected: sha256.to_owned(),
                    actual,
                });
            }
            Ok(Bytes::from(content))
        })
        .await
        .cloned()
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
    use super::{Requested, byte_range};

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
