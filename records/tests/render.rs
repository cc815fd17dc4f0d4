//! The minutes as a secretary prints them: the real headless Chromium turns
//! the example session's minutes into a PDF and a PNG, in both languages.
//!
//! Without Chromium (at `CHROMIUM`, or /usr/bin/chromium) the test says so
//! and passes, except under `CI=true`, where a missing browser is a failure
//! (`scripts/test` installs it first).
//! `GAVEL_WRITE_SCREENSHOTS=1` also writes one page of each PDF to
//! `docs/screenshots/` (needs `pdftoppm`, from poppler-utils): the first
//! page in Vietnamese (`minutes-vi.png`: heading, summary), the third in
//! English (`minutes-en.png`: a voided round, its re-vote and the charts),
//! and the sixth in Vietnamese (`minutes-count-vi.png`: a secret yes/no
//! round and the counting board's record of it), so that the pictures
//! show the whole of the layout between them.

use gavel_records::minutes::{Lang, Session, minutes_html};
use gavel_tests::require_tool;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium, at `CHROMIUM` or /usr/bin/chromium, where it is ([`require_tool`]).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    require_tool(&path).then_some(path)
}

fn example() -> Session {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/phuc-loi-results.json"
    );
    let session: Session = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    session.check().unwrap();
    session
}

/// Runs headless Chromium on `html` with one output flag, in its own profile.
fn run_chromium(chromium: &Path, dir: &Path, html: &Path, output_flag: &str) {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--hide-scrollbars",
            "--window-size=900,1300",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(output_flag)
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many pages a PDF has: its page objects (`/Type /Page`, not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Pages of the printed minutes kept as screenshots: (page, file name).
type PagesShown<'a> = &'a [(&'a str, &'a str)];

#[test]
fn minutes_print_to_pdf_and_png_in_both_languages() {
    let Some(chromium) = chromium() else {
        return;
    };
    let session = example();
    let dir = tempfile::tempdir().unwrap();
    let shown: [(Lang, &str, PagesShown); 2] = [
        (
            Lang::Vi,
            "vi",
            &[("1", "minutes-vi"), ("6", "minutes-count-vi")],
        ),
        (Lang::En, "en", &[("3", "minutes-en")]),
    ];
    for (lang, tag, pages_shown) in shown {
        let html = dir.path().join(format!("minutes-{tag}.html"));
        std::fs::write(&html, minutes_html(&session, lang)).unwrap();

        let pdf_path = dir.path().join(format!("minutes-{tag}.pdf"));
        run_chromium(
            &chromium,
            dir.path(),
            &html,
            &format!("--print-to-pdf={}", pdf_path.display()),
        );
        let pdf = std::fs::read(&pdf_path).expect("the PDF was written");
        assert!(pdf.starts_with(b"%PDF-"), "{tag}: not a PDF");
        // Eight voted items, one per block, cannot fit on fewer than three A4 pages.
        let pages = pdf_pages(&pdf);
        assert!((3..=8).contains(&pages), "{tag}: {pages} pages");
        // The embedded font was used, not a system fallback.
        assert!(
            contains(&pdf, b"BeVietnamPro-Regular") && contains(&pdf, b"BeVietnamPro-SemiBold"),
            "{tag}: Be Vietnam Pro is not in the PDF"
        );

        let png_path = dir.path().join(format!("minutes-{tag}.png"));
        run_chromium(
            &chromium,
            dir.path(),
            &html,
            &format!("--screenshot={}", png_path.display()),
        );
        let png = std::fs::read(&png_path).expect("the PNG was written");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{tag}: not a PNG");

        if std::env::var_os("GAVEL_WRITE_SCREENSHOTS").is_some() {
            let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/screenshots");
            for (page, file) in pages_shown {
                let status = Command::new("pdftoppm")
                    .args(["-png", "-r", "110", "-singlefile"])
                    .args(["-f", page, "-l", page])
                    .arg(&pdf_path)
                    .arg(format!("{docs}/{file}"))
                    .status()
                    .expect("pdftoppm runs");
                assert!(status.success());
            }
        }
    }
}
