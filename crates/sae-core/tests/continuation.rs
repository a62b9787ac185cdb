//! Continuing a run: trained to 3 epochs, its state stored, read back and
//! trained on to 9, a run ends bit for bit as one trained to 9 in one go
//! (the fast engine; the candle engine within float tolerance), for KL,
//! TopK with AuxK and BatchTopK with AuxK; a state that cannot continue is
//! refused, naming its file.

mod common;

use common::images;

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Tensor};
use sae_core::{
    build_engine, resume_engine, train_with, Activation, AuxK, CoreError, CurvePoint, DeviceSpec, Engine, EngineKind,
    EvalSet, KlReduction, ModelConfig, SparseAutoencoder, SparsityConfig, StateSettings, TrainConfig, TrainState,
    Trainer,
};

const D: usize = 64;
const BATCH: usize = 10;
const BATCHES: usize = 6;

/// Writes batch `b` of epoch `e`: an order and a noise that change with the
/// epoch and are drawn from `(e, b)` alone, as `sae_data::TrainBatches`
/// draws them.
fn fill(data: &[f32]) -> impl FnMut(usize, usize, &mut [f32], &mut [f32]) + '_ {
    move |e, b, x, t| {
        let i = (b * 5 + e * 7) % BATCHES;
        t.copy_from_slice(&data[i * BATCH * D..(i + 1) * BATCH * D]);
        for (k, (x, t)) in x.iter_mut().zip(t.iter()).enumerate() {
            *x = t + 0.1 * ((k * 31 + e * 17 + b * 13) as f32).sin();
        }
    }
}

/// A mechanism and the model it trains.
struct Case {
    name: &'static str,
    model: ModelConfig,
    sparsity: SparsityConfig,
}

/// KL, and TopK and BatchTopK with an AuxK whose latents die after two
/// batches, so its counts carry over the break.
fn cases() -> [Case; 3] {
    let relu = ModelConfig { activation: Activation::Relu, ..ModelConfig::new(D, 16) };
    let aux = Some(AuxK { dead_after: 2 * BATCH as u64, ..AuxK::new(4) });
    [
        Case {
            name: "kl",
            model: ModelConfig::new(D, 16),
            sparsity: SparsityConfig::Kl { rho: 0.1, beta: 0.1, reduction: KlReduction::Mean },
        },
        Case { name: "topk", model: relu, sparsity: SparsityConfig::Topk { k: 3, aux } },
        Case { name: "batchtopk", model: relu, sparsity: SparsityConfig::BatchTopk { k: 3, aux } },
    ]
}

/// Training to `epochs` epochs (weight decay on, so that it carries over too).
fn config(epochs: usize) -> TrainConfig {
    TrainConfig { epochs, batch_size: BATCH, lr: 3e-3, weight_decay: 1e-4, threads: 1, ..TrainConfig::reference() }
}

/// Trains `engine` on until it has done `epochs` epochs.
fn train_to(engine: &mut dyn Engine, epochs: usize, case: &Case) -> Vec<CurvePoint> {
    let (data, val) = (images(BATCH * BATCHES, 0), images(30, 1000));
    let set = EvalSet { input: &val, clean: &val, rows: 8, cols: 8 };
    train_with(engine, &config(epochs), &case.sparsity, BATCHES, fill(&data), set, |_| {}).unwrap()
}

/// What a run ends with: its final state and its whole curve.
struct Ended {
    state: TrainState,
    curve: Vec<CurvePoint>,
}

/// Trains `case` with `kind` to 9 epochs in one go, and to 3, its state
/// stored in `dir`, read back, and trained on to 9.
fn in_one_go_and_continued(kind: EngineKind, case: &Case, dir: &Path) -> (Ended, Ended) {
    let fresh =
        || build_engine(kind, DeviceSpec::Cpu, SparseAutoencoder::new(case.model, 1), &config(9), case.sparsity);
    let mut whole = fresh().unwrap();
    let curve = train_to(whole.as_mut(), 9, case);
    let one_go = Ended { state: whole.state().unwrap(), curve };

    let mut part = fresh().unwrap();
    let mut curve = train_to(part.as_mut(), 3, case);
    let path = dir.join(format!("{}.safetensors", case.name));
    std::fs::write(&path, part.state().unwrap().to_safetensors().unwrap()).unwrap();
    drop(part);
    let state = TrainState::load(&path, &StateSettings::new(case.model, &config(9), case.sparsity), 9).unwrap();
    assert_eq!(state.epochs_done(), 3);
    let mut resumed = resume_engine(kind, DeviceSpec::Cpu, state, &config(9), case.sparsity).unwrap();
    curve.extend(train_to(resumed.as_mut(), 9, case));
    (one_go, Ended { state: resumed.state().unwrap(), curve })
}

