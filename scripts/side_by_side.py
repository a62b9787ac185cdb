#!/usr/bin/env python3
"""Speed side by side: sae-lab against the PyTorch reference, on this machine, in one go.

Measures training throughput (samples/s, batch 50, data in memory) of both with the
same protocol (`seed_torch.py bench` and `cargo xtask bench`), one and two threads
per model, then both frameworks' throughput with two single-thread models running
at once (PyTorch's best use of two cores), then a whole sweep: the wall time of
`cargo xtask sweep` against the time PyTorch needs to train the same grid one
configuration after another at two threads (its measured training throughput;
its evaluation passes are not even counted).

    python3 scripts/side_by_side.py                      # all of it, about 10 minutes
    python3 scripts/side_by_side.py --repeats 3 --sweep experiments/rho.toml

Prints markdown tables (medians over repeats, with min-max spread).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
XTASK = os.path.join(ROOT, "target", "release", "xtask")


def bench(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def torch_cmd(a, hidden, threads, task="clean"):
    return [sys.executable, a.reference, "bench", "--json", "--hidden", *map(str, hidden), "--threads",
            *map(str, threads), "--steps", str(a.steps), "--task", task, "--data-dir", a.data_dir]


def ours_cmd(a, hidden, threads, task="clean"):
    return [XTASK, "bench", "--json", "--hidden", *map(str, hidden), "--threads", *map(str, threads),
            "--steps", str(a.steps), "--task", task, "--data-dir", a.data_dir]


def at_once(cmds):
    """Runs the commands at the same time; returns their results, concatenated."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in cmds]
    rows = []
    for p in procs:
        out, _ = p.communicate()
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return rows


def spread(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=os.path.join(ROOT, "..", "shared", "reference", "seed_torch.py"))
    p.add_argument("--data-dir", default=os.environ.get("SAE_DATA_DIR", os.path.join(ROOT, "..", "shared", "data", "mnist")))
    p.add_argument("--hidden", type=int, nargs="+", default=[16, 64, 256])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sweep", default=os.path.join(ROOT, "experiments", "rho.toml"))
    p.add_argument("--sweep-only", action="store_true", help="only the whole-sweep comparison")
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "xtask"], check=True, cwd=ROOT)

    both = {}
    if not a.sweep_only:
        models(a, both)
    sweep(a, both)


def models(a, both):
    print(f"## One model (batch 50, clean task, {a.steps} timed steps, {a.repeats} repeats)\n")
    print("| width | threads | PyTorch samples/s | sae-lab samples/s | ratio |")
    print("|---:|---:|---:|---:|---:|")
    torch, ours = {}, {}
    for _ in range(a.repeats):
        for r in bench(torch_cmd(a, a.hidden, [1, 2])):
            torch.setdefault((r["hidden"], r["threads"]), []).append(r["samples_per_s"])
        for r in bench(ours_cmd(a, a.hidden, [1, 2])):
            ours.setdefault((r["hidden"], r["threads"]), []).append(r["samples_per_s"])
    for key in sorted(torch):
        t, o = torch[key], ours[key]
        print(f"| {key[0]} | {key[1]} | {spread(t)} | {spread(o)} | {statistics.median(o) / statistics.median(t):.2f}× |")

    print("\n## Two single-thread models at once (denoising, width 256): combined samples/s\n")
    print("| framework | combined samples/s |")
    print("|---|---:|")
    for name, cmd in [("PyTorch", torch_cmd), ("sae-lab", ours_cmd)]:
        runs = [sum(r["samples_per_s"] for r in at_once([cmd(a, [256], [1], "denoise")] * 2)) for _ in range(a.repeats)]
        both[name] = statistics.median(runs)
        print(f"| {name} | {spread(runs)} |")
    print(f"\nratio: {both['sae-lab'] / both['PyTorch']:.2f}×")


def sweep(a, both):
    with open(a.sweep, "rb") as f:
        exp = tomllib.load(f)
    hidden = exp.get("model", {}).get("hidden", 256)
    task = {"gaussian": "denoise", "half": "half"}.get(exp.get("corruption", {}).get("kind", "none"), "clean")
    print(f"\n## Whole sweep: {os.path.relpath(a.sweep, ROOT)} (width {hidden}, {task})\n")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([XTASK, "sweep", a.sweep, "--results", tmp, "--jobs", "2", "--no-report", "--data-dir", a.data_dir],
                       check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        plan = subprocess.run([XTASK, "sweep", a.sweep, "--results", tmp, "--dry-run"], check=True, cwd=ROOT,
                              capture_output=True, text=True).stdout.splitlines()
    runs = len(plan)
    epochs = exp.get("training", {}).get("epochs", 50)
    samples = runs * epochs * exp.get("data", {}).get("train", 50_000)
    model_key = f"{task}{hidden}"
    repro_wall = None
    if model_key in ("clean16", "clean64", "clean256", "denoise256", "half256"):
        # The reference's own loop (seed_torch.py repro: train, then score the
        # validation set every epoch, then the test set), one config at two
        # threads, timed from start to end like sae-lab's sweep.
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, a.reference, "repro", "--epochs", str(epochs), "--models", model_key,
                            "--threads", "2", "--data-dir", a.data_dir, "--out", os.path.join(tmp, "r.json")],
                           check=True, stdout=subprocess.DEVNULL)
            repro_wall = (time.perf_counter() - t0) * runs
    t2 = statistics.median(r["samples_per_s"] for _ in range(a.repeats) for r in bench(torch_cmd(a, [hidden], [2], task)))
    torch_seq = samples / t2
    torch_pair = samples / both["PyTorch"] if both else None
    print("| setup | seconds | samples/s |")
    print("|---|---:|---:|")
    print(f"| sae-lab, `--jobs 2`, wall clock with every evaluation | {wall:.0f} | {samples / wall:,.0f} |")
    if repro_wall is not None:
        print(f"| PyTorch, the reference's loop (`seed_torch.py repro`, with its evaluation), one config after "
              f"another, 2 threads | {repro_wall:.0f} | {samples / repro_wall:,.0f} |")
    print(f"| PyTorch, one config after another, 2 threads (training only) | {torch_seq:.0f} | {t2:,.0f} |")
    if torch_pair:
        print(f"| PyTorch, two single-thread processes (training only) | {torch_pair:.0f} | {both['PyTorch']:,.0f} |")
    print(f"\nsae-lab is {torch_seq / wall:.2f}× the reference's way counting PyTorch's training only, "
          + (f"{repro_wall / wall:.2f}× it with its evaluation counted as ours is" if repro_wall else "")
          + (f", {torch_pair / wall:.2f}× PyTorch's best setup" if torch_pair else "")
          + f" ({runs} runs × {epochs} epochs).")


if __name__ == "__main__":
    main()
