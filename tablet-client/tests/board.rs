//! `gavel-tablet board confirm` against a real server on each store: the
//! example meeting's counting board (seats 7, 15 and 23, all required)
//! confirms a secret yes/no count from the command line. The count is
//! printed before anything is signed, in either language; a member who
//! answers no signs nothing; a seat off the board is told so; a second
//! confirmation is refused with the server's reason; each confirmation
//! reaches the chair's console.

use ed25519_dalek::SigningKey;
use gavel_client::credentials::Credentials;
use gavel_client::tls::Trust;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Principal, PublicKey, SeatNo};
use gavel_tests::databases;
use gavel_tests::process::{Prepared, prepare_example, vote};
use gavel_tests::server::TestServer;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use tokio::io::AsyncWriteExt as _;

/// What `gavel-tablet` printed and whether it succeeded.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `gavel-tablet` with `credentials` and `args`, `input` on its
/// standard input, none of the environment's `GAVEL_*` settings.
async fn tablet(credentials: &Path, args: &[&str], input: &str) -> anyhow::Result<Ran> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gavel-tablet"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GAVEL_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .arg("--credentials")
        .arg(credentials)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input.as_bytes()).await?;
    drop(stdin);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().await?;
    Ok(Ran {
        ok: status.success(),
        stdout: String::from_utf8(stdout)?,
        stderr: String::from_utf8(stderr)?,
    })
}

/// Saves the credentials of `seat` of `prepared` in `dir`, as enrollment would.
fn credentials(
    dir: &Path,
    server: &TestServer,
    prepared: &Prepared,
    seat: SeatNo,
) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("seat-{seat}.json"));
    Credentials::new(
        &server.url,
        prepared.meeting.clone(),
        Principal::Seat(seat),
        PublicKey::of(&server.server_key),
        Trust::default(),
        &prepared.seats[seat as usize - 1],
    )
    .save(&path)?;
    Ok(path)
}

#[tokio::test]
async fn a_board_member_confirms_a_secret_count_from_the_command_line() -> anyhow::Result<()> {
    for db in databases().await {
        let name = db.name;
        let prepared = prepare_example(&db.url, 23).await?;
        assert_eq!(prepared.definition.counting_board, vec![7, 15, 23]);
        let server = TestServer::start(&db.url, SigningKey::generate(&mut rand::rngs::OsRng));
        let dir = tempfile::tempdir()?;
        let mut chair = prepared.chair(&server.url).await?;
        let mut voters = Vec::new();
        for seat in 1..=4 {
            let mut voter = prepared.seat(&server.url, seat).await?;
            voter.check_in().await?;
            voters.push(voter);
        }
        use Choice::{Abstain, No, Yes};
        let item = prepared.item(Secrecy::Secret);
        let (round, _) = vote(
            &mut chair,
            &mut voters,
            item,
            &[Yes, Yes, No, Abstain],
            true,
        )
        .await?;

        let off_board = credentials(dir.path(), &server, &prepared, 1)?;
        let ran = tablet(
            &off_board,
            &["--lang", "en", "board", "confirm", "--yes"],
            "",
        )
        .await?;
        assert!(!ran.ok, "{name}");
        assert!(
            ran.stderr
                .contains("seat 1 is not on the counting board (seats 7, 15, 23)"),
            "{name}: {}",
            ran.stderr
        );

        // The head of the board reads the count and says no: nothing is signed.
        let head = credentials(dir.path(), &server, &prepared, 7)?;
        let ran = tablet(&head, &["board", "confirm"], "k\n").await?;
        assert!(!ran.ok, "{name}: {}", ran.stdout);
        let title = &prepared.definition.agenda[item as usize].title;
        for line in [
            format!(
                "Kết quả kiểm phiếu chờ Ban kiểm phiếu xác nhận — nội dung {}: {title}",
                item + 1
            ),
            "Tổng số đại biểu: 40; có mặt: 4 (10,00%); số phiếu thu vào: 4 (10,00%)".to_owned(),
            "  Tán thành: 2 (5,00%)".to_owned(),
            "  Không tán thành: 1 (2,50%)".to_owned(),
            "  Không biểu quyết: 1 (2,50%)".to_owned(),
            "Xác nhận [c/K]:".to_owned(),
        ] {
            assert!(
                ran.stdout.contains(&line),
                "{name}: {line:?} in {}",
                ran.stdout
            );
        }
        assert!(ran.stderr.contains("chưa xác nhận"), "{}", ran.stderr);
        chair.sync().await?;
        let board = chair
            .state
            .round()
            .and_then(|r| r.board.clone())
            .expect("a board");
        assert_eq!(board.confirmed, vec![], "{name}: nothing was signed");

        let ran = tablet(&head, &["board", "confirm"], "c\n").await?;
        assert!(ran.ok, "{name}: {}", ran.stderr);
        assert!(
            ran.stdout
                .contains("Đã xác nhận kết quả kiểm phiếu (ghế 7, thiết bị đã ký). 1/3"),
            "{}",
            ran.stdout
        );
        let ran = tablet(&head, &["board", "confirm", "--yes"], "").await?;
        assert!(!ran.ok, "{name}");
        assert!(
            ran.stderr
                .contains("Bị từ chối: thành viên này đã xác nhận kết quả"),
            "{name}: {}",
            ran.stderr
        );

        let member = credentials(dir.path(), &server, &prepared, 15)?;
        let ran = tablet(&member, &["--lang", "en", "board", "confirm", "--yes"], "").await?;
        assert!(ran.ok, "{name}: {}", ran.stderr);
        for line in [
            "All delegates: 40; present: 4 (10.00%); ballots returned: 4 (10.00%)",
            "  Tán thành: 2 (5.00%)",
            "Count confirmed (seat 15, signed by this device). 2 of the 3",
        ] {
            assert!(
                ran.stdout.contains(line),
                "{name}: {line:?} in {}",
                ran.stdout
            );
        }
        chair
            .wait_until(|s| {
                s.round().is_some_and(|r| {
                    r.id == round
                        && r.board
                            .as_ref()
                            .is_some_and(|b| b.confirmed.iter().map(|c| c.seat).eq([7, 15]))
                })
            })
            .await?;

        chair.close().await;
        for voter in voters {
            voter.close().await;
        }
        server.stop()?;
    }
    Ok(())
}