/// Every tensor of a state (parameters, threshold or k, Adam's moments,
/// AuxK's counts) by name, as the bits of its values.
fn tensor_bits(state: &TrainState) -> BTreeMap<String, Vec<u64>> {
    let bytes = state.to_safetensors().unwrap();
    let tensors = candle_core::safetensors::load_buffer(&bytes, &candle_core::Device::Cpu).unwrap();
    let bits = |t: &Tensor| match t.dtype() {
        DType::I64 => t.flatten_all().unwrap().to_vec1::<i64>().unwrap().into_iter().map(|v| v as u64).collect(),
        _ => t.flatten_all().unwrap().to_vec1::<f32>().unwrap().into_iter().map(|v| u64::from(v.to_bits())).collect(),
    };
    tensors.iter().map(|(name, t)| (name.clone(), bits(t))).collect()
}

/// A curve without its timings, which differ from run to run.
fn untimed(curve: &[CurvePoint]) -> Vec<CurvePoint> {
    curve.iter().map(|p| CurvePoint { seconds: 0.0, ..*p }).collect()
}

#[test]
fn the_fast_engine_continues_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    for case in &cases() {
        let (one_go, continued) = in_one_go_and_continued(EngineKind::Fast, case, dir.path());
        assert_eq!(continued.state.epochs_done(), 9);
        let names = tensor_bits(&one_go.state).into_keys().collect::<Vec<_>>();
        if case.sparsity.aux().is_some() {
            assert!(names.contains(&"auxk.since_fired".to_string()), "{}: {names:?}", case.name);
            assert!(
                one_go.curve[3..].iter().any(|p| p.train_penalty > 0.0),
                "{}: AuxK worked after the break",
                case.name
            );
        }
        if case.sparsity.batch_top_k().is_some() {
            assert!(names.contains(&"threshold".to_string()), "{}: {names:?}", case.name);
        }
        assert!(names.contains(&"adam.v.encoder.weight".to_string()), "{}: {names:?}", case.name);
        assert!(tensor_bits(&one_go.state) == tensor_bits(&continued.state), "{}: the states differ", case.name);
        assert_eq!(continued.curve.iter().map(|p| p.epoch).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
        assert_eq!(untimed(&continued.curve), untimed(&one_go.curve), "{}", case.name);
    }
}

/// On the CPU the candle engine too continues bit for bit (it restores the
/// same values and repeats the same operations); the test asks for 1e-5
/// only, the tolerance a device whose reductions may reorder needs.
#[test]
fn the_candle_engine_continues_within_float_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    for case in &cases() {
        let (one_go, continued) = in_one_go_and_continued(EngineKind::Candle, case, dir.path());
        let (a, b) = (&one_go.state.model().params, &continued.state.model().params);
        for (x, y) in a.as_ref().zip(b.as_ref()).into_array() {
            let worst = x.iter().zip(y).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
            assert!(worst <= 1e-5, "{}: parameters differ by {worst}", case.name);
        }
        for (p, q) in one_go.curve.iter().zip(&continued.curve) {
            assert_eq!(p.epoch, q.epoch);
            assert!((p.val_mse - q.val_mse).abs() <= 1e-6 * p.val_mse, "{}: {p:?} {q:?}", case.name);
        }
        assert_eq!(continued.curve.len(), 9);
    }
}

