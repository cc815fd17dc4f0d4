//! Writes the minutes and the results table of a session, in Vietnamese and
//! English, from a session written as JSON (the `Session` model, serde's
//! form). Without arguments it uses the example session beside this file:
//! the Phúc Lợi ward council's twelfth session
//! (`server/meetings/phuc-loi.toml`) with plausible results.
//!
//! ```text
//! cargo run -p gavel-records --example minutes -- [SESSION.json] [OUT_DIR]
//! chromium --headless --no-sandbox --no-pdf-header-footer \
//!     --print-to-pdf=OUT_DIR/minutes-vi.pdf OUT_DIR/minutes-vi.html
//! ```
//!
//! It writes `minutes-vi.html`, `minutes-en.html`, `results-vi.csv` and
//! `results-en.csv` into OUT_DIR (default `target/minutes`), after checking
//! the session's numbers against the rules. `docs/screenshots/minutes-*.png`
//! are made from the example session by
//! `GAVEL_WRITE_SCREENSHOTS=1 cargo test -p gavel-records --test render`.

use gavel_records::minutes::{Lang, Session, minutes_html, results_csv};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args_os().skip(1);
    let input = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/phuc-loi-results.json")
    });
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/minutes"));
    let text = std::fs::read_to_string(&input)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let session: Session =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    session
        .check()
        .map_err(|e| format!("{}: {e}", input.display()))?;
    std::fs::create_dir_all(&out)?;
    for (lang, tag) in [(Lang::Vi, "vi"), (Lang::En, "en")] {
        let html = out.join(format!("minutes-{tag}.html"));
        std::fs::write(&html, minutes_html(&session, lang))?;
        let csv = out.join(format!("results-{tag}.csv"));
        std::fs::write(&csv, results_csv(&session, lang))?;
        println!("{}\n{}", html.display(), csv.display());
    }
    Ok(())
}
