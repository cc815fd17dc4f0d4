//! Broadcast pacing: how what the actor says reaches a meeting's listeners.
//!
//! Frames leave on three broadcast channels, one per [`Audience`], each
//! serialized once and shared by every listener. Tally changes are
//! coalesced into one frame per [`TICK`], or per [`BUSY_TICK`] while ballots
//! pour in, no more often than a channel's listeners can take
//! ([`TALLY_FRAMES_PER_SECOND`]), and the next tally waits until the last one
//! has reached every listener ([`Delivery`]). Delegates' tablets get no
//! running tally while ballots pour in: their acknowledgements come first.
//!
//! [`Pacing`] decides *when* and to *whom*; the actor decides *what* (it
//! builds each audience's frame), so a change to the pace cannot change
//! what is admitted, counted or shown.

use super::Frame;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// Frames a listener may fall behind before it is sent a fresh snapshot instead.
const BROADCAST_BACKLOG: usize = 256;
/// How long tally changes are gathered into one frame.
pub const TICK: Duration = Duration::from_millis(25);
/// How long they are gathered while ballots are committed at [`BUSY_RATE`]
/// or more. A tally frame goes to every listener: at 2,000 tablets a 25 ms
/// tick is 80,000 frames a second, several times the ballots being
/// acknowledged, and that is CPU taken from checking and committing them.
/// At such a rate the count moves by dozens between two 25 ms frames, faster
/// than anyone reads it; four updates a second still move the hall screen
/// with the vote.
pub const BUSY_TICK: Duration = Duration::from_millis(250);
/// The tally frames a second one channel is sent at most: a channel's
/// tallies are at least `listeners / TALLY_FRAMES_PER_SECOND` apart. Two
/// cores write about 100,000 frames a second (one tally to 10,000 tablets
/// takes ~100 ms); sent back to back, tallies to a large hall took all of
/// that, and one update reached the last of 10,000 tablets after 160 ms at
/// p99 where, at this budget, it takes 95 ms (docs/bench/findings.md). Up to
/// 1,000 listeners this is [`TICK`]; at 10,000, four tallies a second.
pub const TALLY_FRAMES_PER_SECOND: u32 = 40_000;
/// The longest a tally waits for the last one to reach every listener
/// ([`Delivery`]): a tablet that vanished mid-way holds the others back no longer.
const DELIVERY_WAIT: Duration = BUSY_TICK;
/// How often a waiting tally looks again whether the last one got through.
const DELIVERY_POLL: Duration = Duration::from_millis(2);
/// Ballots committed per second from which [`BUSY_TICK`] applies.
pub const BUSY_RATE: f64 = 1000.0;
/// Who a frame is cut for. Delegates, the hall screen and the public see what
/// the round's interim setting allows; the chair also sees who has voted.
/// Delegates' tablets have a channel of their own because they are the
/// many: while ballots pour in they get no running tally, so that every
/// tablet's acknowledgement goes out at once instead of behind a frame to
/// every other tablet. The hall screen shows the count meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The hall screen, public viewers: connections without a login.
    Public = 0,
    /// Delegates' tablets: the public's view, with their own pace.
    Delegates = 1,
    Chair = 2,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Public, Audience::Delegates, Audience::Chair];
    /// The hall screen and the chair's console, which get each tally together.
    const HALL: [Audience; 2] = [Audience::Public, Audience::Chair];
}

/// What a broadcast frame is: the relays keep the latest of each kind
/// ([`super::relay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Snapshot,
    Floor,
    Tally,
}

/// A frame broadcast to a meeting's listeners, stamped when it was sent, so
/// that each connection can tell how long it took to reach its socket
/// ([`crate::metrics`]).
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub frame: Frame,
    pub sent_at: std::time::Instant,
    pub kind: Kind,
    /// The version the frame carries.
    pub version: u64,
}

impl Broadcast {
    pub fn new(kind: Kind, version: u64, frame: Frame) -> Broadcast {
        Broadcast {
            frame,
            sent_at: std::time::Instant::now(),
            kind,
            version,
        }
    }

    /// The version of a running tally. Any later broadcast makes a tally
    /// stale (a later tally, or a snapshot, which carries the running tally
    /// too), so a connection that finds one queued behind it sends the newer
    /// one instead.
    pub fn tally(&self) -> Option<u64> {
        (self.kind == Kind::Tally).then_some(self.version)
    }
}

