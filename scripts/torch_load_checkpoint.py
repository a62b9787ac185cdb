#!/usr/bin/env python3
"""Loads a sae-lab checkpoint into the PyTorch reference's SAE module
(scripts/torch_reference.py) and scores it.

    pip install -r scripts/requirements.txt
    python3 scripts/torch_load_checkpoint.py results/seed-clean/runs/h256-080e7a53

Prints the clean test MSE that PyTorch computes with sae-lab's weights beside the
one sae-lab stored (for runs without corruption they agree to float precision).
"""
import argparse
import json
import os

import torch
from safetensors.torch import load_file

from torch_reference import DATA_DIR, SAE, load_mnist


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="a run folder holding model.safetensors and metrics.json")
    p.add_argument("--data-dir", default=DATA_DIR, help="MNIST's IDX files (default: %(default)s)")
    a = p.parse_args()

    state = load_file(os.path.join(a.run, "model.safetensors"))
    model = SAE(state["encoder.weight"].shape[0])
    model.load_state_dict(state)
    _, _, test = load_mnist(a.data_dir, 0)
    with torch.no_grad():
        _, y = model(test)
    with open(os.path.join(a.run, "metrics.json")) as f:
        ours = json.load(f)["test"]["mse"]
    print(f"test MSE, PyTorch with the sae-lab weights: {((y - test) ** 2).mean().item():.6f}")
    print(f"test MSE, as sae-lab scored it:             {ours:.6f}")


if __name__ == "__main__":
    main()
