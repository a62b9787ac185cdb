#!/usr/bin/env python3
"""Runs the PyTorch reference (scripts/torch_reference.py, or the script named by
--reference) with everything under `torch.autocast("cpu", dtype=torch.bfloat16)`:
PyTorch's own mixed precision (bf16 products, f32 weights and Adam), for the
side by side in bf16. Every other argument goes to the reference.

    python3 scripts/torch_autocast.py bench --hidden 256 --threads 1
    python3 scripts/torch_autocast.py --reference OTHER.py bench --hidden 256 --threads 1
"""
import argparse
import os
import runpy
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--reference", default=os.path.join(HERE, "torch_reference.py"))
    own, rest = p.parse_known_args()
    sys.argv = [own.reference] + rest
    with torch.autocast("cpu", dtype=torch.bfloat16):
        runpy.run_path(own.reference, run_name="__main__")
