//! The meeting view served over HTTP instead of in every `welcome`, and
//! snapshots that carry a count of present seats rather than the list: a
//! real server on each store, real tablets over real WebSockets.
//!
//! - `welcome` names the view by a hash, and the served bytes have that
//!   hash; the ETag revalidates (304) and an unknown meeting is a 404;
//! - a delegate's and a watcher's snapshots say how many seats are present,
//!   the chair's also which; the hall screen gets the list while a named
//!   round shows individual choices, for its seat map.

use ed25519_dalek::SigningKey;
use gavel_client::{Client, Session};
use gavel_protocol::messages::{ChairCommand, MeetingView, Snapshot, view_hash};
use gavel_protocol::{PROTOCOL_VERSION, Principal, ServerMsg};
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::http;
use gavel_tests::server::{TestServer, example_meeting};

fn snapshot(session: &Session) -> &Snapshot {
    session.state.snapshot.as_ref().expect("a snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_names_the_view_the_server_serves() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let addr = http::address_of(&server.url);
        let meeting = example_meeting();

        let mut client = Client::connect(&server.url).await?;
        let watch = format!(r#"{{"type":"watch","v":{PROTOCOL_VERSION},"meeting":"{meeting}"}}"#);
        let ServerMsg::Welcome {
            meeting: welcomed,
            principal: None,
            view_hash: hash,
        } = client.send_text(&watch).await?
        else {
            anyhow::bail!("{}: a watcher is not welcomed as one", db.name);
        };
        assert_eq!(welcomed, meeting);

        let path = format!("/api/meetings/{meeting}/view");
        let (view, headers) = http::get_with(addr, &path, &[]).await?;
        assert_eq!(view.status, 200, "{}", db.name);
        assert_eq!(view_hash(view.body.as_bytes()), hash, "{}", db.name);
        let etag = format!("\"{hash}\"");
        assert_eq!(headers.get("etag"), Some(etag.as_str()));
        assert_eq!(headers.get("cache-control"), Some("no-cache"));
        let served: MeetingView = serde_json::from_str(&view.body)?;
        assert_eq!(served, MeetingDefinition::parse(EXAMPLE)?.view(&[]));

        // A client holding the view revalidates it; one holding another gets it.
        let (unchanged, _) = http::get_with(addr, &path, &[("If-None-Match", &etag)]).await?;
        assert_eq!((unchanged.status, unchanged.body.as_str()), (304, ""));
        let (other, _) = http::get_with(addr, &path, &[("If-None-Match", "\"0123\"")]).await?;
        assert_eq!((other.status, other.body), (200, view.body.clone()));

        let (unknown, _) = http::get_with(addr, "/api/meetings/no-such-meeting/view", &[]).await?;
        assert_eq!(unknown.status, 404, "{}", db.name);

        // The tablet client fetches and checks the same view.
        let (_, delegate) = server.enroll(Principal::Seat(1)).await?;
        assert_eq!(*delegate.meeting, served);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_chair_is_sent_which_seats_are_present() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut first) = server.enroll(Principal::Seat(1)).await?;
        let (_, mut third) = server.enroll(Principal::Seat(3)).await?;
        let mut watcher = Client::connect(&server.url)
            .await?
            .watch(&example_meeting())
            .await?;
        first.check_in().await?;
        third.check_in().await?;

        for session in [&mut chair, &mut first, &mut watcher] {
            session.sync().await?;
        }
        let seen = snapshot(&chair);
        assert_eq!(
            (seen.present, seen.present_seats.clone()),
            (2, Some(vec![1, 3])),
            "{}",
            db.name
        );
        for public in [&first, &watcher] {
            let seen = snapshot(public);
            assert_eq!(
                (seen.present, seen.present_seats.clone()),
                (2, None),
                "{}",
                db.name
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_sees_who_is_present_while_individual_choices_are_shown() -> anyhow::Result<()> {
    for db in databases().await {
        // The example meeting, with every vote showing each seat's choice.
        let individual = EXAMPLE.replacen(r#"interim = "totals""#, r#"interim = "individual""#, 1);
        anyhow::ensure!(
            individual != EXAMPLE,
            "the example's default interim setting moved"
        );
        let store = Store::connect(&db.url).await?;
        store
            .import_meeting(&example_meeting(), &individual, &[], &[])
            .await?;
        let server = TestServer::start(&db.url, SigningKey::generate(&mut rand::rngs::OsRng));
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let (_, mut delegate) = server.enroll(Principal::Seat(2)).await?;
        let mut screen = Client::connect(&server.url)
            .await?
            .watch(&example_meeting())
            .await?;
        delegate.check_in().await?;
        let item = chair
            .meeting
            .agenda
            .iter()
            .find(|i| i.vote.is_some())
            .expect("a voted item")
            .index;
        chair.chair(ChairCommand::SetItem { item }).await?;
        chair
            .chair(ChairCommand::Open {
                window_seconds: None,
            })
            .await?;
        screen.wait_until(|s| s.open_round().is_some()).await?;
        screen.sync().await?;
        assert_eq!(
            snapshot(&screen).present_seats,
            Some(vec![2]),
            "{}",
            db.name
        );

        chair.chair(ChairCommand::Close).await?;
        screen.wait_until(|s| s.open_round().is_none()).await?;
        screen.sync().await?;
        assert_eq!(snapshot(&screen).present_seats, None, "{}", db.name);
    }
    Ok(())
}
