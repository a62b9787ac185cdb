//! A results folder belongs to one experiment file: another file of the
//! same name with other runs is refused, in turn, at once, or as a merge,
//! and nothing of the folder changes; the same file edited, the same
//! experiment moved or cloned, and the shards of one file go on as before.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, Table, BASE, TIMING};
use sae_sweep::{merge, Experiment, ExperimentFile, ResultsDir, Shard, SweepError, SweepSummary, OWNER_FILE};

/// `folder/rho.toml`, written with `head` (top-level keys), [`BASE`] and
/// `extra`, and loaded.
fn rho(root: &Path, folder: &str, head: &str, extra: &str) -> ExperimentFile {
    let path = root.join(folder).join("rho.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{head}\n{BASE}\n{extra}")).unwrap();
    ExperimentFile::load(&path).unwrap()
}

fn sweep(file: &ExperimentFile, data: &Path, results: &Path) -> Result<SweepSummary, SweepError> {
    common::sweep(file, data, results, 1, None)
}

/// Every file under `dir` with its bytes (the runs' timings included): what
/// a refused command must leave as it was.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
            match e.is_dir() {
                true => stack.push(e),
                false if !e.starts_with(dir.join(".locks")) => files.push((e.clone(), std::fs::read(&e).unwrap())),
                false => {}
            }
        }
    }
    files.sort();
    files
}

#[test]
fn another_file_of_the_same_name_is_refused_in_turn_and_as_a_merge_and_changes_nothing() {
    let f = fixture();
    let root = f.tmp.path();
    let a = rho(root, "a", "", "[sweep]\nrho = [0.05, 0.1]\n");
    let b = rho(root, "b", "", "[sweep]\nrho = [0.2]\n");
    sweep(&a, &f.data, &f.results).unwrap();
    let dir = ResultsDir::new(&f.results, "rho");
    assert_eq!(dir.owner().unwrap(), root.join("a/rho.toml").canonicalize().unwrap());
    let before = snapshot(dir.root());
    for err in [sweep(&b, &f.data, &f.results).unwrap_err(), merge(&b, &f.results).unwrap_err()] {
        assert!(matches!(err, SweepError::OwnedByAnother { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("holds the results of ") && msg.contains("a/rho.toml;"), "{msg}");
        assert!(msg.contains("b/rho.toml has the same name but other runs (rho0.2-"), "{msg}");
        assert!(dir.check_owner(&b).is_err());
    }
    assert!(before == snapshot(dir.root()), "a refused sweep or merge writes nothing");
}

#[test]
fn the_same_file_edited_moved_or_cloned_keeps_its_folder() {
    let f = fixture();
    let root = f.tmp.path();
    let a = rho(root, "a", "", "[sweep]\nrho = [0.05, 0.1]\n");
    sweep(&a, &f.data, &f.results).unwrap();
    let dir = ResultsDir::new(&f.results, "rho");
    // Edited: its description and its grid, as before folders had owners.
    let edited = rho(root, "a", "description = \"reworded\"", "[sweep]\nrho = [0.05, 0.1, 0.2]\n");
    assert_eq!(sweep(&edited, &f.data, &f.results).unwrap().skipped, 2);
    // A clone elsewhere with the same runs (its description differs): the same experiment.
    let clone = rho(root, "clone", "", "[sweep]\nrho = [0.2, 0.1, 0.05]\n");
    let again = sweep(&clone, &f.data, &f.results).unwrap();
    assert_eq!((again.done, again.skipped), (0, 3));
    assert_eq!(dir.owner().unwrap(), root.join("clone/rho.toml").canonicalize().unwrap());
    // Moved, then edited: the file the folder records is gone, so the new one takes it.
    std::fs::remove_dir_all(root.join("clone")).unwrap();
    let moved = rho(root, "moved", "", "[sweep]\nrho = [0.05, 0.3]\n");
    assert_eq!(sweep(&moved, &f.data, &f.results).unwrap().done, 1);
    // A folder of an earlier sae-lab, which recorded no file: taken, then held.
    std::fs::remove_file(dir.root().join(OWNER_FILE)).unwrap();
    let other = rho(root, "other", "", "[sweep]\nrho = [0.4]\n");
    sweep(&other, &f.data, &f.results).unwrap();
    assert_eq!(dir.owner().unwrap(), root.join("other/rho.toml").canonicalize().unwrap());
    assert!(sweep(&moved, &f.data, &f.results).is_err(), "now other/rho.toml's");
    let stored = std::fs::read_to_string(dir.root().join("experiment.toml")).unwrap();
    assert_eq!(Experiment::from_toml(&stored, Path::new("x")).unwrap(), other.experiment);
}

#[test]
fn two_files_of_one_name_at_once_one_is_refused_and_shards_of_one_file_share() {
    let f = fixture();
    let root = f.tmp.path();
    let files = [rho(root, "a", "", "[sweep]\nrho = [0.05, 0.1]\n"), rho(root, "b", "", "[sweep]\nrho = [0.2, 0.3]\n")];
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|file| s.spawn(|| sweep(file, &f.data, &f.results))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    let winner = &files[outcomes.iter().position(|o| o.is_ok()).unwrap()];
    let dir = ResultsDir::new(&f.results, "rho");
    let runs: Vec<String> = winner.experiment.expand().into_iter().map(|r| r.id).collect();
    let mut stored: Vec<String> =
        std::fs::read_dir(dir.runs()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    stored.sort();
    assert_eq!(stored, runs, "only the winner's runs");

    // The shards of one file, at once, into a folder of their own.
    let shared = f.results.join("shards");
    let shards: Vec<_> = std::thread::scope(|s| {
        let (file, data, shared) = (&files[0], &f.data, &shared);
        let run = |index| s.spawn(move || common::sweep(file, data, shared, 1, Some(Shard { index, count: 2 })));
        [run(0), run(1)].into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(shards.iter().all(|s| s.is_ok()), "{shards:?}");
    let merged = merge(&files[0], &shared).unwrap();
    assert_eq!((merged.rows, merged.missing.len()), (2, 0));
    let table = Table::read(&shared.join("rho/runs.csv")).without(&TIMING);
    assert_eq!(table.len(), 3, "a header and both shards' rows");
}

#[cfg(unix)]
#[test]
fn the_same_file_by_another_path_is_its_owner_when_edited() {
    // A hard link, as a bind mount on a cluster's compute node: one file, two paths.
    let f = fixture();
    let root = f.tmp.path();
    let a = rho(root, "a", "", "[sweep]\nrho = [0.05, 0.1]\n");
    sweep(&a, &f.data, &f.results).unwrap();
    std::fs::create_dir(root.join("mount")).unwrap();
    std::fs::hard_link(root.join("a/rho.toml"), root.join("mount/rho.toml")).unwrap();
    let edited = format!("{BASE}\n[sweep]\nrho = [0.05, 0.1, 0.2]\n");
    std::fs::write(root.join("a/rho.toml"), edited).unwrap();
    let linked = ExperimentFile::load(&root.join("mount/rho.toml")).unwrap();
    assert_eq!(sweep(&linked, &f.data, &f.results).unwrap().done, 1, "an edit of the owner, not another file");
}