/// How far the latest running tally has got through one channel's
/// listeners. The actor sends the next tally only once every listener has
/// written (or skipped) the last one, or a while after it: two cores take
/// about 100 ms to write one frame to 10,000 tablets, and a tally sent sooner
/// would only queue behind the one still going out, delaying both. Counts,
/// not locks: a listener that left mid-way is waited for only that while.
#[derive(Debug, Default)]
pub struct Delivery {
    version: AtomicU64,
    left: AtomicUsize,
}

impl Delivery {
    /// The actor is about to send tally `version` to `listeners` listeners.
    pub fn sending(&self, version: u64, listeners: usize) {
        self.left.store(listeners, Ordering::Release);
        self.version.store(version, Ordering::Release);
    }

    /// A listener has written or skipped tally `version`.
    pub fn handled(&self, version: u64) {
        if self.version.load(Ordering::Acquire) == version {
            let _ = self
                .left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                    left.checked_sub(1)
                });
        }
    }

    /// A snapshot went out as `version`. It carries the running tally, so
    /// every older tally is stale and none is left to wait for.
    pub fn replaced(&self, version: u64) {
        self.sending(version, 0);
    }

    /// Whether a tally or snapshot newer than `version` has been sent: a
    /// listener still holding tally `version` has a fresher one queued
    /// behind it.
    pub fn superseded(&self, version: u64) -> bool {
        self.version.load(Ordering::Acquire) > version
    }

    /// Whether every listener has handled the latest tally.
    pub fn complete(&self) -> bool {
        self.left.load(Ordering::Acquire) == 0
    }
}

/// One audience's broadcast channel, and how far its latest tally has got.
/// A relay keeps one per meeting it serves ([`super::relay`]).
pub(super) struct Channel {
    sender: broadcast::Sender<Broadcast>,
    delivery: Arc<Delivery>,
    /// The running tally changed since this channel's last tally or snapshot.
    owed: bool,
    /// When this channel's last tally went out.
    sent_at: Instant,
}

impl Channel {
    pub(super) fn new() -> Channel {
        Channel {
            sender: broadcast::channel(BROADCAST_BACKLOG).0,
            delivery: Arc::default(),
            owed: false,
            sent_at: Instant::now(),
        }
    }

    /// When this channel may be sent the next tally: [`spacing`] after its
    /// last one, and once every listener has handled that one, or
    /// [`DELIVERY_WAIT`] after it. While listeners are still writing it,
    /// the answer is a moment from `now`, to look again.
    pub(super) fn tally_due(&self, now: Instant, tick: Duration) -> Instant {
        let spaced = self.sent_at + spacing(tick, self.sender.receiver_count());
        if self.delivery.complete() {
            spaced
        } else {
            spaced.max((now + DELIVERY_POLL).min(self.sent_at + DELIVERY_WAIT))
        }
    }

    /// A new listener, and where it reports each tally it has written or skipped.
    pub(super) fn subscribe(&self) -> (broadcast::Receiver<Broadcast>, Arc<Delivery>) {
        (self.sender.subscribe(), self.delivery.clone())
    }

    /// Sends the snapshot `frame`, of `version`.
    pub(super) fn send_snapshot(&mut self, version: u64, frame: Frame) {
        // Before it is sent: a listener that then finds a tally ahead of
        // it in its queue skips the stale tally.
        self.delivery.replaced(version);
        let _ = self
            .sender
            .send(Broadcast::new(Kind::Snapshot, version, frame));
    }

    /// Sends the floor `frame`, of `version`.
    pub(super) fn send_floor(&mut self, version: u64, frame: Frame) {
        let _ = self
            .sender
            .send(Broadcast::new(Kind::Floor, version, frame));
    }

    /// Sends the running tally `frame`, of `version`, at `now`.
    pub(super) fn send_tally(&mut self, version: u64, frame: Frame, now: Instant) {
        // Counted before it is sent: a listener may handle it at once.
        self.delivery.sending(version, self.sender.receiver_count());
        let _ = self
            .sender
            .send(Broadcast::new(Kind::Tally, version, frame));
        self.sent_at = now;
    }
}

