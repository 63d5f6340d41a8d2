//! Keeps a failure that repeats from flooding the log: said at once when it is
//! new, then at most once a minute with how often it happened in between.

use std::time::{Duration, Instant};

#[derive(Default)]
pub(super) struct Quiet {
    last: Option<(String, Instant)>,
    repeats: u32,
}

impl Quiet {
    const EVERY: Duration = Duration::from_secs(60);

    /// Some(times it was kept quiet since last said) when `line` should be
    /// logged now.
    pub(super) fn say(&mut self, line: &str, now: Instant) -> Option<u32> {
        match &self.last {
            Some((l, at)) if l == line && now.duration_since(*at) < Self::EVERY => {
                self.repeats += 1;
                None
            }
            _ => {
                self.last = Some((line.to_string(), now));
                Some(std::mem::take(&mut self.repeats))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_said_once_a_minute_with_its_count() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut q = Quiet::default();
        let said: Vec<Option<u32>> = [
            ("refused", 0),
            ("refused", 1),
            ("refused", 2),
            ("refused", 61),   // a minute on: said, with the two kept quiet
            ("timed out", 62), // a new failure: at once
            ("refused", 63),
        ]
        .iter()
        .map(|(line, s)| q.say(line, at(*s)))
        .collect();
        assert_eq!(said, [Some(0), None, None, Some(2), Some(0), Some(0)]);
    }
}
