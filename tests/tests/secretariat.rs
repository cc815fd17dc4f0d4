//! The secretariat's API on a real server, on each store: a device enrolled
//! with a code from `gavel codes --admin` logs in by signing a challenge and
//! lists the meetings; a used, expired or unknown code, a wrong signature, a
//! replayed challenge and a missing session are each refused with their own
//! reason, and a delegate's or the chair's device is told it is not the
//! secretariat's. The meeting goes out as its file and comes back unchanged,
//! and a new meeting, made from the app's form or imported from a file, is
//! checked as `gavel meeting import` checks it and served at once. A PDF
//! attached to an item and replaced with a new version is listed at once by
//! a tablet of the running meeting, each version is in the audit chain, the
//! file names the latest by its hash, and each bad upload is refused.

use ed25519_dalek::SigningKey;
use gavel_protocol::messages::{RefusalReason, ServerMsg};
use gavel_protocol::signing::{admin_auth_bytes, enroll_bytes};
use gavel_protocol::{Principal, PublicKey, Signature};
use gavel_server::app::Options;
use gavel_server::enrollment;
use gavel_server::limits::LimitSettings;
use gavel_server::meeting::{EXAMPLE, MeetingDefinition, MeetingForm};
use gavel_tests::databases;
use gavel_tests::http::{self, Response};
use gavel_tests::server::{TestServer, example_meeting};
use serde_json::{Value, json};
use std::time::Duration;

fn fresh_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

async fn enroll(addr: &str, code: &str, key: &SigningKey) -> anyhow::Result<Response> {
    let public = PublicKey::of(key);
    let signature = Signature::sign(key, &enroll_bytes(code, &public));
    let body = json!({ "code": code, "public_key": public, "signature": signature });
    http::post_json(addr, "/api/secretariat/enroll", &[], Some(&body)).await
}

async fn challenge(addr: &str) -> anyhow::Result<String> {
    let answer = http::post_json(addr, "/api/secretariat/challenge", &[], None).await?;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer: Value = serde_json::from_str(&answer.body)?;
    Ok(answer["nonce"].as_str().unwrap().to_owned())
}

/// Answers `nonce` with `key`.
async fn answer(addr: &str, nonce: &str, key: &SigningKey) -> anyhow::Result<Response> {
    let public = PublicKey::of(key);
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(nonce, &mut bytes)?;
    let signature = Signature::sign(key, &admin_auth_bytes(&bytes, &public));
    let body = json!({ "nonce": nonce, "public_key": public, "signature": signature });
    http::post_json(addr, "/api/secretariat/login", &[], Some(&body)).await
}

async fn log_in(addr: &str, key: &SigningKey) -> anyhow::Result<Response> {
    answer(addr, &challenge(addr).await?, key).await
}

/// The refusal's status and reason.
fn refused(response: &Response) -> (u16, String) {
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("a JSON refusal, not {:?}: {e}", response.body));
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a refusal explains itself: {body}"
    );
    (response.status, body["reason"].as_str().unwrap().to_owned())
}

