#!/usr/bin/env python3
"""Search side by side, in one sitting on this machine: the full grid of
experiments/search-halving.toml (27 configurations x 9 epochs), sae-lab's
successive halving over the same space, and Optuna (successive-halving pruner)
over the PyTorch reference model (scripts/optuna_search.py), each as the best
validation MSE found against wall time.

    python3 scripts/search_side_by_side.py            # about 12 minutes on 2 cores
    python3 scripts/search_side_by_side.py --sampler random

Prints a markdown table: wall time, epochs trained, the best validation MSE and
the test MSE of the configuration it picks, and the wall time at which each
method first came within 1% of the grid's best validation MSE.
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
XTASK = os.path.join(ROOT, "target", "release", "xtask")
SEARCH = os.path.join(ROOT, "experiments", "search-halving.toml")


def sweep(toml_text, name, results, data_dir):
    """Runs one sae-lab sweep; returns its wall time and (ended_s, val, test, epochs trained) per run."""
    path = os.path.join(results, f"{name}.toml")
    with open(path, "w") as f:
        f.write(toml_text)
    start = time.time()
    subprocess.run([XTASK, "sweep", path, "--results", results, "--data-dir", data_dir, "--no-report"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - start
    runs = []
    folder = os.path.join(results, name)
    for row in csv.DictReader(open(os.path.join(folder, "runs.csv"))):
        if row["status"] != "ok":
            continue
        ended = os.path.getmtime(os.path.join(folder, "runs", row["run_id"], "metrics.json")) - start
        runs.append(dict(ended_s=ended, val=float(row["final_val_mse"]), test=float(row["mse"]),
                         epochs=int(row["epochs"]), label=row["label"]))
    return wall, runs


def first_within(events, target):
    """The first time at which the best value so far is within 1% of `target`."""
    best = float("inf")
    for t, v in sorted(events):
        best = min(best, v)
        if best <= target * 1.01:
            return t
    return float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data", "mnist"))
    p.add_argument("--sampler", choices=["tpe", "random"], default="tpe")
    p.add_argument("--out", help="write every measurement here as JSON")
    p.add_argument("--figure", help="draw the best validation MSE so far against wall time here (PNG; needs matplotlib)")
    p.add_argument("--from-json", help="redraw the table and figure from an earlier --out instead of measuring")
    a = p.parse_args()
    if a.from_json:
        saved = json.load(open(a.from_json))
        report(a, saved["grid"], saved["halving"], saved["optuna"], *saved["walls"])
        return
    text = open(SEARCH).read()
    grid_text = re.sub(r"\n\[search\][^\[]*", "\n", text)
    results = tempfile.mkdtemp(prefix="search-sbs-")
    try:
        grid_wall, grid = sweep(grid_text, "grid", results, a.data_dir)
        halving_wall, halving = sweep(text, "halving", results, a.data_dir)
        optuna_json = os.path.join(results, "optuna.json")
        subprocess.run([sys.executable, os.path.join(HERE, "optuna_search.py"), "--data-dir", a.data_dir,
                        "--sampler", a.sampler, "--jobs", "2", "--out", optuna_json], check=True,
                       stdout=subprocess.DEVNULL)
        optuna = json.load(open(optuna_json))
    finally:
        shutil.rmtree(results, ignore_errors=True)
    report(a, grid, halving, optuna, grid_wall, halving_wall)


def best_so_far(events):
    """(time, best value so far) at each event, in time order."""
    best, out = float("inf"), []
    for t, v in sorted(events):
        best = min(best, v)
        out.append((t, best))
    return out


def draw(path, curves, target):
    """Draws the best validation MSE so far of each method against wall time into `path`, if matplotlib is here."""
    try:
        import matplotlib
    except ImportError:
        print(f"\nno figure: matplotlib is not installed (pip install -r scripts/requirements.txt); {path} not written")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for name, events in curves:
        points = best_so_far(events)
        ax.step([t for t, _ in points], [v for _, v in points], where="post", label=name, marker=".")
    ax.axhline(target * 1.01, color="grey", linestyle=":", label="within 1% of the grid's best")
    ax.set_xlabel("wall time (s), two trials at a time on 2 cores")
    ax.set_ylabel("best validation MSE so far")
    ax.set_ylim(target * 0.98, target * 1.25)
    ax.legend()
    ax.set_title("Searching search-halving.toml's 27 configurations")
    fig.tight_layout()
    fig.savefig(path)


def report(a, grid, halving, optuna, grid_wall, halving_wall):
    best_grid = min(grid, key=lambda r: r["val"])
    target = best_grid["val"]
    finals = [r for r in halving if r["epochs"] == max(x["epochs"] for x in halving)]
    best_halving = min(finals, key=lambda r: r["val"])
    # A continued rung trains only its new epochs: the search's epochs are the
    # last rung's of each trial.
    last = {}
    for r in halving:
        key = re.sub(r"-e\d+$", "", r["label"])
        last[key] = max(last.get(key, 0), r["epochs"])
    halving_epochs = sum(last.values())
    grid_events = [(r["ended_s"], r["val"]) for r in grid]
    halving_events = [(r["ended_s"], r["val"]) for r in finals]
    optuna_events = [(t["ended_s"], t["val_mse"]) for t in optuna["trials"] if not t["pruned"]]
    rows = [
        ("sae-lab, full grid", grid_wall, sum(r["epochs"] for r in grid), target, best_grid["test"],
         first_within(grid_events, target)),
        ("sae-lab, halving (η = 3)", halving_wall, halving_epochs, best_halving["val"], best_halving["test"],
         first_within(halving_events, target)),
        (f"Optuna {a.sampler} + pruner, PyTorch", optuna["wall_s"], optuna["epochs"], optuna["best_val_mse"],
         float("nan"), first_within(optuna_events, target)),
    ]
    print("| method | wall time (s) | epochs | best validation MSE | its test MSE | within 1% of the grid's best at (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, wall, epochs, val, test, at in rows:
        print(f"| {name} | {wall:.0f} | {epochs} | {val:.4f} | {test:.4f} | {at:.0f} |")
    print(f"\ngrid's best: {best_grid['label']}; halving's: {best_halving['label']}; Optuna's: {optuna['best']}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(grid=grid, halving=halving, optuna=optuna, rows=rows, walls=[grid_wall, halving_wall]), f,
                      indent=1)
    if a.figure:
        draw(a.figure, [("sae-lab, full grid", grid_events), ("sae-lab, halving", halving_events),
                        ("Optuna + PyTorch", optuna_events)], target)


if __name__ == "__main__":
    main()