/// The pace of one meeting's broadcasts: its channels, what each is owed,
/// and how fast ballots are being committed.
pub(super) struct Pacing {
    /// One per [`Audience`], in the order of [`Audience::ALL`].
    channels: [Channel; 3],
    /// When gathered changes are next broadcast, if any are waiting.
    flush_at: Option<Instant>,
    /// A snapshot is owed: the meeting's structure or attendance changed.
    snapshot_owed: bool,
    /// Whether ballots pour in (at [`BUSY_RATE`] or more), as last measured.
    busy: bool,
    /// Ballots committed since `rate_since`: the rate that sets `busy`.
    committed_since: usize,
    rate_since: Instant,
}

impl Pacing {
    pub(super) fn new() -> Pacing {
        Pacing {
            channels: Audience::ALL.map(|_| Channel::new()),
            flush_at: None,
            snapshot_owed: false,
            busy: false,
            committed_since: 0,
            rate_since: Instant::now(),
        }
    }

    /// A new listener of `audience`'s channel, and where it reports each
    /// tally it has written or skipped.
    pub(super) fn subscribe(
        &self,
        audience: Audience,
    ) -> (broadcast::Receiver<Broadcast>, Arc<Delivery>) {
        self.channels[audience as usize].subscribe()
    }

    /// When gathered changes are due to go out, if any are waiting.
    pub(super) fn flush_at(&self) -> Option<Instant> {
        self.flush_at
    }

    /// `ballots` more were committed: they count towards the rate.
    pub(super) fn committed(&mut self, ballots: usize) {
        self.committed_since += ballots;
    }

    /// Attendance changed: a snapshot goes out within a tick.
    pub(super) fn owe_snapshot(&mut self) {
        self.snapshot_owed = true;
        self.flush_by(Instant::now() + TICK);
    }

    /// The running tally changed: every channel is owed it, within a tick.
    pub(super) fn owe_tally(&mut self) {
        for channel in &mut self.channels {
            channel.owed = true;
        }
        self.flush_by(Instant::now() + tick(self.busy));
    }

    /// Makes sure gathered changes go out by `at`.
    fn flush_by(&mut self, at: Instant) {
        self.flush_at = Some(self.flush_at.map_or(at, |pending| pending.min(at)));
    }

    /// What is due now that the flush time has come: a snapshot (the caller
    /// sends one with [`Pacing::send_snapshot`]), or the audiences whose turn
    /// it is for the running tally (none while no round is open, `tallying`
    /// false). Audiences still owed a tally are looked at again later.
    pub(super) fn due(&mut self, tallying: bool) -> Due {
        if self.snapshot_owed {
            return Due::Snapshot;
        }
        self.flush_at = None;
        // A round that ends broadcasts its snapshot, which settles what
        // was owed.
        if !tallying {
            return Due::Tally(Vec::new());
        }
        let now = Instant::now();
        self.measure_rate(now);
        let (audiences, later) = tally_turns(&self.channels, self.busy, now);
        if let Some(later) = later {
            self.flush_by(later);
        }
        Due::Tally(audiences)
    }

    /// Measures how fast ballots are committed, over spans of at least a
    /// tick: while busy, a quarter second with fewer than [`BUSY_RATE`]
    /// ends it.
    fn measure_rate(&mut self, now: Instant) {
        let span = now - self.rate_since;
        if span >= tick(self.busy) {
            self.busy = pouring_in(self.committed_since, span);
            self.committed_since = 0;
            self.rate_since = now;
        }
    }

    /// Sends `audience` the snapshot `frame`, of `version`. Once every
    /// audience has had its own, [`Pacing::snapshot_sent`].
    pub(super) fn send_snapshot(&mut self, audience: Audience, version: u64, frame: Frame) {
        let channel = &mut self.channels[audience as usize];
        channel.owed = false;
        channel.send_snapshot(version, frame);
    }

    /// Sends `audience` a frame of the floor, of `version`. It carries no
    /// tally, so the running tally is still owed, and no listener skips it.
    pub(super) fn send_floor(&mut self, audience: Audience, version: u64, frame: Frame) {
        self.channels[audience as usize].send_floor(version, frame);
    }

