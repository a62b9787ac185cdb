//! Data shared by sae-core's integration tests: small synthetic images.

/// `n` 8×8 images, each a random mix of three smooth prototypes, in [-1, 1];
/// `offset` draws another set of the same kind.
pub fn images(n: usize, offset: usize) -> Vec<f32> {
    let proto = |p: usize, k: usize| (k as f32 * (0.2 + 0.15 * p as f32)).sin();
    (0..n)
        .flat_map(|i| {
            let w: Vec<f32> = (0..3).map(|p| (((i + offset) * 7 + p * 13) % 11) as f32 / 11.0).collect();
            (0..64).map(move |k| ((0..3).map(|p| w[p] * proto(p, k)).sum::<f32>() * 0.6).clamp(-1.0, 1.0))
        })
        .collect()
}