fn refusal(status: u16, reason: &str) -> (u16, String) {
    (status, reason.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretariat_enrolls_logs_in_and_lists_meetings_and_nobody_else_does()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let store = server.store().await?;
        let codes = enrollment::issue_secretariat(&store, 2, 1).await?;
        let expired = enrollment::issue_secretariat(&store, 1, 0).await?;

        // A signature that is not the key's burns nothing.
        let key = fresh_key();
        let public = PublicKey::of(&key);
        let forged = Signature::sign(&fresh_key(), &enroll_bytes(&codes[0], &public));
        let body = json!({ "code": codes[0], "public_key": public, "signature": forged });
        let wrong = http::post_json(addr, "/api/secretariat/enroll", &[], Some(&body)).await?;
        assert_eq!(
            refused(&wrong),
            refusal(401, "bad_signature"),
            "{}",
            db.name
        );

        let enrolled = enroll(addr, &codes[0], &key).await?;
        assert_eq!(enrolled.status, 200, "{}: {}", db.name, enrolled.body);
        assert_eq!(
            refused(&enroll(addr, &codes[0], &fresh_key()).await?),
            refusal(400, "code_used")
        );
        assert_eq!(
            refused(&enroll(addr, &expired[0], &fresh_key()).await?),
            refusal(400, "code_expired")
        );
        assert_eq!(
            refused(&enroll(addr, "AAAAA-BBBBB", &fresh_key()).await?),
            refusal(400, "unknown_code")
        );

        // No session, no list.
        let (anonymous, _) = http::get_with(addr, "/api/secretariat/meetings", &[]).await?;
        assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
        let (made_up, _) = http::get_with(
            addr,
            "/api/secretariat/meetings",
            &[("Authorization", &format!("Bearer {}", "ab".repeat(32)))],
        )
        .await?;
        assert_eq!(refused(&made_up), refusal(401, "not_logged_in"));

        // A challenge answers once.
        let nonce = challenge(addr).await?;
        let logged_in = answer(addr, &nonce, &key).await?;
        assert_eq!(logged_in.status, 200, "{}", logged_in.body);
        assert_eq!(
            refused(&answer(addr, &nonce, &key).await?),
            refusal(401, "unknown_challenge")
        );
        let token: Value = serde_json::from_str(&logged_in.body)?;
        let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
        let (list, _) = http::get_with(
            addr,
            "/api/secretariat/meetings",
            &[("Authorization", &bearer)],
        )
        .await?;
        assert_eq!(list.status, 200, "{}", list.body);
        let list: Value = serde_json::from_str(&list.body)?;
        let example = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == example_meeting().as_str())
            .expect("the example meeting is listed");
        assert_eq!(example["state"], "upcoming");

        // A delegate's tablet and the chair's console are not the secretariat.
        let (delegate, _session) = server.enroll(Principal::Seat(3)).await?;
        assert_eq!(
            refused(&log_in(addr, &delegate).await?),
            refusal(403, "not_secretariat")
        );
        let (chair, _console) = server.enroll(Principal::Chair).await?;
        assert_eq!(
            refused(&log_in(addr, &chair).await?),
            refusal(403, "not_secretariat")
        );
        assert_eq!(
            refused(&log_in(addr, &fresh_key()).await?),
            refusal(401, "unknown_key")
        );

        // The second code still enrolls a second device.
        assert_eq!(enroll(addr, &codes[1], &fresh_key()).await?.status, 200);
        server.stop()?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_codes_is_stopped_by_the_address_limit() -> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let options = Options {
        limits: LimitSettings {
            failures_per_minute: 3,
            ..LimitSettings::default()
        },
        ..Options::default()
    };
    let server = TestServer::with_example_and(&db.url, options).await?;
    let addr = http::address_of(&server.url);
    let store = server.store().await?;
    let good = enrollment::issue_secretariat(&store, 1, 1).await?;
    for guess in ["AAAAA-AAAAA", "BBBBB-BBBBB", "CCCCC-CCCCC"] {
        assert_eq!(
            refused(&enroll(addr, guess, &fresh_key()).await?),
            refusal(400, "unknown_code")
        );
    }
    // Even the right code waits now, and is not burnt by the refusal.
    assert_eq!(
        refused(&enroll(addr, &good[0], &fresh_key()).await?),
        refusal(429, "rate_limited")
    );
    server.stop()?;
    Ok(())
}

