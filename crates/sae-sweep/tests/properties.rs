//! Property tests of the two parsers that read what users and mirrors hand
//! over: IDX bytes (raw and gzip) and experiment files. Whatever the input,
//! they return a value or an error, never panic, and allocate no more than
//! the input justifies (not what a header claims).
//!
//! Seeded, 4,096 cases each by default (a second or two); a longer run:
//! `PROPTEST_CASES=200000 cargo test -p sae-sweep --test properties`, and
//! another seed with `PROPTEST_RNG_SEED=N`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use sae_sweep::{Experiment, MAX_RUNS};

/// Counts the bytes live on each thread and their peak, so a test measures
/// what the code under test allocates (tests run on several threads).
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(bytes: usize) {
    let _ = LIVE.try_with(|l| {
        l.set(l.get() + bytes);
        let _ = PEAK.try_with(|p| p.set(p.get().max(l.get())));
    });
}

fn shrank(bytes: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(bytes)));
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result and the most bytes it held at once.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = f();
    (out, PEAK.with(Cell::get) - before)
}

/// 4,096 cases from a fixed seed, unless PROPTEST_CASES or PROPTEST_RNG_SEED say otherwise.
fn config() -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 4096;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x5ae_1ab);
    }
    c.failure_persistence = None;
    c
}

/// The largest expansion of a deflate stream (RFC 1951: 258 bytes from
/// 2 bits), rounded up.
const DEFLATE_RATIO: usize = 1100;

/// Bytes shaped like an IDX file: a magic number (often right), dimensions
/// (small or absurd) and a body near the announced length, or anything.
fn idx_bytes() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop_oneof![Just(0x803u32), Just(0x801u32), any::<u32>()];
    let dim = prop_oneof![0u32..6, any::<u32>()];
    let shaped = (magic, prop::collection::vec(dim, 0..4), prop::collection::vec(any::<u8>(), 0..200)).prop_map(
        |(magic, dims, body)| {
            let mut v = magic.to_be_bytes().to_vec();
            dims.iter().for_each(|d| v.extend(d.to_be_bytes()));
            v.extend(body);
            v
        },
    );
    prop_oneof![prop::collection::vec(any::<u8>(), 0..64), shaped]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The most bytes reading `bytes` may hold at once. Raw: the body copied
/// out, plus the dimensions. Gzip (by its magic number, as the readers
/// decide): at most what the stream inflates to, grown by doubling, plus the
/// body copied out, plus the decoder's own state (80 KB, whatever the input).
fn justified(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        3 * DEFLATE_RATIO * bytes.len() + 128 * 1024
    } else {
        bytes.len() + 1024
    }
}

/// Checks one input through both readers.
fn check_idx(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (path, bound) = (Path::new("fuzz"), justified(bytes));
    let (images, peak) = peak_during(|| sae_data::parse_idx_images(path, bytes));
    prop_assert!(peak <= bound, "images: {peak} bytes allocated for {} input bytes", bytes.len());
    if let Ok(im) = images {
        prop_assert_eq!(im.n * im.rows * im.cols, im.pixels.len());
    }
    let (_, peak) = peak_during(|| sae_data::parse_idx_labels(path, bytes));
    prop_assert!(peak <= bound, "labels: {peak} bytes allocated for {} input bytes", bytes.len());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn raw_idx_never_panics_nor_allocates_past_its_size(bytes in idx_bytes()) {
        check_idx(&bytes)?;
    }

    #[test]
    fn gzip_idx_never_panics_nor_allocates_past_its_inflated_size(bytes in idx_bytes(), cut in any::<prop::sample::Index>()) {
        let gz = gzip(&bytes);
        // Whole or cut anywhere (a truncated download).
        let gz = if cut.index(4) == 0 { &gz[..cut.index(gz.len() + 1)] } else { &gz[..] };
        check_idx(gz)?;
    }
}

/// Whether `v` holds a `-0.0` anywhere.
fn negative_zero(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()),
        serde_json::Value::Array(items) => items.iter().any(negative_zero),
        serde_json::Value::Object(map) => map.values().any(negative_zero),
        _ => false,
    }
}

/// Section headers of an experiment file, a wrong one and none.
const SECTIONS: &[&str] =
    &["[data]", "[model]", "[sparsity]", "[training]", "[probe]", "[sweep]", "[corruption]", "[bogus]", ""];