    /// Every audience has its snapshot: nothing is owed.
    pub(super) fn snapshot_sent(&mut self) {
        self.snapshot_owed = false;
        self.flush_at = None;
    }

    /// Sends `audience` the running tally `frame`, of `version`, at `now`
    /// (one instant for every audience of the version, so that the hall
    /// screen's and the chair's channels keep one pace).
    pub(super) fn send_tally(
        &mut self,
        audience: Audience,
        version: u64,
        frame: Frame,
        now: Instant,
    ) {
        let channel = &mut self.channels[audience as usize];
        channel.owed = false;
        channel.send_tally(version, frame, now);
    }
}

/// What a flush has to send.
pub(super) enum Due {
    Snapshot,
    /// The running tally, to these audiences (perhaps none).
    Tally(Vec<Audience>),
}

/// The audiences (of `channels`, one per [`Audience`]) whose turn it is for
/// the running tally at `now`, and when to look again for those still owed
/// one. The hall screen and the chair's console go together; delegates'
/// tablets at their own pace, and not at all while ballots pour in (`busy`).
fn tally_turns(
    channels: &[Channel; 3],
    busy: bool,
    now: Instant,
) -> (Vec<Audience>, Option<Instant>) {
    let tick = tick(busy);
    let channel = |audience: Audience| &channels[audience as usize];
    let hall_due = Audience::HALL.iter().any(|&a| channel(a).owed).then(|| {
        Audience::HALL
            .iter()
            .map(|&a| channel(a).tally_due(now, tick))
            .max()
            .expect("two audiences")
    });
    let delegates = channel(Audience::Delegates);
    let delegates_due = delegates.owed.then(|| {
        if busy {
            now + tick
        } else {
            delegates.tally_due(now, tick)
        }
    });
    let mut audiences = Vec::with_capacity(Audience::ALL.len());
    if hall_due.is_some_and(|due| due <= now) {
        audiences.extend(Audience::HALL);
    }
    if delegates_due.is_some_and(|due| due <= now) {
        audiences.push(Audience::Delegates);
    }
    let later = [hall_due, delegates_due]
        .into_iter()
        .flatten()
        .filter(|&due| due > now)
        .min();
    (audiences, later)
}

/// The shortest time between two tallies to a channel with `listeners`
/// listeners: the tick, or longer for a hall so large that tallies at the
/// tick would exceed [`TALLY_FRAMES_PER_SECOND`].
fn spacing(tick: Duration, listeners: usize) -> Duration {
    tick.max(Duration::from_secs_f64(
        listeners as f64 / f64::from(TALLY_FRAMES_PER_SECOND),
    ))
}

/// How long tally changes are gathered, given whether ballots pour in.
fn tick(busy: bool) -> Duration {
    if busy { BUSY_TICK } else { TICK }
}

