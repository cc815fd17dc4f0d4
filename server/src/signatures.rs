//! The signature pool: a fixed set of threads, one per core, for Ed25519.
//!
//! Every ballot's signature is checked here, and every receipt signed here,
//! rather than on tokio's blocking pool. Why: `spawn_blocking` per ballot
//! grows towards hundreds of threads under a burst, and every job pays a
//! thread hand-off and a wake-up; on a machine of two cores those threads
//! fight with the async workers that move frames. A fixed pool takes jobs
//! from one queue: a burst waits in the queue instead of oversubscribing the
//! cores, and a thread that finds more work queued takes it without parking.
//! The queue is a multi-consumer channel on which every idle thread waits,
//! so a job wakes one thread. (A receiver shared behind a mutex woke two:
//! the thread holding the lock in `recv`, and, once it let go, the next
//! one, only for it to wait again.)
//!
//! - [`Signatures::run`]: a job whose answer a task awaits (a ballot's check).
//! - [`Signatures::spawn`]: a job nobody awaits; it reports by itself (the
//!   writer's receipts, signed while the next batch commits).

use crossbeam_channel::SendError;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The pool has stopped: the server is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature pool has stopped")]
pub struct Stopped;

/// A handle to the pool; its threads stop once every handle is dropped.
pub struct Signatures {
    jobs: crossbeam_channel::Sender<Job>,
}

impl Signatures {
    /// A pool of one thread per core.
    pub fn per_core() -> Signatures {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Signatures::start(cores)
    }

    /// A pool of `threads` threads (at least one).
    pub fn start(threads: usize) -> Signatures {
        let threads = threads.max(1);
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("gavel-signatures-{i}"))
                .spawn(move || {
                    for job in queue {
                        job();
                    }
                })
                .expect("starting a signature thread");
        }
        Signatures { jobs }
    }

    /// Runs `job` on the pool and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Stopped> {
        let (answer, answered) = oneshot::channel();
        self.spawn(move || {
            let _ = answer.send(job());
        });
        answered.await.map_err(|_| Stopped)
    }

    /// Runs `job` on the pool without waiting for it. Should every thread
    /// have stopped (only a panicking job stops one), the job runs here
    /// instead: a receipt is never left unsigned.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        if let Err(SendError(job)) = self.jobs.send(Box::new(job)) {
            job();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use std::collections::HashSet;

    #[tokio::test]
    async fn checks_signatures_on_its_own_threads() {
        let pool = Signatures::start(2);
        let key = SigningKey::from_bytes(&[7; 32]);
        let signature = key.sign(b"ballot");
        let public = key.verifying_key();
        let good = pool
            .run(move || public.verify_strict(b"ballot", &signature).is_ok())
            .await;
        assert_eq!(good, Ok(true));
        let bad = pool
            .run(move || public.verify_strict(b"other", &signature).is_ok())
            .await;
        assert_eq!(bad, Ok(false));
        let names = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(names.is_some_and(|n| n.starts_with("gavel-signatures-")));
    }

    #[tokio::test]
    async fn spreads_queued_jobs_over_every_thread() {
        let pool = Signatures::start(2);
        let (seen, mut threads) = tokio::sync::mpsc::unbounded_channel();
        // Each job waits until both threads hold one, so a single thread
        // taking every job would never let them finish.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        for _ in 0..2 {
            let (seen, barrier) = (seen.clone(), barrier.clone());
            pool.spawn(move || {
                barrier.wait();
                let _ = seen.send(std::thread::current().id());
            });
        }
        drop(seen);
        let mut ids = HashSet::new();
        while let Some(id) = threads.recv().await {
            ids.insert(id);
        }
        assert_eq!(ids.len(), 2);
    }
}