#[test]
fn either_engine_takes_up_the_others_state() {
    let case = &cases()[1];
    let mut fast = Trainer::new(SparseAutoencoder::new(case.model, 1), &config(3), case.sparsity);
    train_to(&mut fast, 3, case);
    let mut candle =
        resume_engine(EngineKind::Candle, DeviceSpec::Cpu, fast.state(), &config(4), case.sparsity).unwrap();
    assert_eq!(candle.epochs_done(), 3);
    let curve = train_to(candle.as_mut(), 4, case);
    assert_eq!(curve.iter().map(|p| p.epoch).collect::<Vec<_>>(), [4]);
    let mut back = resume_engine(EngineKind::Fast, DeviceSpec::Cpu, candle.state().unwrap(), &config(5), case.sparsity);
    assert_eq!(train_to(back.as_mut().unwrap().as_mut(), 5, case).len(), 1);
}

#[test]
fn a_state_that_cannot_continue_is_refused_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let [kl, topk, _] = cases();
    let mut trainer = Trainer::new(SparseAutoencoder::new(kl.model, 1), &config(3), kl.sparsity);
    train_to(&mut trainer, 3, &kl);
    let path = dir.path().join("state.safetensors");
    let bytes = trainer.state().to_safetensors().unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let settings = StateSettings::new(kl.model, &config(9), kl.sparsity);
    let refused = |path: &Path, settings: &StateSettings, epochs: usize| {
        let err = TrainState::load(path, settings, epochs).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        err
    };

    // Another mechanism, another width, another learning rate.
    let err = refused(&path, &StateSettings::new(topk.model, &config(9), topk.sparsity), 9);
    assert!(err.contains("trained with other settings than these: model ") && err.contains("; sparsity {"), "{err}");
    let wider = ModelConfig::new(D, 32);
    assert!(refused(&path, &StateSettings::new(wider, &config(9), kl.sparsity), 9).contains("\"hidden\":16"));
    let faster = TrainConfig { lr: 1e-2, ..config(9) };
    let err = refused(&path, &StateSettings::new(kl.model, &faster, kl.sparsity), 9);
    assert!(err.ends_with("lr 0.003, expected 0.01"), "{err}");
    // Fewer epochs than the state holds.
    let err = refused(&path, &settings, 2);
    assert!(err.ends_with("holds 3 epochs of training, more than the 2 asked for"), "{err}");

    // A damaged file, a model checkpoint, no file.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(refused(&path, &settings, 9).contains("not a safetensors file"));
    std::fs::write(&path, trainer.model.to_safetensors().unwrap()).unwrap();
    assert!(refused(&path, &settings, 9).contains("not a training state"));
    assert!(refused(&dir.path().join("absent.safetensors"), &settings, 9).contains("absent.safetensors"));

    // A moment of the wrong shape under the right metadata.
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut tensors = candle_core::safetensors::load_buffer(&bytes, &candle_core::Device::Cpu).unwrap();
    tensors.insert("adam.v.decoder.bias".into(), Tensor::zeros(5, DType::F32, &candle_core::Device::Cpu).unwrap());
    std::fs::write(&path, safetensors::serialize(&tensors, header.metadata().clone()).unwrap()).unwrap();
    assert!(refused(&path, &settings, 9).ends_with("adam.v.decoder.bias has shape [5], expected [64]"));

    // A state in memory, resumed with other settings or past its epochs.
    let err = Trainer::resume(trainer.state(), &config(9), topk.sparsity).unwrap_err();
    assert!(matches!(err, CoreError::State(ref m) if m.contains("sparsity")), "{err}");
    let mut engine = Trainer::resume(trainer.state(), &config(9), kl.sparsity).unwrap();
    let val = images(30, 1000);
    let set = EvalSet { input: &val, clean: &val, rows: 8, cols: 8 };
    let data = images(BATCH * BATCHES, 0);
    let err = train_with(&mut engine, &config(2), &kl.sparsity, BATCHES, fill(&data), set, |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "epochs: 2 epochs asked for, fewer than the 3 already trained");
}

#[test]
fn a_state_file_loads_as_a_checkpoint_too() {
    let dir = tempfile::tempdir().unwrap();
    let [kl, ..] = cases();
    let mut trainer = Trainer::new(SparseAutoencoder::new(kl.model, 1), &config(1), kl.sparsity);
    train_to(&mut trainer, 1, &kl);
    let path = dir.path().join("state.safetensors");
    std::fs::write(&path, trainer.state().to_safetensors().unwrap()).unwrap();
    assert_eq!(SparseAutoencoder::load(&path).unwrap(), trainer.model);
}
