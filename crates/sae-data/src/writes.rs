//! Stopping a process between writes, never in one: a signal handler (Slurm's
//! SIGTERM at a time limit, Ctrl-C) calls [`stop_writes`], which waits for
//! the writes in flight to be renamed into place and holds back any new
//! one, so that the process exits leaving no temporary file or folder
//! (`.tmp-…`) behind. Every write of [`crate::write_atomic`] is one, and a
//! caller that writes a folder of several files marks it with [`writing`].

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Writes in flight, and whether new ones are held back.
struct State {
    in_flight: usize,
    stopping: bool,
}

static STATE: Mutex<State> = Mutex::new(State { in_flight: 0, stopping: false });
static ENDED: Condvar = Condvar::new();

thread_local! {
    /// How deep this thread is in writes (a folder's write holds its files').
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn state() -> MutexGuard<'static, State> {
    // A panic elsewhere while holding it leaves the counts whole.
    STATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A write in flight, until dropped.
#[derive(Debug)]
pub struct Writing(());

/// Marks a write as in flight until the returned guard is dropped. Once
/// [`stop_writes`] was called, a new write (not one inside a write this
/// thread has begun) waits for ever: the process is about to exit.
pub fn writing() -> Writing {
    if DEPTH.with(|d| d.get()) == 0 {
        let mut s = state();
        while s.stopping {
            s = ENDED.wait(s).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        s.in_flight += 1;
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    Writing(())
}

impl Drop for Writing {
    fn drop(&mut self) {
        let depth = DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get()
        });
        if depth == 0 {
            state().in_flight -= 1;
            ENDED.notify_all();
        }
    }
}

/// Holds back new writes and waits, at most `limit`, for those in flight
/// to end; returns whether they all did. Call it from the thread that is
/// about to exit the process (a write this thread is inside of cannot end
/// while it waits).
pub fn stop_writes(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut s = state();
    s.stopping = true;
    let mine = DEPTH.with(|d| d.get().min(1));
    while s.in_flight > mine {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s = ENDED.wait_timeout(s, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets writes go on again (the other tests of this binary write files).
    struct Resume;

    impl Drop for Resume {
        fn drop(&mut self) {
            state().stopping = false;
            ENDED.notify_all();
        }
    }

    #[test]
    fn a_stop_waits_for_the_write_in_flight_and_holds_back_new_ones() {
        let _resume = Resume;
        let started = std::sync::Barrier::new(2);
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                let _outer = writing();
                let _inner = writing(); // a folder's file: no deadlock with its own write
                started.wait();
                std::thread::sleep(Duration::from_millis(200));
                order.lock().unwrap().push("write ended");
            });
            started.wait();
            assert!(stop_writes(Duration::from_secs(10)));
            order.lock().unwrap().push("stopped");
            // A new write would now wait for ever: none is left in flight.
            assert_eq!(state().in_flight, 0);
        });
        assert_eq!(*order.lock().unwrap(), ["write ended", "stopped"]);
    }
}
