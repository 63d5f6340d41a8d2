//! Seeds for the fuzz-style tests: a fixed one, so CI always covers the same
//! ground, plus a fresh one each run, printed so a failure can be replayed
//! with `STINT_FUZZ_SEED=<seed>`.

pub fn seeds(what: &str, fixed: u64) -> Vec<u64> {
    let seeds = match std::env::var("STINT_FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("STINT_FUZZ_SEED is a number")],
        Err(_) => vec![fixed, fastrand::u64(..)],
    };
    for seed in &seeds {
        eprintln!("{what} fuzz seed {seed} (replay: STINT_FUZZ_SEED={seed})");
    }
    seeds
}
