//! Replays every fuzz crash input (and a seed-derived smoke input per target) through the very
//! functions the libFuzzer targets run (`fuzz/src/targets.rs`, included here so this runs on
//! stable without the fuzzer). Inputs live in `tests/fuzz_regressions/<target>/`; a new crash
//! found by `cargo fuzz run` is copied there, fixed, and stays fixed.

#[path = "../fuzz/src/seeds.rs"]
mod seeds;
#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_crash_input_runs_clean() {
    for (name, run) in targets::ALL {
        let found = inputs(name);
        // Every target keeps at least its seed-derived smoke input, so the harness runs.
        assert!(!found.is_empty(), "no inputs for target {name}");
        for (path, bytes) in found {
            let result = std::panic::catch_unwind(|| run(&bytes));
            assert!(result.is_ok(), "{name}: {} fails again", path.display());
        }
    }
}

#[test]
fn every_seed_runs_clean() {
    let seeds = seeds::all();
    for (name, _) in targets::ALL {
        assert!(
            seeds.iter().filter(|(t, _, _)| *t == name).count() >= 3,
            "target {name} has almost no seeds"
        );
    }
    for (target, seed, bytes) in seeds {
        let run = targets::ALL
            .iter()
            .find(|(n, _)| *n == target)
            .map(|(_, f)| *f)
            .unwrap_or_else(|| panic!("seed for unknown target {target}"));
        let result = std::panic::catch_unwind(|| run(&bytes));
        assert!(result.is_ok(), "{target}: seed {seed} fails");
    }
}
