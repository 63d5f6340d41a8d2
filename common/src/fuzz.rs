//! Seeds for the fuzz-style tests of agent and server: a fixed one, so CI
//! always covers the same ground, plus a fresh one each run, printed so a
//! failure can be replayed with `STINT_FUZZ_SEED=<seed>`; and a small
//! generator to draw from them where a crate has no random-number crate.

pub fn seeds(what: &str, fixed: u64) -> Vec<u64> {
    let seeds = match std::env::var("STINT_FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("STINT_FUZZ_SEED is a number")],
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            vec![fixed, SplitMix(now).next()]
        }
    };
    for seed in &seeds {
        eprintln!("{what} fuzz seed {seed} (replay: STINT_FUZZ_SEED={seed})");
    }
    seeds
}

/// SplitMix64: enough randomness for mutating test inputs, none for secrets.
pub struct SplitMix(pub u64);

impl SplitMix {
    #[allow(clippy::should_implement_trait)] // not an iterator: it never ends
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
