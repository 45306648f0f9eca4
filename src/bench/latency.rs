//! Latency samples and throughput of a benchmark round.

use std::time::Duration;

/// How long each operation of a round took.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    /// Adds one operation's time.
    pub fn record(&mut self, took: Duration) {
        self.samples.push(took);
    }

    /// Adds another station's samples.
    pub fn extend(&mut self, other: Self) {
        self.samples.extend(other.samples);
    }

    /// Operations recorded.
    pub fn count(&self) -> usize {
        self.samples.len()
    }

    /// The `percent` percentile in milliseconds by the nearest-rank method
    /// (the smallest sample with at least `percent`% of samples at or
    /// below it); 0 with no samples.
    pub fn percentile_ms(&self, percent: f64) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let rank = (percent.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
        let index = rank.clamp(1, sorted.len()) - 1;
        sorted[index].as_secs_f64() * 1000.0
    }
}

/// Operations done in a span of wall-clock time.
#[derive(Debug, Clone, Default)]
pub struct Throughput {
    /// From the first operation's start to the last one's end.
    pub elapsed: Duration,
    /// Each operation's time.
    pub latencies: Latencies,
}

impl Throughput {
    /// Adds another stretch of the same work: its time and its operations.
    pub fn extend(&mut self, other: Self) {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }

    /// Operations per second of wall-clock time.
    pub fn ops_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.latencies.count() as f64 / seconds } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: impl IntoIterator<Item = u64>) -> Latencies {
        let mut latencies = Latencies::default();
        for value in values {
            latencies.record(Duration::from_millis(value));
        }
        latencies
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let latencies = millis((1..=100).rev());
        assert_eq!(latencies.percentile_ms(50.0), 50.0);
        assert_eq!(latencies.percentile_ms(99.0), 99.0);
        assert_eq!(latencies.percentile_ms(100.0), 100.0);
        assert_eq!(latencies.percentile_ms(0.0), 1.0);
    }

    #[test]
    fn one_slow_call_in_a_hundred_is_below_the_99th_percentile() {
        let latencies = millis(std::iter::repeat_n(2, 99).chain([500]));
        assert_eq!(latencies.percentile_ms(99.0), 2.0);
        assert_eq!(latencies.percentile_ms(100.0), 500.0);
    }

    #[test]
    fn nothing_recorded_is_zero() {
        assert_eq!(Latencies::default().percentile_ms(99.0), 0.0);
        assert_eq!(Throughput::default().ops_per_second(), 0.0);
    }

    #[test]
    fn throughput_counts_every_station() {
        let mut all = millis([3, 4]);
        all.extend(millis([5, 6]));
        let throughput = Throughput { elapsed: Duration::from_millis(500), latencies: all };
        assert_eq!(throughput.ops_per_second(), 8.0);
    }

    #[test]
    fn two_stretches_add_their_time_and_operations() {
        let mut first = Throughput { elapsed: Duration::from_millis(100), latencies: millis([1, 2]) };
        first.extend(Throughput { elapsed: Duration::from_millis(400), latencies: millis([3, 4, 5, 6]) });
        assert_eq!(first.latencies.count(), 6);
        assert_eq!(first.ops_per_second(), 12.0);
    }
}
