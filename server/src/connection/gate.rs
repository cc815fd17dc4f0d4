//! The gate that keeps a broadcast from waking a connection's client side.
//!
//! Every broadcast wakes every connection of a meeting, so that wake-up
//! writes the frame and looks at nothing else; the client's side (its
//! frames, the answers to its requests, pings, silence, shutdown) is polled
//! with the gate's own waker, and only after one of those woke the task.

use futures_util::task::AtomicWaker;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// Sources of wake-ups that are looked at only after one of them has woken
/// the task: they are polled with a waker of the gate's own, which marks
/// the gate before it wakes the task.
pub(super) struct Gate {
    flag: Arc<GateFlag>,
    waker: Waker,
}

struct GateFlag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for GateFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl Gate {
    pub(super) fn new() -> Gate {
        // Open at first: the sources have not been polled yet.
        let flag = Arc::new(GateFlag {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        Gate {
            waker: Waker::from(flag.clone()),
            flag,
        }
    }

    /// Runs `poll` with the gate's waker if a source woke the task since
    /// `poll` last returned `Pending`; after `Ready` it runs again next time,
    /// as more may be ready.
    pub(super) fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.flag.task.register(cx.waker());
        if !self.flag.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let ready = poll(&mut Context::from_waker(&self.waker));
        if ready.is_ready() {
            self.flag.woken.store(true, Ordering::Release);
        }
        ready
    }
}
