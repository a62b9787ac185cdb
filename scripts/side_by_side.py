#!/usr/bin/env python3
"""Speed side by side: sae-lab against the PyTorch reference, on this machine, in one sitting.

Every comparison is paired (sae-lab, then PyTorch, in each repeat) and, in
bf16, PyTorch runs its own mixed precision: the reference under
`torch.autocast("cpu", dtype=torch.bfloat16)` (scripts/torch_autocast.py).

1. One model: training throughput (samples/s, batch 50, MNIST in memory,
   `torch_reference.py bench` against `cargo xtask bench`), one thread, widths
   16 to 1024, in f32 and bf16.
2. Two single-thread models at once (denoising, width 256): PyTorch's best
   use of two cores, combined samples/s.
3. A whole sweep as a whole process: `cargo xtask sweep FILE` as a user
   runs it (training, evaluation, probe, report) against the reference's own
   loop (`torch_reference.py repro`: training, validation every epoch, test) for
   every run of the grid, two single-thread processes at a time, each timed
   from start to exit.
4. One run of the reference protocol (seed-denoise.toml, 1 job, its first
   report: no cached baselines) against `torch_reference.py repro` at two threads,
   at a few epoch counts.

    python3 scripts/side_by_side.py                       # all of it, about 25 minutes on 2 cores
    python3 scripts/side_by_side.py --only sweep --repeats 1
    python3 scripts/side_by_side.py --json docs/side-by-side.json

Prints markdown tables: medians over repeats, with the min–max spread.
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
XTASK = os.path.join(ROOT, "target", "release", "xtask")
AUTOCAST = os.path.join(HERE, "torch_autocast.py")
PRECISIONS = ("f32", "bf16")


def torch_prefix(a, precision):
    """The command that runs the reference script, under autocast for bf16."""
    if precision == "f32":
        return [sys.executable, a.reference]
    return [sys.executable, AUTOCAST, "--reference", a.reference]


def json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def bench_cmds(a, hidden, task, precision):
    """sae-lab's and PyTorch's bench commands, one thread each."""
    common = ["--json", "--hidden", *map(str, hidden), "--threads", "1", "--steps", str(a.steps), "--task", task,
              "--data-dir", a.data_dir]
    ours = [XTASK, "bench", "--precision", precision, *common]
    return ours, torch_prefix(a, precision) + ["bench", *common]


def wall(cmd, **kw):
    """Seconds from start to exit of `cmd`."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def spread(values, fmt="{:,.0f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def ratio(ours, theirs):
    return statistics.median(ours) / statistics.median(theirs)


def models(a, out):
    print(f"## One model (batch 50, clean task, one thread, {a.steps} timed steps, {a.repeats} repeats)\n")
    print("| width | precision | PyTorch samples/s | sae-lab samples/s | ratio |")
    print("|---:|---|---:|---:|---:|")
    for precision in PRECISIONS:
        ours, torch = {}, {}
        for _ in range(a.repeats):
            o_cmd, t_cmd = bench_cmds(a, a.hidden, "clean", precision)
            for r in json_lines(o_cmd):
                ours.setdefault(r["hidden"], []).append(r["samples_per_s"])
            for r in json_lines(t_cmd):
                torch.setdefault(r["hidden"], []).append(r["samples_per_s"])
        for h in sorted(torch):
            print(f"| {h} | {precision} | {spread(torch[h])} | {spread(ours[h])} | {ratio(ours[h], torch[h]):.2f}× |")
            out.append({"section": "model", "hidden": h, "precision": precision, "pytorch": torch[h], "sae_lab": ours[h]})

    print("\n## Two single-thread models at once (denoising, width 256): combined samples/s\n")
    print("| precision | PyTorch | sae-lab | ratio |")
    print("|---|---:|---:|---:|")
    for precision in PRECISIONS:
        both = {"ours": [], "torch": []}
        for _ in range(a.repeats):
            for name, cmd in zip(("ours", "torch"), bench_cmds(a, [256], "denoise", precision)):
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    rows = sum(pool.map(json_lines, [cmd, cmd]), [])
                both[name].append(sum(r["samples_per_s"] for r in rows))
        print(f"| {precision} | {spread(both['torch'])} | {spread(both['ours'])} | {ratio(both['ours'], both['torch']):.2f}× |")
        out.append({"section": "pair", "precision": precision, "pytorch": both["torch"], "sae_lab": both["ours"]})


def with_keys(path, tmp, training):
    """A copy of experiment `path` in `tmp` with `training`'s keys set in its [training] section."""
    with open(path) as f:
        text = f.read()
    for key, value in training.items():
        line = f"{key} = {json.dumps(value)}"
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", line, text)
        if n == 0:
            text, n = re.subn(r"(?m)^\[training\]\s*$", f"[training]\n{line}", text)
        if n == 0:
            text += f"\n[training]\n{line}\n"
    copy = os.path.join(tmp, os.path.basename(path))
    with open(copy, "w") as f:
        f.write(text)
    return copy


def ours_sweep(a, experiment, jobs):
    """Seconds of `xtask sweep experiment` from start to exit, report included, in a fresh results folder."""
    with tempfile.TemporaryDirectory() as results:
        return wall([XTASK, "sweep", experiment, "--results", results, "--jobs", str(jobs), "--data-dir", a.data_dir],
                    cwd=ROOT)


def torch_loop(a, precision, epochs, runs, processes, threads):
    """Seconds for `runs` runs of the reference's own loop, `processes` at a time, each at `threads` threads."""
    def one(_):
        with tempfile.TemporaryDirectory() as tmp:
            return wall(torch_prefix(a, precision) + ["repro", "--epochs", str(epochs), "--models", "denoise256",
                        "--threads", str(threads), "--data-dir", a.data_dir, "--out", os.path.join(tmp, "r.json")])
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(processes) as pool:
        list(pool.map(one, range(runs)))
    return time.perf_counter() - t0


def sweep(a, out):
    with open(a.sweep, "rb") as f:
        exp = tomllib.load(f)
    epochs = exp.get("training", {}).get("epochs", 50)
    runs = len(subprocess.run([XTASK, "sweep", a.sweep, "--dry-run", "--results", tempfile.gettempdir()], check=True,
                              capture_output=True, text=True).stdout.splitlines())
    name = os.path.relpath(a.sweep, ROOT)
    print(f"\n## Whole sweep: `cargo xtask sweep {name}` ({runs} runs × {epochs} epochs), whole process\n")
    print("| precision | sae-lab, `--jobs 2`, report included (s) | PyTorch's loop, two single-thread processes (s) | ratio |")
    print("|---|---:|---:|---:|")
    for precision in PRECISIONS:
        ours, torch = [], []
        with tempfile.TemporaryDirectory() as tmp:
            experiment = with_keys(a.sweep, tmp, {"precision": precision})
            for _ in range(a.repeats):
                ours.append(ours_sweep(a, experiment, 2))
                torch.append(torch_loop(a, precision, epochs, runs, 2, 1))
        print(f"| {precision} | {spread(ours, '{:.1f}')} | {spread(torch, '{:.1f}')} | {ratio(torch, ours):.2f}× |")
        out.append({"section": "sweep", "experiment": name, "precision": precision, "pytorch_s": torch, "sae_lab_s": ours})


def one_run(a, out):
    seed = os.path.join(ROOT, "experiments", "seed-denoise.toml")
    print("\n## One run of the reference protocol (seed-denoise.toml), whole process\n")
    print("sae-lab: `cargo xtask sweep` with `--jobs 1` and its first report (baselines scored, none cached); "
          "PyTorch: `torch_reference.py repro --models denoise256 --threads 2`.\n")
    print("| epochs | sae-lab (s) | PyTorch (s) | ratio |")
    print("|---:|---:|---:|---:|")
    for epochs in a.one_run_epochs:
        ours, torch = [], []
        with tempfile.TemporaryDirectory() as tmp:
            experiment = with_keys(seed, tmp, {"epochs": epochs})
            for _ in range(a.repeats):
                ours.append(ours_sweep(a, experiment, 1))
                torch.append(torch_loop(a, "f32", epochs, 1, 1, 2))
        print(f"| {epochs} | {spread(ours, '{:.1f}')} | {spread(torch, '{:.1f}')} | {ratio(torch, ours):.2f}× |")
        out.append({"section": "one_run", "epochs": epochs, "pytorch_s": torch, "sae_lab_s": ours})


SECTIONS = {"models": models, "sweep": sweep, "one-run": one_run}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=os.path.join(HERE, "torch_reference.py"),
                   help="the PyTorch script to measure (default: the project's, %(default)s)")
    p.add_argument("--data-dir", default=os.environ.get("SAE_DATA_DIR", os.path.join(ROOT, "..", "shared", "data", "mnist")))
    p.add_argument("--hidden", type=int, nargs="+", default=[16, 64, 256, 1024])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--sweep", default=os.path.join(ROOT, "experiments", "rho.toml"))
    p.add_argument("--one-run-epochs", type=int, nargs="+", default=[1, 2, 10])
    p.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    p.add_argument("--json", help="also write every measurement here")
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "xtask"], check=True, cwd=ROOT)
    out = []
    for name in a.only:
        SECTIONS[name](a, out)
        sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date_utc": time.strftime("%Y-%m-%d", time.gmtime()), "measurements": out}, f, indent=1)


if __name__ == "__main__":
    main()
