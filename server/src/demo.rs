//! `gavel demo`: a whole session on one machine with no setup. The example
//! ward council meeting on the embedded SQLite store, one simulated tablet per
//! seat (real clients, real keys, real signatures; the counting board's
//! members confirm each secret count) and, unless a person wants the chair, a
//! simulated chair that walks through the agenda.

use crate::config::Settings;
use crate::meeting::{EXAMPLE, MeetingDefinition};
use crate::store::{Store, StoreError};
use crate::{app, enrollment};
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_client::sim::{SimulatedChair, SimulatedDelegate};
use gavel_protocol::{Principal, PublicKey};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct DemoOptions {
    /// How many seats get a simulated tablet (default: all of them).
    pub tablets: Option<u32>,
    /// Leave the chair to a person (the chair's enrollment code is printed).
    pub manual_chair: bool,
    /// The voting window the simulated chair opens with.
    pub window_seconds: u32,
}

pub async fn run(
    settings: Settings,
    options: DemoOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (_lock, server_options) = settings.serving()?;
    let store = Store::connect(&settings.database_url)
        .await
        .context("opening the demo store")?;
    let definition = MeetingDefinition::parse(EXAMPLE).context("the example meeting")?;
    let meeting = definition.id.clone();
    if !store.rounds(&meeting).await?.is_empty() {
        println!(
            "Continuing the demo meeting stored in {}.",
            settings.data_dir.display()
        );
    }
    let simulated = options
        .tablets
        .unwrap_or(definition.total_seats)
        .min(definition.total_seats);
    let delegates: Vec<(u32, SigningKey)> = (1..=simulated)
        .map(|seat| (seat, SigningKey::generate(&mut rand::rngs::OsRng)))
        .collect();
    let chair_key = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut keys: Vec<(Principal, PublicKey)> = delegates
        .iter()
        .map(|(seat, key)| (Principal::Seat(*seat), PublicKey::of(key)))
        .collect();
    if !options.manual_chair {
        keys.push((Principal::Chair, PublicKey::of(&chair_key)));
    }
    match store.import_meeting(&meeting, EXAMPLE, &keys, &[]).await {
        Err(StoreError::MeetingHasRounds(_)) => anyhow::bail!(
            "the demo store in {} holds rounds or requests for the floor of another version of the example meeting; \
             remove it to start afresh",
            settings.data_dir.display()
        ),
        imported => imported.context("importing the example meeting")?,
    }
    let mut principals = vec![Principal::Chair];
    principals.extend((simulated + 1..=definition.total_seats).map(Principal::Seat));
    let codes = enrollment::issue(&store, &meeting, &principals, 24).await?;

    let listener = app::listen(settings.listen)
        .with_context(|| format!("listening on {}", settings.listen))?;
    let port = listener.local_addr()?.port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let server = tokio::spawn(app::run(
        listener,
        store,
        settings.server_key()?,
        server_options,
        shutdown.clone(),
    ));

    for (seat, key) in delegates {
        let delegate = SimulatedDelegate {
            url: url.clone(),
            meeting: meeting.clone(),
            key,
            seed: u64::from(seat),
        };
        tokio::spawn(delegate.run(shutdown.clone()));
    }
    if !options.manual_chair {
        let chair = SimulatedChair {
            url: url.clone(),
            meeting: meeting.clone(),
            key: chair_key,
            window_seconds: options.window_seconds,
            pause: Duration::from_secs(5),
        };
        tokio::spawn(chair.run(shutdown.clone()));
    }

    let web = format!("http://127.0.0.1:{port}");
    let screen = format!("{web}/screen/?meeting={meeting}");
    println!();
    println!("Gavel demo: {} — {}", definition.body, definition.title);
    println!("  server:       {url}");
    println!("  hall screen:  {screen}");
    println!("  store:        {}", settings.database_url);
    println!(
        "  tablets:      {simulated} of {} seats simulated",
        definition.total_seats
    );
    println!("  follow it:    gavel-tablet watch --server {url} --meeting {meeting}");
    for (principal, code) in &codes {
        match principal {
            Principal::Chair if options.manual_chair => {
                println!("  chair:        {web}/chair/?code={code}");
            }
            Principal::Chair => {}
            Principal::Seat(seat) => println!("  seat {seat:>3}:     {web}/tablet/?code={code}"),
        }
    }
    if !options.manual_chair {
        println!("  the chair is simulated; run with --manual-chair to take it yourself");
    }
    let unsimulated: Vec<String> = definition
        .counting_board
        .iter()
        .filter(|&&seat| seat > simulated)
        .map(u32::to_string)
        .collect();
    if !unsimulated.is_empty() {
        println!(
            "  the counting board confirms each secret result before it is announced; \
             seats {} of the board are not simulated: confirm from their tablets",
            unsimulated.join(", ")
        );
    }
    if simulated == definition.total_seats {
        println!(
            "  every seat is simulated; run with --tablets 37 to vote on seats 38-40 yourself"
        );
    }
    println!("Press Ctrl-C to stop.");
    open_in_browser(&screen);
    server.await.context("server task")?
}

/// Opens the hall screen where a desktop session can show it; elsewhere the
/// printed address is enough.
fn open_in_browser(url: &str) {
    let desktop =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if desktop {
        let _ = std::process::Command::new("xdg-open")
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}
