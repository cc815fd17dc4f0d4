//! The `gavel` command as a secretary uses it before a session: import the
//! meeting definition, list meetings, print enrollment codes.

use gavel_tests::process;
use std::path::Path;
use std::process::Output;

fn gavel(data_dir: &Path, args: &[&str]) -> Output {
    process::command(env!("CARGO_BIN_EXE_gavel"), data_dir, None)
        .args(args)
        .output()
        .expect("gavel runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_meeting_is_imported_listed_and_given_codes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("meeting.toml");
    std::fs::write(&file, gavel_server::meeting::EXAMPLE).unwrap();

    let out = gavel(dir.path(), &["meeting", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("40 seats"),
        "{}",
        text(&out.stdout)
    );

    let out = gavel(dir.path(), &["meeting", "list"]);
    assert!(
        text(&out.stdout).starts_with("phuc-loi-2026-ky-12\t"),
        "{}",
        text(&out.stdout)
    );

    let out = gavel(
        dir.path(),
        &[
            "codes",
            "--meeting",
            "phuc-loi-2026-ky-12",
            "--seats",
            "1-3,40",
            "--chair",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let codes: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(codes.len(), 5, "{stdout}");
    assert!(codes[0].ends_with("chair's console"));
    assert!(codes[4].contains("seat  40"), "{stdout}");

    let out = gavel(
        dir.path(),
        &["codes", "--meeting", "phuc-loi-2026-ky-12", "--seats", "41"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no seat 41"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_mistake_in_the_file_names_field_and_line_and_nothing_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let broken = gavel_server::meeting::EXAMPLE.replacen("total_seats = 40", "total_seats = 41", 1);
    let line = broken
        .lines()
        .position(|l| l.starts_with("total_seats"))
        .unwrap()
        + 1;
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, broken).unwrap();

    let out = gavel(dir.path(), &["meeting", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("line {line}")), "{stderr}");
    assert!(stderr.contains("total_seats"), "{stderr}");

    let out = gavel(dir.path(), &["meeting", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "nothing was loaded");
}
