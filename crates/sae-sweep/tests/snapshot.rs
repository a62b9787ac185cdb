//! Each stored run read once per command ([`Snapshot`]), and what that read
//! checks of a checkpoint: its header and its length, which find a garbage,
//! narrower or lengthened checkpoint as surely as a truncated one
//! (docs/RELIABILITY.md, "Results read once").

mod common;

use common::{damage_reasons, experiment, fixture, Table, TIMING};
use sae_core::{ModelConfig, SparseAutoencoder};
use sae_sweep::{ResultsDir, RunState, Snapshot};

#[test]
fn garbage_narrower_and_lengthened_checkpoints_are_damage_and_are_redone() {
    let f = fixture();
    let file = experiment("checkpoints", "[sweep]\nrho = [0.05, 0.1, 0.2]\n");
    common::sweep(&file, &f.data, &f.results, 2, None).unwrap();
    let runs_csv = f.results.join("checkpoints/runs.csv");
    let before = Table::read(&runs_csv).without(&TIMING);
    let (dir, grid) = (ResultsDir::new(&f.results, "checkpoints"), file.experiment.expand());
    let checkpoint = |i: usize| dir.run_dir(&grid[i].id).join("model.safetensors");
    let bytes = std::fs::read(checkpoint(0)).unwrap();
    let input = SparseAutoencoder::load(&checkpoint(0)).unwrap().config.input;
    std::fs::write(checkpoint(0), vec![0x5a; bytes.len()]).unwrap();
    let narrower = SparseAutoencoder::new(ModelConfig::new(input, 4), 0);
    std::fs::write(checkpoint(1), narrower.to_safetensors().unwrap()).unwrap();
    std::fs::write(checkpoint(2), [bytes.as_slice(), b"more"].concat()).unwrap();

    let reasons = damage_reasons(&dir, &grid);
    let header = u64::from_le_bytes([0x5a; 8]);
    assert!(
        reasons[0].ends_with(&format!(
            "model.safetensors: a header of {header} bytes announced, the file holds {}",
            bytes.len()
        )),
        "{}",
        reasons[0]
    );
    assert!(reasons[1].ends_with("model.safetensors: width 4, expected 8"), "{}", reasons[1]);
    let announced = format!("model.safetensors: {} bytes, its header announces {}", bytes.len() + 4, bytes.len());
    assert!(reasons[2].ends_with(&announced), "{}", reasons[2]);

    let again = common::sweep(&file, &f.data, &f.results, 2, None).unwrap();
    assert_eq!((again.done, again.skipped, again.rows), (3, 0, 3));
    assert_eq!(Table::read(&runs_csv).without(&TIMING), before);
}

#[test]
fn a_command_reads_each_run_once_and_keeps_what_it_stored() {
    let f = fixture();
    let file = experiment("once", "[sweep]\nrho = [0.05, 0.1]\n");
    let swept = common::sweep(&file, &f.data, &f.results, 2, None).unwrap();
    let (dir, grid) = (ResultsDir::new(&f.results, "once"), file.experiment.expand());
    // The sweep's snapshot holds each run as stored: what reading it back gives.
    for spec in &grid {
        assert_eq!(swept.results.state(spec), &dir.state(spec), "{}", spec.id);
    }

    let results = Snapshot::new(dir.clone(), &grid);
    assert!(results.state(&grid[0]).is_done());
    let model = results.model(&grid[0]).unwrap().clone();
    std::fs::remove_dir_all(dir.run_dir(&grid[0].id)).unwrap();
    std::fs::remove_dir_all(dir.run_dir(&grid[1].id)).unwrap();
    assert!(results.state(&grid[0]).is_done(), "read once, when first asked for");
    assert_eq!(results.model(&grid[0]).unwrap(), &model, "loaded once");
    assert_eq!(results.state(&grid[1]), &RunState::Missing, "read when first asked for");
    assert_eq!(Snapshot::new(dir, &grid).state(&grid[0]), &RunState::Missing, "another command reads again");
}
