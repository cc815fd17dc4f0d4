//! Meeting documents for the tests: small real PDFs, and the example meeting
//! with documents named on its last item, written where an import reads them.

use gavel_server::documents;
use gavel_server::meeting::MeetingDefinition;
use gavel_server::store::Store;
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::path::{Path, PathBuf};

/// A one-page PDF that says `text` (ASCII: the page uses a standard font).
pub fn pdf(text: &str) -> Vec<u8> {
    pdf_pages(&[text])
}

/// A PDF with one page per text, each saying its text (ASCII, as [`pdf`]).
pub fn pdf_pages(texts: &[&str]) -> Vec<u8> {
    save(pages(texts))
}

/// A one-page PDF of about `size` bytes: the page says `text`, and an
/// unreferenced stream of random bytes makes up the size, as the scans and
/// images of a real council's papers do; random, so that no compression on
/// the way makes it smaller.
pub fn pdf_of_size(text: &str, size: usize) -> Vec<u8> {
    let mut doc = pages(&[text]);
    let mut filler = vec![0u8; size.saturating_sub(save(doc.clone()).len() + 64)];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut filler);
    doc.add_object(Stream::new(dictionary! {}, filler));
    save(doc)
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("a PDF writes to memory");
    out
}

fn pages(texts: &[&str]) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let kids: Vec<Object> = texts
        .iter()
        .map(|text| {
            let content = Content {
                operations: vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 18.into()]),
                    Operation::new("Td", vec![72.into(), 760.into()]),
                    Operation::new("Tj", vec![Object::string_literal(*text)]),
                    Operation::new("ET", vec![]),
                ],
            };
            let content_id = doc.add_object(Stream::new(
                dictionary! {},
                content.encode().expect("a page's content encodes"),
            ));
            doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "Contents" => content_id,
            })
            .into()
        })
        .collect();
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Count" => kids.len() as i64,
            "Kids" => kids,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    doc
}

/// A document the meeting file names: title, kind, file (relative to the
/// meeting file) and whether it is public.
pub struct Named<'a> {
    pub title: &'a str,
    pub kind: &'a str,
    pub file: &'a str,
    pub public: bool,
}

/// The first document of the tests' meeting: the public submission.
pub const SUBMISSION: Named<'static> = Named {
    title: "Tờ trình về dự thảo Nghị quyết kỳ họp",
    kind: "submission",
    file: "docs/to-trinh.pdf",
    public: true,
};

/// The second: the draft resolution, for delegates only.
pub const DRAFT: Named<'static> = Named {
    title: "Dự thảo Nghị quyết",
    kind: "draft_resolution",
    file: "docs/du-thao.pdf",
    public: false,
};

/// Writes the example meeting into `dir` as `meeting.toml`, with `named`
/// on its last agenda item (a draft resolution), and returns its path. The
/// files themselves are the caller's to write.
pub fn example_with_documents(dir: &Path, named: &[Named]) -> std::io::Result<PathBuf> {
    let mut text = gavel_server::meeting::EXAMPLE.to_owned();
    for d in named {
        text.push_str(&format!(
            "\n[[topics.items.documents]]\ntitle = \"{}\"\nkind = \"{}\"\nfile = \"{}\"\npublic = {}\n",
            d.title, d.kind, d.file, d.public
        ));
    }
    let path = dir.join("meeting.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Imports the meeting file at `path` with its documents, as `gavel meeting
/// import` does.
pub async fn import(store: &Store, path: &Path) -> anyhow::Result<MeetingDefinition> {
    let text = std::fs::read_to_string(path)?;
    let definition = MeetingDefinition::parse(&text)?;
    let docs = documents::read(&definition, path.parent().expect("a file has a directory"))?;
    store
        .import_meeting(&definition.id, &text, &[], &docs)
        .await?;
    Ok(definition)
}

/// Another meeting than the example, `id`, on the same store, whose one
/// document is `content` (written as `other.pdf`, titled and kept as
/// `named` says): what the example's tablets must never be served.
pub async fn import_another_meeting(
    store: &Store,
    id: &str,
    named: Named<'_>,
    content: &[u8],
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let named = Named {
        file: "other.pdf",
        ..named
    };
    write(dir.path(), named.file, content)?;
    let file = example_with_documents(dir.path(), &[named])?;
    let text = std::fs::read_to_string(&file)?
        .replace("id = \"phuc-loi-2026-ky-12\"", &format!("id = \"{id}\""));
    std::fs::write(&file, text)?;
    import(store, &file).await?;
    Ok(())
}

/// Writes `content` to `file` under `dir`, making its directory.
pub fn write(dir: &Path, file: &str, content: &[u8]) -> std::io::Result<()> {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}
