//! The node's event queue and its readiness descriptor.
//!
//! Level-triggered, as nng's `NNG_OPT_RECVFD`: the descriptor is readable exactly while events
//! wait. The queue holds one byte in a socket pair while it is not empty: the byte is written when
//! the queue goes from empty to one event and read back when it goes to empty again, both under
//! the queue's lock, so a caller that polls the descriptor and then takes events never misses a
//! wake-up (ZeroMQ's edge-triggered `ZMQ_FD` is the warning).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::NodeEvent;

/// Most events held for the application. When the queue is full the node stops taking envelopes
/// (it answers `BUSY`, and the sender keeps its envelope): an event is never dropped after its
/// message was committed.
pub const MAX_QUEUED_EVENTS: usize = 4096;

pub(super) struct EventQueue {
    events: Mutex<VecDeque<NodeEvent>>,
    arrived: Condvar,
    /// The end the node writes its one byte to.
    signal: UnixStream,
    /// The end the application polls.
    ready: UnixStream,
}

impl EventQueue {
    pub(super) fn new() -> std::io::Result<EventQueue> {
        let (signal, ready) = UnixStream::pair()?;
        signal.set_nonblocking(true)?;
        ready.set_nonblocking(true)?;
        Ok(EventQueue { events: Mutex::new(VecDeque::new()), arrived: Condvar::new(), signal, ready })
    }

    /// Whether another event fits.
    pub(super) fn has_room(&self) -> bool {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).len() < MAX_QUEUED_EVENTS
    }

    /// Queues an event (callers check `has_room` first; one that does not fit is still kept,
    /// since it stands for a committed message).
    pub(super) fn push(&self, event: NodeEvent) {
        let mut q = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if q.is_empty() {
            // A full socket buffer cannot happen: at most one byte is ever in it.
            let _ = (&self.signal).write(&[1]);
        }
        q.push_back(event);
        self.arrived.notify_one();
    }

    /// Takes the oldest event, waiting up to `timeout` for one.
    pub(super) fn pop(&self, timeout: Duration) -> Option<NodeEvent> {
        let deadline = Instant::now() + timeout;
        let mut q = self.events.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(ev) = q.pop_front() {
                if q.is_empty() {
                    let _ = (&self.ready).read(&mut [0u8; 8]);
                }
                return Some(ev);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            q = self.arrived.wait_timeout(q, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The descriptor readable while events wait.
    pub(super) fn fd(&self) -> RawFd {
        self.ready.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a read of the descriptor would find a byte (the byte is put back).
    fn readable(q: &EventQueue) -> bool {
        let mut b = [0u8; 1];
        match (&q.ready).read(&mut b) {
            Ok(n) => {
                assert_eq!(n, 1);
                (&q.signal).write_all(&b).unwrap();
                true
            }
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
                false
            }
        }
    }

    fn event() -> NodeEvent {
        NodeEvent::Refused { peer: "p".into(), error: crate::error::Error::AuthFailed }
    }

    #[test]
    fn the_descriptor_is_readable_exactly_while_events_wait() {
        let q = EventQueue::new().unwrap();
        assert!(!readable(&q));
        q.push(event());
        q.push(event());
        assert!(readable(&q));
        assert!(q.pop(Duration::ZERO).is_some());
        assert!(readable(&q), "one event still waits");
        assert!(q.pop(Duration::ZERO).is_some());
        assert!(!readable(&q));
        assert!(q.pop(Duration::from_millis(10)).is_none());
    }
}
