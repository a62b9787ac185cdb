#!/usr/bin/env python3
"""sae-lab's linear probe against scikit-learn's LogisticRegression, on the same features.

Protocol (the same on both sides): fit on the first N MNIST training images,
score on the 10,000 test images. Features: raw pixels in normalised units
((b/255 - 0.5)/0.5), or with --checkpoint the sigmoid code of a sae-lab model
(a run's model.safetensors). Both standardise each feature with the fit set's
mean and standard deviation (a constant feature is only centred) and minimise
mean cross-entropy + (l2/2)·||W||², which is sklearn's objective with
C = 1/(l2·N). Prints both accuracies and their difference in points.

    pip install -r scripts/requirements.txt
    python3 scripts/compare_probe.py ../shared/data/mnist --n 20000
    python3 scripts/compare_probe.py ../shared/data/mnist --n 20000 --checkpoint results/rho/runs/<id>/model.safetensors
"""
import argparse
import gzip
import json
import os
import subprocess
import time

import numpy as np
from sklearn.linear_model import LogisticRegression


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(data_dir, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    raise SystemExit(f"{data_dir}: no {name}[.gz]")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir")
    p.add_argument("--n", type=int, default=20000, help="training images the probe is fitted on")
    p.add_argument("--checkpoint", help="a sae-lab model.safetensors: probe its code instead of the pixels")
    p.add_argument("--l2", type=float, default=1e-4, help="must match sae-core's ProbeConfig::default().l2")
    a = p.parse_args()

    cmd = ["cargo", "run", "--release", "-q", "-p", "sae-core", "--example", "probe_check", "--", a.data_dir, str(a.n)]
    if a.checkpoint:
        cmd.append(a.checkpoint)
    ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    norm = lambda b: (b.reshape(len(b), -1).astype(np.float32) / 255.0 - 0.5) / 0.5
    x_fit = norm(idx(find(a.data_dir, "train-images-idx3-ubyte"))[: a.n])
    y_fit = idx(find(a.data_dir, "train-labels-idx1-ubyte"))[: a.n]
    x_test = norm(idx(find(a.data_dir, "t10k-images-idx3-ubyte")))
    y_test = idx(find(a.data_dir, "t10k-labels-idx1-ubyte"))
    if a.checkpoint:
        from safetensors.numpy import load_file

        t = load_file(a.checkpoint)
        w, b = t["encoder.weight"], t["encoder.bias"]
        code = lambda x: 1.0 / (1.0 + np.exp(-(x @ w.T + b)))
        x_fit, x_test = code(x_fit), code(x_test)
    mean, std = x_fit.mean(0), x_fit.std(0)
    scale = np.where(std ** 2 > 1e-12, 1.0 / np.maximum(std, 1e-30), 1.0)
    x_fit, x_test = (x_fit - mean) * scale, (x_test - mean) * scale

    start = time.time()
    clf = LogisticRegression(C=1.0 / (a.l2 * a.n), max_iter=5000, tol=1e-8)
    clf.fit(x_fit, y_fit)
    seconds = time.time() - start
    theirs = float((clf.predict(x_test) == y_test).mean())
    print(f"features: {ours['features']}, fit on {a.n} training images, scored on {len(y_test)} test images")
    print(f"sae-lab probe:        {100 * ours['accuracy']:.2f}%  ({ours['fit_seconds']:.2f} s, {ours['iterations']} L-BFGS iterations, converged: {ours['converged']})")
    print(f"sklearn LogisticRegression(C=1/(l2·n)): {100 * theirs:.2f}%  ({seconds:.2f} s)")
    print(f"difference: {100 * (ours['accuracy'] - theirs):+.2f} points")


if __name__ == "__main__":
    main()
