//! `cargo xtask slurm FILE --array N`: a sweep as a Slurm job array. Each
//! array task runs its shard of the grid against a shared results folder;
//! a dependent job (`afterany`, so it runs even when a task fails) rebuilds
//! runs.csv and writes the report. Resubmitting redoes only the runs that
//! are missing or failed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use sae_sweep::ExperimentFile;

use crate::{DataDirArg, ResultsArg};

/// Options of the slurm command.
#[derive(Debug, Clone, clap::Args)]
pub struct SlurmArgs {
    /// The experiment file (on a filesystem every node sees).
    pub file: PathBuf,
    /// Array tasks: the grid is split into this many shards.
    #[arg(long, value_parser = crate::at_least_one())]
    pub array: usize,
    /// At most this many tasks at once (`--array=0-N%M`).
    #[arg(long, value_parser = crate::at_least_one())]
    pub max_running: Option<usize>,
    /// Partition (queue) to submit to.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task, in Slurm's format.
    #[arg(long, default_value = "02:00:00")]
    pub time: String,
    /// CPUs per task; the task trains that many runs at once.
    #[arg(long, default_value_t = 1, value_parser = crate::at_least_one())]
    pub cpus_per_task: usize,
    /// Memory per task, in Slurm's format (e.g. 2G).
    #[arg(long)]
    pub mem: Option<String>,
    /// Extra sbatch options, one per flag (e.g. --sbatch "--account=lab").
    #[arg(long = "sbatch", allow_hyphen_values = true)]
    pub extra: Vec<String>,
    #[command(flatten)]
    pub results: ResultsArg,
    #[command(flatten)]
    pub data: DataDirArg,
    /// Submit the scripts with sbatch (otherwise only write them).
    #[arg(long)]
    pub submit: bool,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

/// `s` as one bash word, quoted where it needs to be.
fn quote(s: &str) -> Result<String> {
    Ok(shlex::try_quote(s).with_context(|| format!("quoting {s:?} for bash"))?.into_owned())
}

fn quote_path(p: &Path) -> Result<String> {
    quote(&p.display().to_string())
}

/// The `#SBATCH` line that sets `option` to `value`. sbatch reads these
/// lines with a parser of its own (words split at blanks, `'` and `"`
/// quote, `#` starts a comment), so a value with any of those is put in
/// double quotes; a value that is empty, or holds a double quote or a line
/// break, which no quoting carries through, is refused.
fn sbatch_line(option: &str, value: &str) -> Result<String> {
    if value.is_empty() || value.contains(['"', '\n', '\r']) {
        bail!("{option} {value:?}: an #SBATCH value must be non-empty, without double quotes or line breaks");
    }
    if value.contains(|c: char| c.is_whitespace() || matches!(c, '\'' | '#' | '\\')) {
        Ok(format!("#SBATCH {option}=\"{value}\"\n"))
    } else {
        Ok(format!("#SBATCH {option}={value}\n"))
    }
}

/// The `#SBATCH` header shared by both scripts.
fn header(args: &SlurmArgs, name: &str, log: &Path) -> Result<String> {
    let mut h = "#!/bin/bash\n".to_string();
    h += &sbatch_line("--job-name", name)?;
    h += &sbatch_line("--time", &args.time)?;
    if let Some(p) = &args.partition {
        h += &sbatch_line("--partition", p)?;
    }
    if let Some(m) = &args.mem {
        h += &sbatch_line("--mem", m)?;
    }
    h += &sbatch_line("--output", &log.display().to_string())?;
    for line in &args.extra {
        if line.trim().is_empty() || line.contains(['\n', '\r']) {
            bail!("--sbatch {line:?}: expected one sbatch option, non-empty and on one line");
        }
        let _ = writeln!(h, "#SBATCH {line}");
    }
    Ok(h)
}

/// The two scripts: the array and the merge.
pub fn scripts(args: &SlurmArgs, file: &ExperimentFile, xtask: &Path, cwd: &Path) -> Result<(String, String)> {
    let results = absolute(args.results.folder()?)?;
    let logs = results.join(&file.name).join("slurm");
    let exp = quote_path(&absolute(&file.path)?)?;
    let data = args.data.get().map(|d| Ok::<_, anyhow::Error>(format!(" --data-dir {}", quote_path(&absolute(d)?)?)));
    let data = data.transpose()?.unwrap_or_default();
    let limit = args.max_running.map(|m| format!("%{m}")).unwrap_or_default();
    let mut array = header(args, &format!("sae-{}", file.name), &logs.join("task-%A_%a.out"))?;
    let _ = write!(
        array,
        "#SBATCH --array=0-{}{limit}\n#SBATCH --cpus-per-task={}\n\
         #SBATCH --signal=B:TERM@60\n\n\
         # SIGTERM a minute before the time limit (up to 30 s earlier, where\n\
         # Slurm's check falls): the sweep (exec'd, so it is the batch shell)\n\
         # lets its writes end and stops, its stored runs kept for a resubmit.\n\
         # Each task runs shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT; it\n\
         # exits 1 when one of its runs failed (the run is recorded as failed).\n\
         set -euo pipefail\ncd {}\n\
         exec {} sweep {exp} --results {} --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"{data}\n",
        args.array - 1,
        args.cpus_per_task,
        quote_path(cwd)?,
        quote_path(xtask)?,
        quote_path(&results)?,
    );
    let mut merge = header(args, &format!("sae-{}-merge", file.name), &logs.join("merge-%j.out"))?;
    let _ = write!(
        merge,
        "#SBATCH --cpus-per-task=1\n\n\
         # Runs after every array task has ended, however it ended.\n\
         set -euo pipefail\ncd {}\n\
         {x} merge {exp} --results {r}\n\
         exec {x} report {} --results {r}{data}\n",
        quote_path(cwd)?,
        quote(&file.name)?,
        x = quote_path(xtask)?,
        r = quote_path(&results)?,
    );
    Ok((array, merge))
}

/// The time limit `time` (sbatch's `--time`: `M`, `M:S`, `H:M:S`, `D-H`,
/// `D-H:M`, `D-H:M:S`) in whole minutes, as Slurm rounds it (up); `None`
/// for a limit it cannot read (sbatch judges those) or an unlimited one.
fn limit_minutes(time: &str) -> Option<u64> {
    let (days, rest) = match time.split_once('-') {
        Some((d, rest)) => (d.parse::<u64>().ok()?, Some(rest)),
        None => (0, None),
    };
    let parts: Vec<u64> = rest.unwrap_or(time).split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let seconds = match (rest.is_some(), parts.as_slice()) {
        (false, [m]) => m.checked_mul(60)?,
        (false, [m, s]) => m.checked_mul(60)?.checked_add(*s)?,
        (_, [h, m, s]) => h.checked_mul(3600)?.checked_add(m.checked_mul(60)?)?.checked_add(*s)?,
        (true, [h]) => h.checked_mul(3600)?,
        (true, [h, m]) => h.checked_mul(3600)?.checked_add(m.checked_mul(60)?)?,
        _ => return None,
    };
    days.checked_mul(86_400)?.checked_add(seconds).map(|s| s.div_ceil(60))
}

/// What a time limit under five minutes leaves a task: the script asks
/// for SIGTERM a minute before the limit, and Slurm, which checks time
/// limits every 30 s, sends it at the first check that finds it due (seen
/// on the local cluster: 27 s into a one-minute job).
fn short_limit_note(time: &str) -> Option<String> {
    let minutes = limit_minutes(time).filter(|&m| m < 5)?;
    let most = (minutes * 60).saturating_sub(60).max(30);
    Some(format!(
        "slurm: --time {time}: a task gets SIGTERM a minute before its limit (--signal=B:TERM@60), up to 30 s earlier \
         where Slurm's 30-second check falls, so it trains for {} to {most} s; it stops cleanly, keeping the runs \
         it stored, and the same command resubmitted goes on from them",
        most - 30
    ))
}

/// Runs `sbatch --parsable ARGS` and returns the job id.
fn sbatch(args: &[&str]) -> Result<String> {
    let out =
        Command::new("sbatch").arg("--parsable").args(args).output().context("running sbatch (is Slurm installed?)")?;
    if !out.status.success() {
        bail!("sbatch {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    let id = String::from_utf8_lossy(&out.stdout);
    Ok(id.trim().split(';').next().unwrap_or_default().to_string())
}

/// Writes the scripts into `results/<experiment>/slurm/` and, with
/// `--submit`, submits the array and the merge job that depends on it.
pub fn slurm(args: &SlurmArgs) -> Result<()> {
    let file = ExperimentFile::load(&args.file)?;
    let xtask = std::env::current_exe().context("locating the xtask binary")?;
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let grid = file.experiment.expand();
    let runs = grid.len();
    // A halving search's tasks share each rung's runs: its first rung is its widest.
    let widest = grid.iter().filter(|r| r.rung.is_none_or(|r| r == 0)).count();
    let (most, of) = match widest < runs {
        true => {
            let strategy = file.experiment.search.strategy.as_str();
            (widest, format!("the {widest} runs of the first rung (the widest) of the {strategy} search"))
        }
        false => (runs, format!("the {runs} runs")),
    };
    if args.array > most {
        bail!(
            "--array {} is more than {of} of {}: the tasks past the {most}th would have nothing to do; use --array \
             {most} or fewer",
            args.array,
            file.path.display()
        );
    }
    // Its scripts go into the results folder: never into another experiment's.
    sae_sweep::ResultsDir::new(args.results.folder()?, &file.name).check_owner(&file)?;
    let (array, merge) = scripts(args, &file, &xtask, &cwd)?;
    let dir = absolute(args.results.folder()?)?.join(&file.name).join("slurm");
    sae_data::create_folder(&dir)?;
    let (array_path, merge_path) = (dir.join("array.sbatch"), dir.join("merge.sbatch"));
    sae_data::write_atomic(&array_path, array.as_bytes())?;
    sae_data::write_atomic(&merge_path, merge.as_bytes())?;
    let (tasks, scripts) = (args.array, format!("{}, then {}", array_path.display(), merge_path.display()));
    match widest < runs {
        true => {
            let rungs = grid.iter().filter_map(|r| r.rung).max().map_or(1, |r| r + 1);
            let strategy = file.experiment.search.strategy.as_str();
            let search = format!("a {strategy} search, {widest} runs at the first of {rungs} rungs");
            stderr_line!("slurm: {search}; {tasks} tasks share each rung's runs: {scripts}")
        }
        false => stderr_line!("slurm: {runs} runs in {tasks} tasks: {scripts}"),
    }
    if let Some(note) = short_limit_note(&args.time) {
        stderr_line!("{note}");
    }
    if !args.submit {
        stderr_line!("slurm: submit with: {} --submit (or sbatch them yourself)", crate::invoked_command());
        return Ok(());
    }
    let array_id = sbatch(&[&array_path.display().to_string()])?;
    let merge_id = sbatch(&[&format!("--dependency=afterany:{array_id}"), &merge_path.display().to_string()])?;
    stdout_line!("array job {array_id}");
    stdout_line!("merge job {merge_id}");
    stderr_line!("slurm: watch with `squeue -j {array_id},{merge_id}`; logs in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_shard_the_grid_and_merge_after_any_ending() {
        let file = ExperimentFile {
            name: "rho".into(),
            path: "/exp/rho.toml".into(),
            experiment: sae_sweep::Experiment::from_toml("", Path::new("rho.toml")).unwrap(),
        };
        let args = SlurmArgs {
            file: file.path.clone(),
            array: 4,
            max_running: Some(2),
            partition: Some("gpu".into()),
            time: "00:30:00".into(),
            cpus_per_task: 2,
            mem: Some("2G".into()),
            extra: vec!["--account=lab".into()],
            results: ResultsArg { results: "/shared/results".into() },
            data: DataDirArg { data_dir: Some("/data/mnist".into()) },
            submit: false,
        };
        let (array, merge) = scripts(&args, &file, Path::new("/bin/xtask"), Path::new("/work")).unwrap();
        for want in [
            "#SBATCH --array=0-3%2",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --signal=B:TERM@60",
            "#SBATCH --partition=gpu",
            "#SBATCH --account=lab",
            "#SBATCH --mem=2G",
            "#SBATCH --time=00:30:00",
            "/bin/xtask sweep /exp/rho.toml --results /shared/results",
            "--data-dir /data/mnist",
            "/shared/results/rho/slurm/task-%A_%a.out",
        ] {
            assert!(array.contains(want), "{want} missing from\n{array}");
        }
        assert!(merge.contains("/bin/xtask merge /exp/rho.toml") && merge.contains("report rho"), "{merge}");
        assert!(!merge.contains("--array"));
    }

    #[cfg(unix)]
    #[test]
    fn an_awkward_path_reads_back_whole_in_bash() {
        for path in ["/work/it's a \"lab\"", "/work/$HOME`x`;*", "/work/plain"] {
            let out =
                Command::new("bash").arg("-c").arg(format!("printf %s {}", quote(path).unwrap())).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), path);
        }
    }

    #[test]
    fn time_limits_are_read_in_minutes_and_short_ones_get_a_note() {
        for (time, minutes) in [
            ("1", Some(1)),
            ("0:30", Some(1)),
            ("02:00:00", Some(120)),
            ("1-0", Some(1440)),
            ("1-2:30", Some(1590)),
            ("0-0:3:01", Some(4)),
            ("UNLIMITED", None),
            ("1:2:3:4", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(limit_minutes(time), minutes, "{time}");
        }
        let one = short_limit_note("1").unwrap();
        assert!(one.contains("--time 1: a task gets SIGTERM") && one.contains("trains for 0 to 30 s"), "{one}");
        assert!(short_limit_note("2").unwrap().contains("trains for 30 to 60 s"));
        assert_eq!(short_limit_note("00:05:00"), None);
        assert_eq!(short_limit_note("infinite"), None);
    }

    #[test]
    fn values_sbatch_would_split_are_quoted_and_the_unquotable_refused() {
        assert_eq!(sbatch_line("--time", "02:00:00").unwrap(), "#SBATCH --time=02:00:00\n");
        let spaced = "/work/a b'c/#1/task-%A.out";
        assert_eq!(sbatch_line("--output", spaced).unwrap(), format!("#SBATCH --output=\"{spaced}\"\n"));
        for bad in ["", "x\n#SBATCH --wrap=evil", "say \"hi\"", "a\rb"] {
            let err = sbatch_line("--time", bad).unwrap_err().to_string();
            assert!(err.contains("non-empty, without double quotes or line breaks"), "{bad:?}: {err}");
        }
    }
}