/// Whether `committed` ballots over `span` are ballots pouring in.
fn pouring_in(committed: usize, span: Duration) -> bool {
    committed as f64 / span.as_secs_f64().max(f64::EPSILON) >= BUSY_RATE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_pour_in_from_a_thousand_a_second() {
        // A hall trickling in (the fan-out benchmark's 200/s, a quiet vote).
        assert!(!pouring_in(5, TICK));
        assert!(!pouring_in(1, Duration::from_secs(30)));
        assert!(!pouring_in(0, Duration::ZERO));
        // 250 ballots in 25 ms: 10,000 a second.
        assert!(pouring_in(250, TICK));
        // Still busy over the longer tick, and quiet again once it slows.
        assert!(pouring_in(300, BUSY_TICK));
        assert!(!pouring_in(200, BUSY_TICK));
    }

    /// The three channels, `delegates` tablets listening to theirs and one
    /// hall screen and one chair's console to theirs, each owed a tally
    /// and last sent one `ago`.
    fn halls(delegates: usize, now: Instant, ago: Duration) -> ([Channel; 3], Vec<Receiver>) {
        let mut channels = Audience::ALL.map(|_| Channel::new());
        let mut listeners = Vec::new();
        for audience in Audience::ALL {
            let channel = &mut channels[audience as usize];
            let count = if audience == Audience::Delegates {
                delegates
            } else {
                1
            };
            listeners.extend((0..count).map(|_| channel.sender.subscribe()));
            channel.owed = true;
            channel.sent_at = now - ago;
        }
        (channels, listeners)
    }

    type Receiver = broadcast::Receiver<Broadcast>;

    /// A tally for everyone: the hall's two audiences, then the tablets.
    const EVERYONE: [Audience; 3] = [Audience::Public, Audience::Chair, Audience::Delegates];

    #[test]
    fn while_ballots_pour_in_the_tablets_wait_and_the_hall_screen_moves() {
        let now = Instant::now();
        let (channels, _listeners) = halls(2_000, now, Duration::from_secs(1));
        let (audiences, later) = tally_turns(&channels, true, now);
        assert_eq!(audiences, Audience::HALL);
        // Looked at again a tick later, to see whether the rush is over.
        assert_eq!(later, Some(now + BUSY_TICK));
        // Over: everyone gets it, and there is nothing to look at again.
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, EVERYONE);
        assert_eq!(later, None);
    }

    #[test]
    fn tablets_wait_for_their_spacing() {
        let now = Instant::now();
        let (channels, _listeners) = halls(10_000, now, Duration::from_millis(100));
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, Audience::HALL);
        // 250 ms after the last tally to 10,000 tablets.
        assert_eq!(later, Some(now + Duration::from_millis(150)));
        let (audiences, _) = tally_turns(&channels, false, now + Duration::from_millis(150));
        assert_eq!(audiences, EVERYONE);
    }

    #[test]
    fn tablets_wait_for_the_last_tally_to_reach_them_all_for_a_while() {
        let now = Instant::now();
        let (mut channels, _listeners) = halls(2_000, now, Duration::from_millis(100));
        // Spaced enough (50 ms at 2,000), but 3 tablets are still writing
        // the last tally: looked at again shortly.
        let delegates = &mut channels[Audience::Delegates as usize];
        delegates.delivery.sending(7, 3);
        let (audiences, later) = tally_turns(&channels, false, now);
        assert_eq!(audiences, Audience::HALL);
        assert_eq!(later, Some(now + DELIVERY_POLL));
        // Once they have, or once the last tally is DELIVERY_WAIT old.
        let (audiences, _) = tally_turns(&channels, false, now + Duration::from_millis(150));
        assert_eq!(audiences, EVERYONE);
        for _ in 0..3 {
            channels[Audience::Delegates as usize].delivery.handled(7);
        }
        let (audiences, _) = tally_turns(&channels, false, now);
        assert_eq!(audiences, EVERYONE);
    }

    #[test]
    fn a_large_hall_gets_tallies_no_faster_than_it_can_take_them() {
        assert_eq!(spacing(TICK, 0), TICK);
        assert_eq!(spacing(TICK, 1_000), TICK);
        assert_eq!(spacing(TICK, 2_000), Duration::from_millis(50));
        assert_eq!(spacing(TICK, 10_000), Duration::from_millis(250));
        assert_eq!(spacing(BUSY_TICK, 2_000), BUSY_TICK);
    }

    #[test]
    fn a_tally_is_delivered_once_every_listener_has_handled_it() {
        let delivery = Delivery::default();
        assert!(delivery.complete(), "nothing sent yet");
        delivery.sending(7, 3);
        delivery.handled(7);
        delivery.handled(7);
        assert!(!delivery.complete());
        // A listener still on an older tally does not count for this one.
        delivery.handled(6);
        assert!(!delivery.complete());
        delivery.handled(7);
        assert!(delivery.complete());
        // One too many (a listener that raced a newer tally) cannot wrap.
        delivery.handled(7);
        assert!(delivery.complete());
        delivery.sending(8, 1);
        assert!(!delivery.complete());
    }

    #[test]
    fn a_tally_is_stale_once_a_newer_one_is_sent() {
        let delivery = Delivery::default();
        delivery.sending(7, 2);
        assert!(!delivery.superseded(7), "the newest tally is never skipped");
        assert!(delivery.superseded(6));
        delivery.sending(9, 2);
        assert!(delivery.superseded(7));
        assert!(!delivery.superseded(9));
        // A snapshot (the round's result, say) makes tally 9 stale too, and
        // leaves no tally in flight to hold the next one back.
        delivery.replaced(10);
        assert!(delivery.superseded(9));
        assert!(delivery.complete());
    }
}
