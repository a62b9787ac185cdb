#!/usr/bin/env python3
"""Runs the PyTorch reference (../shared/reference/seed_torch.py) with everything
under `torch.autocast("cpu", dtype=torch.bfloat16)`: PyTorch's own mixed
precision (bf16 products, f32 weights and Adam), for the side by side in bf16.

    python3 scripts/torch_autocast.py ../shared/reference/seed_torch.py bench --hidden 256 --threads 1
"""
import runpy
import sys

import torch

if __name__ == "__main__":
    reference = sys.argv[1]
    sys.argv = [reference] + sys.argv[2:]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        runpy.run_path(reference, run_name="__main__")
