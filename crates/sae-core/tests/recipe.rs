//! The training constraints of the field's recipe and of Makhzani and
//! Frey's k-sparse autoencoder, on the fast engine: unit-norm atoms after
//! every step, weights that stay tied, and a k schedule that reaches its
//! target on schedule.

use sae_core::{
    Activation, Init, KSchedule, ModelConfig, SparseAutoencoder, SparsityConfig, StateSettings, TrainConfig,
    TrainState, Trainer,
};

const D: usize = 30;
const H: usize = 16;
const B: usize = 8;

/// A batch of `B` images (input and clean target) that changes with `step`.
fn batch(step: usize) -> (Vec<f32>, Vec<f32>) {
    let clean: Vec<f32> = (0..B * D).map(|i| ((i * 7 + step * 13) as f32 * 0.29).sin()).collect();
    let input = clean.iter().enumerate().map(|(i, c)| c + (i as f32 * 1.3).cos() * 0.2).collect();
    (input, clean)
}

fn trainer(model: ModelConfig, sparsity: SparsityConfig, k_schedule: Option<KSchedule>) -> Trainer {
    let config = TrainConfig { batch_size: B, lr: 1e-2, k_schedule, ..TrainConfig::reference() };
    Trainer::new(SparseAutoencoder::new(model, 1), &config, sparsity)
}

fn steps(trainer: &mut Trainer, from: usize, count: usize) {
    for step in from..from + count {
        let (x, t) = batch(step);
        trainer.step(&x, &t);
    }
}

/// The norm of each decoder atom (a column of `[D, H]`).
fn atom_norms(model: &SparseAutoencoder) -> Vec<f32> {
    (0..H).map(|j| (0..D).map(|k| model.params.dec_w[k * H + j].powi(2)).sum::<f32>().sqrt()).collect()
}

const RELU: ModelConfig = ModelConfig {
    input: D,
    hidden: H,
    activation: Activation::Relu,
    init: Init::Tied,
    pre_bias: true,
    unit_atoms: true,
    tie_weights: false,
    architecture: sae_core::Architecture::Standard,
};

#[test]
fn unit_atoms_stay_unit_after_every_step() {
    let l1 = SparsityConfig::L1 { weight: 1e-2 };
    let mut held = trainer(RELU, l1, None);
    let mut free = trainer(ModelConfig { unit_atoms: false, ..RELU }, l1, None);
    for step in 0..5 {
        steps(&mut held, step, 1);
        steps(&mut free, step, 1);
        atom_norms(&held.model).iter().for_each(|n| assert!((n - 1.0).abs() < 1e-6, "step {step}: norm {n}"));
    }
    let drift = atom_norms(&free.model).iter().fold(0.0f32, |m, n| m.max((n - 1.0).abs()));
    assert!(drift > 1e-3, "without the constraint the atoms drift, here by only {drift}");
}

#[test]
fn tied_weights_stay_one_matrix() {
    let tied = ModelConfig { tie_weights: true, ..RELU };
    let mut trainer = trainer(tied, SparsityConfig::Topk { k: 4, aux: None }, None);
    let start = trainer.model.clone();
    steps(&mut trainer, 0, 10);
    let p = &trainer.model.params;
    for j in 0..H {
        for k in 0..D {
            assert_eq!(p.enc_w[j * D + k].to_bits(), p.dec_w[k * H + j].to_bits(), "W₁[{j}, {k}] is not W₂[{k}, {j}]");
        }
    }
    assert_ne!(p.dec_w, start.params.dec_w, "the matrix trained");
    let untied = {
        let mut t = self::trainer(RELU, SparsityConfig::Topk { k: 4, aux: None }, None);
        steps(&mut t, 0, 10);
        t.model
    };
    let apart = (0..H * D).any(|i| untied.params.enc_w[i] != untied.params.dec_w[(i % D) * H + i / D]);
    assert!(apart, "without tie_weights the two layers part");
}

/// With a schedule from the width down to k over two epochs, training
/// differs from a constant k in the schedule's epochs and is the same,
/// bit for bit, from its last epoch on.
#[test]
fn the_k_schedule_reaches_its_target_on_schedule() {
    let topk = SparsityConfig::Topk { k: 2, aux: None };
    let schedule = KSchedule { from: H, epochs: 2 };
    for epoch in 0..3 {
        let (mut annealed, mut constant) = (trainer(RELU, topk, Some(schedule)), trainer(RELU, topk, None));
        for _ in 0..epoch {
            annealed.end_epoch();
            constant.end_epoch();
        }
        steps(&mut annealed, 0, 3);
        steps(&mut constant, 0, 3);
        let same = annealed.model == constant.model;
        assert_eq!(same, epoch >= 2, "epoch {epoch}: k is {}", schedule.k_at(2, epoch));
    }
}

/// A checkpoint holds the pre-encoder bias as `pre_bias` and a model
/// without one holds no such tensor; a training state trained with one
/// does not continue as a model without one.
#[test]
fn the_pre_encoder_bias_round_trips_and_is_not_mistaken_for_its_absence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = SparseAutoencoder::new(RELU, 2);
    model.start_pre_bias(&[0.25; D]);
    let path = tmp.path().join("model.safetensors");
    std::fs::write(&path, model.to_safetensors().unwrap()).unwrap();
    let loaded = SparseAutoencoder::load(&path).unwrap();
    assert!(loaded.config.pre_bias && loaded.params == model.params, "the bias and every tensor come back");
    let plain = SparseAutoencoder::new(ModelConfig { pre_bias: false, ..RELU }, 2);
    assert!(!plain.to_tensors().unwrap().contains_key("pre_bias"));

    let l1 = SparsityConfig::L1 { weight: 1e-2 };
    let mut trained = trainer(RELU, l1, None);
    steps(&mut trained, 0, 2);
    trained.end_epoch();
    let state_path = tmp.path().join("state.safetensors");
    std::fs::write(&state_path, trained.state().to_safetensors().unwrap()).unwrap();
    let config = TrainConfig { batch_size: B, lr: 1e-2, ..TrainConfig::reference() };
    assert!(TrainState::load(&state_path, &StateSettings::new(RELU, &config, l1), 5).is_ok());
    let without = StateSettings::new(ModelConfig { pre_bias: false, ..RELU }, &config, l1);
    let err = TrainState::load(&state_path, &without, 5).unwrap_err().to_string();
    assert!(err.contains("state.safetensors") && err.contains("pre_bias"), "{err}");
}

/// A state trained with a k schedule continues only with the same
/// schedule: another one, or none, is refused naming the setting.
#[test]
fn a_state_continues_only_with_its_own_k_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let topk = SparsityConfig::Topk { k: 2, aux: None };
    let schedule = Some(KSchedule { from: 8, epochs: 2 });
    let mut trained = trainer(RELU, topk, schedule);
    steps(&mut trained, 0, 2);
    trained.end_epoch();
    let path = tmp.path().join("state.safetensors");
    std::fs::write(&path, trained.state().to_safetensors().unwrap()).unwrap();
    let settings = |k_schedule| {
        StateSettings::new(RELU, &TrainConfig { batch_size: B, lr: 1e-2, k_schedule, ..TrainConfig::reference() }, topk)
    };
    assert!(TrainState::load(&path, &settings(schedule), 5).is_ok());
    for other in [None, Some(KSchedule { from: 8, epochs: 3 })] {
        let err = TrainState::load(&path, &settings(other), 5).unwrap_err().to_string();
        assert!(err.contains("k_schedule"), "{err}");
    }
}