/// A logged-in secretariat's `Authorization` header.
async fn secretariat(server: &TestServer) -> anyhow::Result<String> {
    let addr = http::address_of(&server.url);
    let codes = enrollment::issue_secretariat(&server.store().await?, 1, 1).await?;
    let key = fresh_key();
    assert_eq!(enroll(addr, &codes[0], &key).await?.status, 200);
    let logged_in = log_in(addr, &key).await?;
    let token: Value = serde_json::from_str(&logged_in.body)?;
    Ok(format!("Bearer {}", token["token"].as_str().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_goes_out_as_its_file_and_comes_back_unchanged_and_new_ones_are_served_at_once()
-> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let bearer = secretariat(&server).await?;
        let auth = [("Authorization", bearer.as_str())];
        let example = example_meeting();

        // The file is the stored text, byte for byte.
        let (file, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{example}/file"),
            &auth,
        )
        .await?;
        assert_eq!(file.status, 200, "{}", db.name);
        assert_eq!(file.body, EXAMPLE);
        let (none, _) =
            http::get_with(addr, "/api/secretariat/meetings/khong-co/file", &auth).await?;
        assert_eq!(refused(&none), refusal(404, "unknown_meeting"));

        // Imported again under its own id it is refused, not replaced.
        let again = http::post_text(
            addr,
            "/api/secretariat/meetings/import",
            &auth,
            "application/toml",
            &file.body,
        )
        .await?;
        assert_eq!(refused(&again), refusal(409, "meeting_exists"));

        // Under a new id it is a new meeting, served at once, whose file is
        // what was imported.
        let copy_id = "phuc-loi-2026-ky-13";
        let copied = file.body.replace(
            &format!("id = \"{example}\""),
            &format!("id = \"{copy_id}\""),
        );
        let imported = http::post_text(
            addr,
            "/api/secretariat/meetings/import",
            &auth,
            "application/toml",
            &copied,
        )
        .await?;
        assert_eq!(imported.status, 200, "{}", imported.body);
        let (view, _) = http::get_with(addr, &format!("/api/meetings/{copy_id}/view"), &[]).await?;
        assert_eq!(
            view.status, 200,
            "the hub serves the new meeting: {}",
            view.body
        );
        let (back, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{copy_id}/file"),
            &auth,
        )
        .await?;
        assert_eq!(back.body, copied);

        // The app's form of a meeting, under a new id, makes a meeting whose
        // definition is the same but for its id.
        let (form, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{example}/form"),
            &auth,
        )
        .await?;
        let form: Value = serde_json::from_str(&form.body)?;
        assert_eq!(form["started"], false);
        assert_eq!(form["locked"], json!([]));
        let mut form: MeetingForm = serde_json::from_value(form["form"].clone())?;
        assert_eq!(form, MeetingForm::of(&MeetingDefinition::parse(EXAMPLE)?));
        form.id = "phuc-loi-2027-ky-1".into();
        let made = http::post_json(
            addr,
            "/api/secretariat/meetings",
            &auth,
            Some(&serde_json::to_value(&form)?),
        )
        .await?;
        assert_eq!(made.status, 200, "{}", made.body);
        let (made_file, _) = http::get_with(
            addr,
            "/api/secretariat/meetings/phuc-loi-2027-ky-1/file",
            &auth,
        )
        .await?;
        let mut expected = MeetingDefinition::parse(EXAMPLE)?;
        let made_definition = MeetingDefinition::parse(&made_file.body)?;
        expected.id = made_definition.id.clone();
        assert_eq!(made_definition, expected);

        // A form that does not pass is refused with the field to blame, and
        // nothing is stored.
        form.id = "phuc-loi-2027-ky-2".into();
        form.topics[0].items[0].title = String::new();
        let bad = http::post_json(
            addr,
            "/api/secretariat/meetings",
            &auth,
            Some(&serde_json::to_value(&form)?),
        )
        .await?;
        assert_eq!(refused(&bad), refusal(422, "invalid_definition"));
        let bad: Value = serde_json::from_str(&bad.body)?;
        assert_eq!(bad["field"], "topics[0].items[0].title");
        assert_eq!(bad["message"], "must not be empty");
        assert!(bad.get("line").is_none(), "a form has no lines: {bad}");
        let (list, _) = http::get_with(addr, "/api/secretariat/meetings", &auth).await?;
        let list: Value = serde_json::from_str(&list.body)?;
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(!ids.contains(&"phuc-loi-2027-ky-2"));

        // A file that does not pass is refused with its line and column.
        let broken = copied.replace(copy_id, "phuc-loi-2027-ky-3").replacen(
            "total_seats = 40",
            "total_seats = 41",
            1,
        );
        let refused_file = http::post_text(
            addr,
            "/api/secretariat/meetings/import",
            &auth,
            "application/toml",
            &broken,
        )
        .await?;
        assert_eq!(refused(&refused_file), refusal(422, "invalid_definition"));
        let refused_file: Value = serde_json::from_str(&refused_file.body)?;
        assert_eq!(refused_file["field"], "total_seats");
        let line = broken
            .lines()
            .position(|l| l.starts_with("total_seats"))
            .unwrap()
            + 1;
        assert_eq!(refused_file["line"], line);
        assert!(
            refused_file["message"]
                .as_str()
                .unwrap()
                .contains("seat 41 is missing"),
            "{refused_file}"
        );

        // Without a session, nothing.
        let (anonymous, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{example}/file"),
            &[],
        )
        .await?;
        assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
        server.stop()?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spreadsheet_is_read_into_a_roster_or_refused_with_every_problem() -> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let server = TestServer::with_example(&db.url).await?;
    let addr = http::address_of(&server.url);
    let bearer = secretariat(&server).await?;
    let auth = [("Authorization", bearer.as_str())];
    let path = "/api/secretariat/roster?format=csv&encoding=utf-8&seats=2";

    let good = "Số ghế;Họ và tên;Tổ\n2;Trần Thị Bình;Tổ 1\n1;Nguyễn Văn An;Tổ 2\n";
    let read = http::post_text(addr, path, &auth, "text/csv", good).await?;
    assert_eq!(read.status, 200, "{}", read.body);
    let read: Value = serde_json::from_str(&read.body)?;
    assert_eq!(read["seats"][0]["number"], 1);
    assert_eq!(read["seats"][0]["name"], "Nguyễn Văn An");
    assert_eq!(read["seats"][1]["group"], "Tổ 1");

    let bad = "seat,name\n1,\n1,Trần Thị Bình\n";
    let refused_roster = http::post_text(addr, path, &auth, "text/csv", bad).await?;
    assert_eq!(refused(&refused_roster), refusal(422, "invalid_roster"));
    let problems: Value = serde_json::from_str(&refused_roster.body)?;
    let problems: Vec<(u64, Option<&str>, &str)> = problems["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let reason = p["reason"].as_str().unwrap();
            (p["row"].as_u64().unwrap(), p["column"].as_str(), reason)
        })
        .collect();
    assert_eq!(
        problems,
        [
            (2, Some("B"), "name_missing"),
            (3, Some("A"), "seat_twice"),
            (0, None, "seats_without_row")
        ]
    );
    let twice = &serde_json::from_str::<Value>(&refused_roster.body)?["problems"][1];
    assert_eq!(
        (&twice["seat"], &twice["first_row"]),
        (&json!(1), &json!(2))
    );

    let odd = "/api/secretariat/roster?format=ods&seats=2";
    let refused_format = http::post_text(addr, odd, &auth, "text/csv", good).await?;
    assert_eq!(refused(&refused_format), refusal(422, "invalid_roster"));
    let format = &serde_json::from_str::<Value>(&refused_format.body)?["problems"][0];
    assert_eq!(
        (&format["reason"], &format["value"]),
        (&json!("unknown_format"), &json!("ods"))
    );
    let anonymous = http::post_text(addr, path, &[], "text/csv", good).await?;
    assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
    server.stop()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_cards_carry_a_fresh_code_per_seat_that_enrolls_that_seat_once()
-> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let server = TestServer::with_example(&db.url).await?;
    let addr = http::address_of(&server.url);
    let bearer = secretariat(&server).await?;
    let auth = [("Authorization", bearer.as_str())];
    let meeting = example_meeting();
    let path = format!("/api/secretariat/meetings/{meeting}/cards");
    let tablet_url = format!("http://{addr}/tablet/");
    let body = json!({ "tablet_url": tablet_url });

    let printed = http::post_json(addr, &path, &auth, Some(&body)).await?;
    assert_eq!(printed.status, 200, "{}", printed.body);
    let printed: Value = serde_json::from_str(&printed.body)?;
    let cards = printed["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 40);
    let codes: std::collections::HashSet<&str> =
        cards.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 40, "a code of its own for each seat");
    let seat_12 = &cards[11];
    assert_eq!(seat_12["seat"], 12);
    assert_eq!(seat_12["name"], "Lý Thị Mai");
    let code = seat_12["code"].as_str().unwrap();
    assert_eq!(seat_12["link"], format!("{tablet_url}?code={code}"));
    assert!(seat_12["qr_svg"].as_str().unwrap().contains("<svg"));

    // The printed code enrolls a tablet for seat 12 over the WebSocket, once.
    let key = fresh_key();
    let mut client = gavel_client::Client::connect(&server.url).await?;
    assert_eq!(
        client.enroll(code, &key).await?,
        (meeting.clone(), Principal::Seat(12))
    );
    let mut again = gavel_client::Client::connect(&server.url).await?;
    let used = again.enroll(code, &fresh_key()).await.unwrap_err();
    assert_eq!(used.reason(), Some(RefusalReason::CodeUsed), "{used}");

    for (bad, reason) in [
        ("javascript:alert(1)", "invalid_link"),
        ("http://hall:8080/tablet/?seat=1", "invalid_link"),
    ] {
        let refused_link =
            http::post_json(addr, &path, &auth, Some(&json!({ "tablet_url": bad }))).await?;
        assert_eq!(refused(&refused_link), refusal(422, reason), "{bad}");
    }
    let unknown = "/api/secretariat/meetings/no-such-meeting/cards";
    let refused_meeting = http::post_json(addr, unknown, &auth, Some(&body)).await?;
    assert_eq!(refused(&refused_meeting), refusal(404, "unknown_meeting"));
    let anonymous = http::post_json(addr, &path, &[], Some(&body)).await?;
    assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
    server.stop()?;
    Ok(())
}

/// The devices list of the example meeting, as the secretariat gets it.
async fn devices(addr: &str, auth: &[(&str, &str)]) -> anyhow::Result<Vec<Value>> {
    let path = format!("/api/secretariat/meetings/{}/devices", example_meeting());
    let (listed, _) = http::get_with(addr, &path, auth).await?;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed: Value = serde_json::from_str(&listed.body)?;
    Ok(listed["devices"].as_array().unwrap().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_list_shows_which_seats_have_a_tablet_and_when_each_was_last_seen()
-> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let server = TestServer::with_example(&db.url).await?;
    let addr = http::address_of(&server.url);
    let bearer = secretariat(&server).await?;
    let auth = [("Authorization", bearer.as_str())];

    let listed = devices(addr, &auth).await?;
    assert_eq!(listed.len(), 41, "the chair's console and 40 seats");
    assert!(listed[0].get("seat").is_none(), "the chair first");
    assert!(
        listed
            .iter()
            .all(|d| d["enrolled"] == false && d.get("last_seen").is_none())
    );

    let (_, session) = server.enroll(Principal::Seat(3)).await?;
    let listed = devices(addr, &auth).await?;
    let seat_3 = &listed[3];
    assert_eq!(
        (&seat_3["seat"], &seat_3["name"]),
        (&json!(3), &json!("Lê Minh Tuấn"))
    );
    assert_eq!(
        (&seat_3["enrolled"], &seat_3["online"]),
        (&json!(true), &json!(true))
    );
    let joined = seat_3["last_seen"].as_u64().unwrap();
    assert_eq!(listed[4]["enrolled"], false);

    // Gone from the hall: still enrolled, no longer connected, seen until it left.
    session.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let seat_3 = loop {
        let seat_3 = devices(addr, &auth).await?.swap_remove(3);
        if seat_3["online"] == false {
            break seat_3;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "still online: {seat_3}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(seat_3["enrolled"], true);
    assert!(seat_3["last_seen"].as_u64().unwrap() >= joined);

    let unknown = "/api/secretariat/meetings/no-such-meeting/devices";
    let (refused_meeting, _) = http::get_with(addr, unknown, &auth).await?;
    assert_eq!(refused(&refused_meeting), refusal(404, "unknown_meeting"));
    let path = format!("/api/secretariat/meetings/{}/devices", example_meeting());
    let (anonymous, _) = http::get_with(addr, &path, &[]).await?;
    assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
    server.stop()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tablet_is_revoked_at_once_with_its_reason_and_the_seat_gets_a_new_code()
-> anyhow::Result<()> {
    let db = databases().await.remove(0);
    let server = TestServer::with_example(&db.url).await?;
    let addr = http::address_of(&server.url);
    let bearer = secretariat(&server).await?;
    let auth = [("Authorization", bearer.as_str())];
    let meeting = example_meeting();
    let tablet_url = format!("http://{addr}/tablet/");
    let body = json!({ "tablet_url": tablet_url });
    let path = format!("/api/secretariat/meetings/{meeting}/devices/5/revoke");

    // A seat without a device has nothing to revoke.
    let nothing = http::post_json(addr, &path, &auth, Some(&body)).await?;
    assert_eq!(refused(&nothing), refusal(409, "no_device"));

    let (lost, mut session) = server.enroll(Principal::Seat(5)).await?;
    let revoked = http::post_json(addr, &path, &auth, Some(&body)).await?;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let card: Value = serde_json::from_str(&revoked.body)?;
    assert_eq!(
        (&card["seat"], &card["name"]),
        (&json!(5), &json!("Hoàng Văn Long"))
    );
    let code = card["code"].as_str().unwrap();
    assert_eq!(card["link"], format!("{tablet_url}?code={code}"));

    // The lost tablet's live session is told why, then closed.
    let told = loop {
        match session.next().await {
            Ok(ServerMsg::Refused { reason, id, .. }) => break (reason, id),
            Ok(_) => continue,
            Err(e) => anyhow::bail!("closed without the reason: {e}"),
        }
    };
    assert_eq!(told, (RefusalReason::KeyRevoked, None));
    assert!(session.next().await.is_err(), "closed after the reason");
    // Logging in again with the old key is refused with the same reason.
    let Err(again) = server.login(&lost).await else {
        anyhow::bail!("the revoked key logged in");
    };
    let again = again.downcast::<gavel_client::ClientError>()?;
    assert_eq!(again.reason(), Some(RefusalReason::KeyRevoked));

    // The new code enrolls a new tablet for seat 5, which logs in.
    let key = fresh_key();
    let mut client = gavel_client::Client::connect(&server.url).await?;
    assert_eq!(
        client.enroll(code, &key).await?,
        (meeting.clone(), Principal::Seat(5))
    );
    client.login(&meeting, &key).await?;

    // The revocation is in the meeting's audit chain, between the two keys.
    let store = server.store().await?;
    let kinds: Vec<&str> = store
        .audit_log(&meeting)
        .await?
        .iter()
        .map(|e| e.event.kind())
        .filter(|k| k.starts_with("key_"))
        .collect();
    assert_eq!(kinds, ["key_registered", "key_revoked", "key_registered"]);
    // And the exported record with it verifies.
    let bundle = gavel_server::export::bundle(&store, &server.server_key, &meeting).await?;
    let mismatches = gavel_records::verify::verify(&bundle);
    assert!(mismatches.is_empty(), "{mismatches:?}");

    let anonymous = http::post_json(addr, &path, &[], Some(&body)).await?;
    assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));
    let seat_99 = format!("/api/secretariat/meetings/{meeting}/devices/99/revoke");
    let refused_seat = http::post_json(addr, &seat_99, &auth, Some(&body)).await?;
    assert_eq!(refused(&refused_seat), refusal(409, "no_device"));
    server.stop()?;
    Ok(())
}

/// The document versions the delegate's tablet lists on `item`, as
/// `(version, sha256)`, from the meeting view of a new login.
async fn listed_on_tablet(
    server: &TestServer,
    key: &ed25519_dalek::SigningKey,
    item: usize,
) -> anyhow::Result<Vec<(u32, String)>> {
    let session = server.login(key).await?;
    Ok(session.meeting.agenda[item]
        .documents
        .iter()
        .map(|d| (d.version, d.sha256.clone()))
        .collect())
}

/// A request that declares a body of `length` bytes and sends none of it:
/// the answer must come before the server reads the body.
async fn declare_upload(
    addr: &str,
    path: &str,
    bearer: &str,
    length: u64,
) -> anyhow::Result<Response> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: {bearer}\r\n\
         Content-Type: application/pdf\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await??;
    let raw = String::from_utf8(raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).unwrap_or_default().parse()?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_attached_and_replaced_in_the_app_and_a_running_meeting_lists_it_at_once()
-> anyhow::Result<()> {
    use gavel_records::chain::Event;
    use gavel_tests::documents::pdf;
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let bearer = secretariat(&server).await?;
        let auth = [("Authorization", bearer.as_str())];
        let meeting = example_meeting();
        let definition = MeetingDefinition::parse(EXAMPLE)?;
        let last = definition.agenda.len() - 1;
        let items = format!("/api/secretariat/meetings/{meeting}/items");
        let (seat_key, mut tablet) = server.enroll(Principal::Seat(1)).await?;

        // Attached: version 1, and the tablet already connected is told to
        // connect again, and then lists it.
        let first = pdf("Du thao Nghi quyet, ban 1");
        let attach = format!(
            "{items}/{last}/documents?title=D%E1%BB%B1%20th%E1%BA%A3o%20ngh%E1%BB%8B%20quy%E1%BA%BFt&kind=draft_resolution&public=false"
        );
        let attached = http::post_bytes(addr, &attach, &auth, "application/pdf", &first).await?;
        assert_eq!(attached.status, 200, "{}: {}", db.name, attached.body);
        let attached: Value = serde_json::from_str(&attached.body)?;
        let first_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&first));
        assert_eq!(attached["slot"], 0);
        assert_eq!(attached["document"]["version"], 1);
        assert_eq!(attached["document"]["title"], "Dự thảo nghị quyết");
        assert_eq!(attached["document"]["sha256"], first_sha.as_str());
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if tablet.next().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "{}: the live session was ended", db.name);
        assert_eq!(
            listed_on_tablet(&server, &seat_key, last).await?,
            [(1, first_sha.clone())]
        );

        // Replaced: version 2 with the same fields, and every version stays.
        let second = pdf("Du thao Nghi quyet, ban 2");
        let second_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&second));
        let slot_0 = format!("{items}/{last}/documents/0");
        let replaced = http::post_bytes(addr, &slot_0, &auth, "application/pdf", &second).await?;
        assert_eq!(replaced.status, 200, "{}", replaced.body);
        let replaced: Value = serde_json::from_str(&replaced.body)?;
        assert_eq!(replaced["document"]["version"], 2);
        assert_eq!(replaced["document"]["kind"], "draft_resolution");
        assert_eq!(replaced["document"]["public"], false);
        assert_eq!(
            listed_on_tablet(&server, &seat_key, last).await?,
            [(2, second_sha.clone())]
        );
        let (listed, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{meeting}/documents"),
            &auth,
        )
        .await?;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let listed: Value = serde_json::from_str(&listed.body)?;
        let versions: Vec<u64> = listed["items"][last]["documents"][0]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, [1, 2]);
        assert_eq!(listed["items"][last]["voted"], false);

        // The audit chain has each version, and the definition naming it.
        let store = server.store().await?;
        let stored: Vec<(u32, String)> = store
            .audit_log(&meeting)
            .await?
            .into_iter()
            .filter_map(|e| match e.event {
                Event::DocumentStored {
                    item,
                    version,
                    sha256,
                    ..
                } if item as usize == last => Some((version, sha256.to_hex())),
                _ => None,
            })
            .collect();
        assert_eq!(stored, [(1, first_sha.clone()), (2, second_sha.clone())]);

        // The record verifies: the definition it carries is the last one defined.
        let bundle = gavel_server::export::bundle(&store, &server.server_key, &meeting).await?;
        assert_eq!(
            gavel_records::verify::verify(&bundle),
            vec![],
            "{}",
            db.name
        );

        // The file names the latest version by its hash and reads back unchanged.
        let (file, _) = http::get_with(
            addr,
            &format!("/api/secretariat/meetings/{meeting}/file"),
            &auth,
        )
        .await?;
        assert!(
            file.body
                .contains(&format!("file = \"documents/{second_sha}.pdf\"")),
            "{}",
            file.body
        );
        let read_back = MeetingDefinition::parse(&file.body)?;
        assert_eq!(MeetingForm::of(&read_back).to_toml(), file.body);

        // Each refusal is typed, names its field, and stores nothing.
        let not_pdf =
            http::post_bytes(addr, &slot_0, &auth, "application/pdf", b"%PDF-1.4 no").await?;
        assert_eq!(refused(&not_pdf), refusal(422, "not_a_pdf"));
        assert_eq!(
            serde_json::from_str::<Value>(&not_pdf.body)?["field"],
            "file"
        );
        let too_large = declare_upload(addr, &slot_0, &bearer, 65 * 1024 * 1024).await?;
        assert_eq!(refused(&too_large), refusal(413, "document_too_large"));
        let no_item = format!("{items}/99/documents?title=x&kind=report");
        let unknown = http::post_bytes(addr, &no_item, &auth, "application/pdf", &first).await?;
        assert_eq!(refused(&unknown), refusal(404, "unknown_item"));
        let no_slot = format!("{items}/{last}/documents/5");
        let unknown = http::post_bytes(addr, &no_slot, &auth, "application/pdf", &first).await?;
        assert_eq!(refused(&unknown), refusal(404, "unknown_document"));
        for (query, field) in [
            ("title=x&kind=minutes", "kind"),
            ("title=x", "kind"),
            ("title=%20&kind=report", "title"),
            ("title=x&kind=report&public=yes", "public"),
        ] {
            let path = format!("{items}/{last}/documents?{query}");
            let bad = http::post_bytes(addr, &path, &auth, "application/pdf", &first).await?;
            assert_eq!(refused(&bad), refusal(422, "invalid_definition"), "{query}");
            assert_eq!(serde_json::from_str::<Value>(&bad.body)?["field"], field);
        }
        let anonymous = http::post_bytes(addr, &slot_0, &[], "application/pdf", &first).await?;
        assert_eq!(refused(&anonymous), refusal(401, "not_logged_in"));

        // Once a round opened on the item, its documents are what was voted on.
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        gavel_tests::chair::open_round(&mut chair, u32::try_from(last)?, 120).await?;
        let voted = http::post_bytes(addr, &slot_0, &auth, "application/pdf", &first).await?;
        assert_eq!(refused(&voted), refusal(409, "item_voted"));
        let attach_more = format!("{items}/{last}/documents?title=Annex&kind=other");
        let voted = http::post_bytes(addr, &attach_more, &auth, "application/pdf", &first).await?;
        assert_eq!(refused(&voted), refusal(409, "item_voted"));
        assert_eq!(
            listed_on_tablet(&server, &seat_key, last).await?,
            [(2, second_sha.clone())],
            "nothing was stored"
        );
        // Another item still takes a document while this one is voted on.
        let attach_other =
            format!("{items}/0/documents?title=B%C3%A1o%20c%C3%A1o&kind=report&public=true");
        let other = http::post_bytes(addr, &attach_other, &auth, "application/pdf", &first).await?;
        assert_eq!(other.status, 200, "{}: {}", db.name, other.body);
        assert_eq!(
            listed_on_tablet(&server, &seat_key, 0).await?,
            [(1, first_sha)]
        );
        server.stop()?;
    }
    Ok(())
}

