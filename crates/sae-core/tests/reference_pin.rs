//! The reference protocol's training, pinned bit for bit: a sigmoid KL
//! model and a tied ReLU TopK model without the field's recipe, each
//! trained a few steps by the fast engine, hashed over every parameter's
//! bits. The pins were taken before the pre-encoder bias, unit-norm atoms,
//! tied training and the k schedule existed, so a change that moves the
//! reference's numbers by one bit fails here.

use sae_core::{Activation, Init, ModelConfig, SparseAutoencoder, SparsityConfig, TrainConfig, Trainer};

/// FNV-1a over the bits of every parameter, in `state_dict` order.
fn digest(model: &SparseAutoencoder) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for tensor in model.params.as_ref().into_array() {
        for byte in tensor.iter().flat_map(|v| v.to_bits().to_le_bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// `config` trained 20 Adam steps on fixed batches of 50 images of 784
/// pixels (a dark background, a fifth of the pixels lit, noise added).
fn trained(config: ModelConfig, sparsity: SparsityConfig) -> SparseAutoencoder {
    let train = TrainConfig { batch_size: 50, lr: 1e-3, ..TrainConfig::reference() };
    let mut trainer = Trainer::new(SparseAutoencoder::new(config, 3), &train, sparsity);
    for step in 0..20u32 {
        let clean: Vec<f32> = (0..50 * 784u32)
            .map(|i| {
                let x = ((i.wrapping_mul(2_654_435_761) ^ step.wrapping_mul(40_503)) % 1000) as f32 / 1000.0;
                if x < 0.8 {
                    -1.0
                } else {
                    x * 2.0 - 1.0
                }
            })
            .collect();
        let input: Vec<f32> = clean.iter().enumerate().map(|(i, c)| c + ((i as f32) * 0.37).sin() * 0.3).collect();
        trainer.step(&input, &clean);
    }
    trainer.model
}

#[test]
fn the_reference_and_untouched_relu_codes_train_as_before() {
    let reference = trained(ModelConfig::new(784, 64), SparsityConfig::reference());
    let tied = ModelConfig { activation: Activation::Relu, init: Init::Tied, ..ModelConfig::new(784, 64) };
    let topk = trained(tied, SparsityConfig::Topk { k: 8, aux: None });
    let found = (digest(&reference), digest(&topk));
    eprintln!("digests: {found:#x?}");
    assert_eq!(found, (0x41ef_e517_a2bd_2be4, 0x77ff_3ca5_7928_702d));
}
