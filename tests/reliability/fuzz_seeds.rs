//! The fuzz corpus as a regression test: every seed under `tests/fuzz/seeds/<target>/` (the
//! hand-written ones and what `cargo fuzz` found worth keeping) goes through its target in
//! `tern::fuzzing`, which must not panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_fuzz_seed_passes_its_target() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds");
    let mut ran = 0;
    for (name, target) in tern::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in seeds {
            let data = std::fs::read(&seed).unwrap();
            let result = std::panic::catch_unwind(|| target(&data));
            assert!(result.is_ok(), "{name} panicked on {}", seed.display());
            // Every prefix too: input cut off anywhere (what a dropped connection leaves).
            for end in (0..data.len()).step_by(7) {
                let cut = data.get(..end).unwrap_or_default();
                let result = std::panic::catch_unwind(|| target(cut));
                assert!(
                    result.is_ok(),
                    "{name} panicked on {} cut at {end}",
                    seed.display()
                );
            }
            ran += 1;
        }
    }
    eprintln!("{ran} seeds");
}