/// The meeting's editable form as `GET …/form` gives it.
async fn editable(addr: &str, meeting: &str, auth: &[(&str, &str)]) -> anyhow::Result<Value> {
    let (got, _) = http::get_with(
        addr,
        &format!("/api/secretariat/meetings/{meeting}/form"),
        auth,
    )
    .await?;
    assert_eq!(got.status, 200, "{}", got.body);
    Ok(serde_json::from_str(&got.body)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_meeting_is_amended_in_the_app_and_what_its_record_holds_stays_put()
-> anyhow::Result<()> {
    use gavel_records::chain::{Amender, Event};
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let bearer = secretariat(&server).await?;
        let auth = [("Authorization", bearer.as_str())];
        let meeting = example_meeting();
        let path = format!("/api/secretariat/meetings/{meeting}/form");
        let (seat_key, mut tablet) = server.enroll(Principal::Seat(1)).await?;

        // Before any round, the header, the roster and the agenda change,
        // and a tablet already connected is told to connect again.
        let before = editable(addr, meeting.as_str(), &auth).await?;
        let previous = before["previous"].as_str().unwrap().to_owned();
        let mut form: MeetingForm = serde_json::from_value(before["form"].clone())?;
        form.topics[0].items[1].title = "Báo cáo tình hình kinh tế – xã hội năm 2026".into();
        form.seats[1].name = "Nguyễn Văn Sửa".into();
        let mut added = form.topics[3].items[0].clone();
        added.title = "Thông qua Nghị quyết kỳ họp".into();
        added.documents.clear();
        form.topics[3].items.push(added);
        let saved = http::put_json(
            addr,
            &path,
            &auth,
            &json!({"previous": previous, "form": form}),
        )
        .await?;
        assert_eq!(saved.status, 200, "{}: {}", db.name, saved.body);
        let saved: Value = serde_json::from_str(&saved.body)?;
        assert_ne!(saved["previous"], previous.as_str());
        assert_eq!(
            serde_json::from_value::<MeetingForm>(saved["form"].clone())?,
            form
        );
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while tablet.next().await.is_ok() {}
        })
        .await;
        assert!(ended.is_ok(), "{}: the live session was ended", db.name);
        let again = server.login(&seat_key).await?;
        assert_eq!(again.meeting.agenda[1].title, form.topics[0].items[1].title);
        assert_eq!(again.meeting.seats[1].name, "Nguyễn Văn Sửa");
        let added_at = again.meeting.agenda.len() - 1;
        assert_eq!(
            again.meeting.agenda[added_at].title,
            "Thông qua Nghị quyết kỳ họp"
        );

        // An edit of the text read before it is refused: reload first.
        let stale = http::put_json(
            addr,
            &path,
            &auth,
            &json!({"previous": previous, "form": form}),
        )
        .await?;
        assert_eq!(refused(&stale), refusal(409, "meeting_changed"));
        let previous = saved["previous"].as_str().unwrap().to_owned();
        let put = |form: &MeetingForm| {
            let body = json!({"previous": previous, "form": form});
            let (path, auth) = (path.clone(), auth);
            async move { http::put_json(addr, &path, &auth, &body).await }
        };
        let field = |r: &Response| -> String {
            serde_json::from_str::<Value>(&r.body).unwrap()["field"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        // A form that does not pass, another id, or documents changed here
        // rather than by their uploads: refused with the field.
        let mut bad = form.clone();
        bad.topics[1].items[0].title = " ".into();
        let bad = put(&bad).await?;
        assert_eq!(refused(&bad), refusal(422, "invalid_definition"));
        assert_eq!(field(&bad), "topics[1].items[0].title");
        let mut other = form.clone();
        other.id = "phuc-loi-khac".into();
        let other = put(&other).await?;
        assert_eq!(refused(&other), refusal(422, "invalid_definition"));
        assert_eq!(field(&other), "id");
        let mut document = form.clone();
        document.topics[1].items[1]
            .documents
            .push(serde_json::from_value(json!({
                "title": "Phụ lục",
                "kind": "other",
                "file": format!("documents/{}.pdf", "0".repeat(64)),
                "public": true,
            }))?);
        let document = put(&document).await?;
        assert_eq!(refused(&document), refusal(422, "invalid_definition"));
        assert_eq!(field(&document), "topics[1].items[1].documents");

        // Once a round was held on an item it is locked, and the header's
        // count, quorum, labels and board are fixed; names may be corrected.
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        gavel_tests::chair::open_round(&mut chair, 2, 120).await?;
        let now = editable(addr, meeting.as_str(), &auth).await?;
        assert_eq!(now["started"], true);
        assert_eq!(now["locked"][0]["item"], 2);
        assert_eq!(now["locked"][0]["reason"], "item_voted");
        assert_eq!(now["previous"], previous.as_str());
        let mut voted = form.clone();
        voted.topics[1].items[0].title = "Một tiêu đề khác".into();
        let voted = put(&voted).await?;
        assert_eq!(refused(&voted), refusal(409, "item_voted"));
        assert_eq!(field(&voted), "topics[1].items[0]");
        let mut moved = form.clone();
        moved.topics[0].items.remove(0);
        let moved = put(&moved).await?;
        assert_eq!(refused(&moved), refusal(409, "item_voted"));
        let mut quorum = form.clone();
        quorum.quorum = serde_json::from_value(json!("more_than_half"))?;
        let quorum = put(&quorum).await?;
        assert_eq!(refused(&quorum), refusal(409, "meeting_started"));
        assert_eq!(field(&quorum), "quorum");
        assert_eq!(
            editable(addr, meeting.as_str(), &auth).await?["previous"],
            previous.as_str(),
            "nothing was stored"
        );
        let mut corrected = form.clone();
        corrected.seats[2].name = "Trần Thị Đúng".into();
        let corrected = put(&corrected).await?;
        assert_eq!(corrected.status, 200, "{}", corrected.body);
        let (view, _) = http::get_with(addr, &format!("/api/meetings/{meeting}/view"), &[]).await?;
        assert!(
            view.body.contains("Trần Thị Đúng"),
            "the hub serves the new view"
        );

        // The chain says who amended what; the record verifies, and the
        // minutes list the correction made after the session started.
        let store = server.store().await?;
        let amended: Vec<Vec<u32>> = store
            .audit_log(&meeting)
            .await?
            .into_iter()
            .filter_map(|e| match e.event {
                Event::MeetingAmended {
                    by: Amender::Secretariat { .. },
                    items,
                    ..
                } => Some(items),
                _ => None,
            })
            .collect();
        assert_eq!(amended, [vec![1, u32::try_from(added_at)?], vec![]]);
        let bundle = gavel_server::export::bundle(&store, &server.server_key, &meeting).await?;
        assert_eq!(
            gavel_records::verify::verify(&bundle),
            vec![],
            "{}",
            db.name
        );
        for (lang, words) in [
            (gavel_records::minutes::Lang::En, "The secretariat (device "),
            (gavel_records::minutes::Lang::Vi, "Văn phòng (thiết bị "),
        ] {
            let minutes = gavel_server::export::minutes_html(
                &store,
                &server.server_key,
                &meeting,
                lang,
                &gavel_server::export::MinutesOptions::default(),
            )
            .await?;
            assert!(
                minutes.contains(words),
                "the minutes list the amendment: {words}"
            );
        }
        server.stop()?;
    }
    Ok(())
}