/// Keys of every section, and one that no section has, separated by spaces.
const KEYS: &str = "train validation test split_seed dataset labels hidden rho beta reduction k weight l1_weight \
    sparsity epochs batch_size lr weight_decay seed seeds threads engine device images l2 kind std p side fill \
    corruption description x";

/// Values in and out of every key's range, and of the wrong types.
const SCALARS: &[&str] = &[
    "0",
    "1",
    "2",
    "50",
    "-1",
    "0.05",
    "0.5",
    "1.5",
    "1e9",
    "100000000",
    "18446744073709551615",
    "nan",
    "inf",
    "-0.0",
    "-0",
    "1e-250",
    "1e-300",
    "1e300",
    "5e-324",
    "2.2250738585072014e-308",
    "1e-40",
    "3.5e38",
    "1.2345678901234567e-7",
    "+inf",
    "-inf",
    "-nan",
    "\"mnist\"",
    "\"../x\"",
    "\"\"",
    "\"sum\"",
    "\"half\"",
    "\"left\"",
    "\"topk\"",
    "\"l1\"",
    "\"candle\"",
    "\"cuda\"",
    "\"halves\"",
    "true",
    "{ kind = \"half\", fill = 2 }",
    "{ kind = \"gaussian\", std = 0.5 }",
    "{ kind = \"topk\", k = 3 }",
    "{ kind = \"l1\", weight = 1e-3 }",
];

/// Lines of an experiment file: real sections and keys with values in and
/// out of range, repeated, of the wrong type, or plain junk.
fn experiment_text() -> impl Strategy<Value = String> {
    let (section, key) =
        (prop::sample::select(SECTIONS), prop::sample::select(KEYS.split_whitespace().collect::<Vec<_>>()));
    let scalar = prop::sample::select(SCALARS);
    let value = prop_oneof![
        scalar.clone().prop_map(String::from),
        prop::collection::vec(scalar, 0..6).prop_map(|v| format!("[{}]", v.join(", "))),
        prop::collection::vec(0u32..400, 0..40).prop_map(|v| format!("{v:?}")),
    ];
    let line = prop_oneof![
        section.prop_map(String::from),
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        "[^\n]{0,30}",
    ];
    prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn experiment_text_never_panics_and_what_parses_is_in_bounds(text in experiment_text()) {
        let (parsed, peak) = peak_during(|| Experiment::from_toml(&text, Path::new("fuzz.toml")));
        prop_assert!(peak <= 256 * text.len() + (1 << 20), "{peak} bytes allocated to parse {} bytes", text.len());
        match parsed {
            Ok(e) => {
                let runs = e.expand();
                prop_assert!(!runs.is_empty() && runs.len() <= MAX_RUNS);
                prop_assert!(e.training.batch_size.0 <= e.data.train.0);
                // Ids name folders, lock files and temporary names: short
                // for any accepted value (a file name holds 255 bytes).
                for run in &runs {
                    prop_assert!(run.id.len() <= 180, "{} bytes: {}", run.id.len(), run.id);
                    // A run's settings are written one way (sorted labels, no -0.0).
                    prop_assert_eq!(&run.config.canonical(), &run.config);
                    let json = serde_json::to_value(&run.config).unwrap();
                    prop_assert!(!negative_zero(&json), "{}", json);
                }
            }
            Err(err) => prop_assert!(err.to_string().starts_with("fuzz.toml: "), "{}", err),
        }
    }

    #[test]
    fn labels_in_any_order_make_the_same_runs(
        (kept, shuffled, probe) in prop::sample::subsequence((0u8..10).collect::<Vec<_>>(), 2..=10)
            .prop_flat_map(|k| (Just(k.clone()), Just(k.clone()).prop_shuffle(), Just(k).prop_shuffle()))
    ) {
        let ids = |data: &[u8], probe: &[u8]| -> Vec<String> {
            let text = format!("[data]\nlabels = {data:?}\n[probe]\nlabels = {probe:?}\n[sweep]\nrho = [0.05, 0.1]\n");
            Experiment::from_toml(&text, Path::new("p.toml")).unwrap().expand().into_iter().map(|r| r.id).collect()
        };
        let sorted = ids(&kept, &kept);
        prop_assert_eq!(&ids(&shuffled, &probe), &sorted);
        if kept.len() == 10 {
            let default: Vec<String> = Experiment::from_toml("[sweep]\nrho = [0.05, 0.1]\n", Path::new("p.toml"))
                .unwrap().expand().into_iter().map(|r| r.id).collect();
            prop_assert_eq!(&sorted, &default);
        }
    }
}
