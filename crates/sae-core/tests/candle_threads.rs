//! Limiting candle's CPU threads: candle then splits its products over the
//! run's thread count, and a second, different count is refused. A test
//! binary of its own, since it sets the process's environment.

#[test]
fn candle_takes_the_limit_and_a_different_one_is_refused() {
    sae_core::limit_candle_cpu_threads(1).unwrap();
    assert_eq!(candle_core::utils::get_num_threads(), 1);
    sae_core::limit_candle_cpu_threads(1).expect("the same count again is fine");
    let err = sae_core::limit_candle_cpu_threads(3).unwrap_err().to_string();
    assert!(err.contains("already set to 1") && err.contains("3 threads cannot apply"), "{err}");
}
