//! How many connections may stay open: in all on one edge, and per device.
//!
//! The per-device count is kept for the whole process, not per listener: a
//! machine that opens two connections on the plain port and three on the
//! TLS port holds five, and device ids are UUIDs, so several suites in one
//! test process never share a count. Each count is held by a guard that
//! gives its place back when dropped, however the connection ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// Connections open on one edge, logged in or not.
#[derive(Debug, Default)]
pub struct Total {
    open: AtomicUsize,
}

/// One place among an edge's connections; given back on drop.
#[derive(Debug)]
pub struct TotalSlot(Arc<Total>);

impl Total {
    /// A place for one more connection, if fewer than `max` are open.
    pub fn take(total: &Arc<Total>, max: usize) -> Option<TotalSlot> {
        let taken = total
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| (open < max).then_some(open + 1))
            .is_ok();
        taken.then(|| TotalSlot(Arc::clone(total)))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

impl Drop for TotalSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Logged-in connections per device id, for the whole process.
static PER_DEVICE: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Mutex::default);

/// One of a device's places; given back on drop.
#[derive(Debug)]
pub struct DeviceSlot {
    device_id: String,
}

impl DeviceSlot {
    /// A place for one more connection of `device_id`, if it holds fewer
    /// than `max`.
    pub fn take(device_id: &str, max: usize) -> Option<DeviceSlot> {
        let mut counts = PER_DEVICE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(device_id.to_owned()).or_insert(0);
        if *count >= max {
            if *count == 0 {
                counts.remove(device_id);
            }
            return None;
        }
        *count += 1;
        Some(DeviceSlot { device_id: device_id.to_owned() })
    }
}

impl Drop for DeviceSlot {
    fn drop(&mut self) {
        let mut counts = PER_DEVICE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.device_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.device_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_gives_places_back() {
        let total = Arc::new(Total::default());
        let first = Total::take(&total, 2).unwrap();
        let _second = Total::take(&total, 2).unwrap();
        assert!(Total::take(&total, 2).is_none());
        drop(first);
        assert_eq!(total.open(), 1);
        assert!(Total::take(&total, 2).is_some());
    }

    #[test]
    fn each_device_has_its_own_cap() {
        let a = "00000000-0000-7000-8000-0000000000a1";
        let b = "00000000-0000-7000-8000-0000000000b1";
        let slots: Vec<_> = (0..3).map(|_| DeviceSlot::take(a, 3).unwrap()).collect();
        assert!(DeviceSlot::take(a, 3).is_none());
        assert!(DeviceSlot::take(b, 3).is_some());
        drop(slots);
        assert!(DeviceSlot::take(a, 3).is_some());
        assert!(DeviceSlot::take(a, 0).is_none());
    }
}
