#!/usr/bin/env python3
"""Side-by-side fidelity table: sae-lab's seed experiments against the PyTorch reference.

Reads results/seed-{clean,denoise,half}/ (curve.csv and metrics.json of each run)
and the JSON that `scripts/torch_reference.py repro --out FILE` writes, and prints
a markdown table of validation MSE at chosen epochs and the final test metrics.

    python3 scripts/torch_reference.py repro --epochs 50 --threads 1 --out repro.json
    cargo xtask sweep experiments/seed-clean.toml   # and seed-denoise, seed-half
    python3 scripts/compare_reference.py repro.json --epochs 1 10 50
"""
import argparse
import csv
import glob
import json
import os
import tomllib

# reference model key -> (experiment folder, hidden width)
MODELS = {"clean16": ("seed-clean", 16), "clean64": ("seed-clean", 64), "clean256": ("seed-clean", 256),
          "denoise256": ("seed-denoise", 256), "half256": ("seed-half", 256)}


def ours(results, experiment, hidden):
    for run in sorted(glob.glob(os.path.join(results, experiment, "runs", "*"))):
        with open(os.path.join(run, "config.toml"), "rb") as f:
            if tomllib.load(f)["model"]["hidden"] != hidden:
                continue
        with open(os.path.join(run, "curve.csv")) as f:
            curve = {int(r["epoch"]): r for r in csv.DictReader(f)}
        with open(os.path.join(run, "metrics.json")) as f:
            return curve, json.load(f)
    return None, None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", help="JSON written by torch_reference.py repro --out")
    p.add_argument("--results", default="results")
    p.add_argument("--epochs", type=int, nargs="+", default=[1, 10, 50])
    a = p.parse_args()
    with open(a.reference) as f:
        ref = {r["model"]: r for r in json.load(f)}
    print("| model | epoch | val MSE, sae-lab | val MSE, PyTorch | difference |")
    print("|---|---:|---:|---:|---:|")
    finals = []
    for key, (experiment, hidden) in MODELS.items():
        curve, metrics = ours(a.results, experiment, hidden)
        if key not in ref or curve is None:
            continue
        hist = {h["epoch"]: h for h in ref[key]["history"]}
        for e in a.epochs:
            if e in hist and e in curve:
                mine, theirs = float(curve[e]["val_mse"]), hist[e]["val_mse"]
                print(f"| {key} | {e} | {mine:.4f} | {theirs:.4f} | {100 * (mine - theirs) / theirs:+.1f}% |")
        t = ref[key]["test"]
        finals.append((key, metrics["test"], t))
    print()
    print("| model | test MSE, sae-lab | test MSE, PyTorch | PSNR dB (mean per image), sae-lab | PyTorch | "
          "active units/image, sae-lab | PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key, m, t in finals:
        print(f"| {key} | {m['mse']:.4f} | {t['mse']:.4f} | {m['psnr_db']:.2f} | {t['psnr_img_mean_db']:.2f} | "
              f"{m['active_per_image']:.2f} | {t['active_units']:.2f} |")


if __name__ == "__main__":
    main()
