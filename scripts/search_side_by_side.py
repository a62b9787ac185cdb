#!/usr/bin/env python3
"""Search side by side, in one sitting on this machine: the full grid of
experiments/search-halving.toml (27 configurations x 9 epochs), sae-lab's
successive halving and asynchronous halving (ASHA) over the same space, and
Optuna (successive-halving pruner)
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
        if "searches" not in saved:  # saved before ASHA was measured beside halving
            saved["searches"] = {"halving": saved["halving"]}
            saved["walls"] = dict(zip(["grid", "halving"], saved["walls"]))
        report(a, saved["grid"], saved["searches"], saved["optuna"], saved["walls"])
        return
    text = open(SEARCH).read()
    grid_text = re.sub(r"\n\[search\][^\[]*", "\n", text)
    results = tempfile.mkdtemp(prefix="search-sbs-")
    try:
        walls, searches = {}, {}
        walls["grid"], grid = sweep(grid_text, "grid", results, a.data_dir)
        walls["halving"], searches["halving"] = sweep(text, "halving", results, a.data_dir)
        asha_text = text.replace('strategy = "halving"', 'strategy = "asha"')
        walls["asha"], searches["asha"] = sweep(asha_text, "asha", results, a.data_dir)
        optuna_json = os.path.join(results, "optuna.json")
        subprocess.run([sys.executable, os.path.join(HERE, "optuna_search.py"), "--data-dir", a.data_dir,
                        "--sampler", a.sampler, "--jobs", "2", "--out", optuna_json], check=True,
                       stdout=subprocess.DEVNULL)
        optuna = json.load(open(optuna_json))
    finally:
        shutil.rmtree(results, ignore_errors=True)
    report(a, grid, searches, optuna, walls)


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


def search_row(name, runs, wall, target):
    """A search's row: its wall time, the epochs it trained (a continued rung
    trains only its new epochs: the last rung's of each trial), the best of
    its last rung and when the best so far came within 1% of `target`."""
    finals = [r for r in runs if r["epochs"] == max(x["epochs"] for x in runs)]
    best = min(finals, key=lambda r: r["val"])
    last = {}
    for r in runs:
        key = re.sub(r"-e\d+$", "", r["label"])
        last[key] = max(last.get(key, 0), r["epochs"])
    events = [(r["ended_s"], r["val"]) for r in finals]
    return (name, wall, sum(last.values()), best["val"], best["test"], first_within(events, target)), best, events


def report(a, grid, searches, optuna, walls):
    best_grid = min(grid, key=lambda r: r["val"])
    target = best_grid["val"]
    grid_events = [(r["ended_s"], r["val"]) for r in grid]
    optuna_events = [(t["ended_s"], t["val_mse"]) for t in optuna["trials"] if not t["pruned"]]
    names = {"halving": "halving (η = 3)", "asha": "asynchronous halving (ASHA, η = 3)"}
    found = {k: search_row(f"sae-lab, {names[k]}", runs, walls[k], target) for k, runs in searches.items()}
    rows = [("sae-lab, full grid", walls["grid"], sum(r["epochs"] for r in grid), target, best_grid["test"],
             first_within(grid_events, target))]
    rows += [row for row, _, _ in found.values()]
    rows.append((f"Optuna {a.sampler} + pruner, PyTorch", optuna["wall_s"], optuna["epochs"], optuna["best_val_mse"],
                 float("nan"), first_within(optuna_events, target)))
    print("| method | wall time (s) | epochs | best validation MSE | its test MSE | within 1% of the grid's best at (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, wall, epochs, val, test, at in rows:
        print(f"| {name} | {wall:.0f} | {epochs} | {val:.4f} | {test:.4f} | {at:.0f} |")
    picks = "; ".join(f"{k}'s: {best['label']}" for k, (_, best, _) in found.items())
    print(f"\ngrid's best: {best_grid['label']}; {picks}; Optuna's: {optuna['best']}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(grid=grid, searches=searches, optuna=optuna, rows=rows, walls=walls), f, indent=1)
    if a.figure:
        curves = [("sae-lab, full grid", grid_events)] + [(f"sae-lab, {k}", ev) for k, (_, _, ev) in found.items()]
        draw(a.figure, curves + [("Optuna + PyTorch", optuna_events)], target)


if __name__ == "__main__":
    main()
