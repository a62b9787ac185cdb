//! SSIM against scikit-image. The expected values were computed with
//! scikit-image 0.26.0, `skimage.metrics.structural_similarity(a, b,
//! data_range=1.0)` (defaults: 7×7 uniform window, K1 = 0.01, K2 = 0.03,
//! sample covariance), on these same images built in numpy:
//!
//! ```python
//! r, c = np.mgrid[0:28, 0:28].astype(np.float64)
//! a = (np.sin(0.3*r*c*0.1 + r*0.5) + 1) / 2
//! b = np.clip(a + 0.2*np.cos(0.7*r - 0.4*c), 0, 1)
//! g = c / 27.0                      # all three rounded to float32 first
//! ```

use sae_core::ssim;

fn image(f: impl Fn(f64, f64) -> f64) -> Vec<f32> {
    (0..28 * 28).map(|i| f((i / 28) as f64, (i % 28) as f64) as f32).collect()
}

fn a(r: f64, c: f64) -> f64 {
    ((0.3 * r * c * 0.1 + r * 0.5).sin() + 1.0) / 2.0
}

#[test]
fn matches_scikit_image() {
    let ia = image(a);
    let ib = image(|r, c| (a(r, c) + 0.2 * (0.7 * r - 0.4 * c).cos()).clamp(0.0, 1.0));
    let ig = image(|_, c| c / 27.0);
    let zeros = vec![0.0f32; 784];
    for (other, want) in
        [(&ib, 0.935_529_319_959_716_7), (&ig, 0.007_567_837_812_535_023), (&zeros, 3.001_011_647_507_076e-6)]
    {
        let got = ssim(&ia, other, 28, 28);
        assert!((got - want).abs() < 1e-6, "ssim {got}, scikit-image {want}");
    }
    assert!((ssim(&ia, &ia, 28, 28) - 1.0).abs() < 1e-12);
}
