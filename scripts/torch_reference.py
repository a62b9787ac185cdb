#!/usr/bin/env python3
"""sae-lab's PyTorch reference: the public notebook's sparse autoencoder on
MNIST, the protocol every PyTorch figure of the project is measured against.

Protocol:
  images: bytes b -> (b/255 - 0.5)/0.5 in [-1, 1], 784 values each; the 60,000
    training images split by numpy's RandomState(seed).permutation: the first
    10,000 are validation, the other 50,000 training.
  model: code = sigmoid(Linear(784, H)(input)), output = tanh(Linear(H, 784)(code)),
    nn.Linear's default initialisation after torch.manual_seed(seed).
  loss: MSE(output, clean) + mean over units of -rho*log(q) - (1-rho)*log(1-q),
    q the batch's mean code, rho = 0.05, beta = 1 (KL(rho||q) plus the constant
    entropy of rho, as the notebook logs it).
  training: Adam (lr 1e-4, no weight decay), batch 50, the training images
    reshuffled every epoch.
  tasks: clean (input = target); denoise (input = clean + N(0, 1), fresh noise
    every step, fixed noise for validation and test); half (the left 14 columns
    of the input set to 0, mid grey).
  validation MSE: squared error summed over the 10,000 validation images,
    divided by 10,000 x 784.

Random streams, so that a run is redone bit for bit: the split (numpy, seed);
the weights, then the training noise (torch's global stream, seed); the
validation noise (seed + 1); the test noise (seed + 2); the epoch orders
(seed + 3). bench draws its synthetic images and its one shuffle from a
generator of its own (seed).

Subcommands:
  repro  trains each model; per epoch the training loss, validation MSE and
         active units; then test MSE, PSNR (on [0, 1]) and active units; --out
         writes them as JSON (a list, one object per model)
  bench  training samples/s, the images in memory, warm-up steps then timed
         steps; --json prints one object per measurement
  sgemm  torch.mm GFLOP/s, at 2048^3 and at the five products of a batch-50 step

    pip install -r scripts/requirements.txt
    python3 scripts/torch_reference.py repro --epochs 50 --threads 1 --out repro.json
    python3 scripts/torch_reference.py repro --epochs 1 --models clean16 --limit 500
    python3 scripts/torch_reference.py bench --hidden 16 64 256 --threads 1 2 --json
    python3 scripts/torch_reference.py sgemm --threads 1

The MNIST folder (IDX files, raw or .gz) is --data-dir, else SAE_DATA_DIR,
else ./data/mnist (where `cargo xtask fetch-data` puts it), else
../shared/data/mnist beside the checkout. Other scripts import this file for
SAE, load_mnist, evaluate, BATCH and DATA_DIR.
"""
import argparse
import gzip
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = 784
BATCH = 50
LR = 1e-4
RHO = 0.05
VALIDATION = 10_000
BENCH_IMAGES = 50_000
EVAL_CHUNK = 2000
MODELS = {"clean16": ("clean", 16), "clean64": ("clean", 64), "clean256": ("clean", 256),
          "denoise256": ("denoise", 256), "half256": ("half", 256)}
TASKS = ("clean", "denoise", "half")


def default_data_dir():
    """SAE_DATA_DIR, else the checkout's data/mnist if it exists, else ../shared/data/mnist beside it."""
    if "SAE_DATA_DIR" in os.environ:
        return os.environ["SAE_DATA_DIR"]
    local = os.path.join(ROOT, "data", "mnist")
    return local if os.path.isdir(local) else os.path.join(ROOT, "..", "shared", "data", "mnist")


DATA_DIR = default_data_dir()


# ----------------------------------------------------------------------------- data

def read_images(data_dir, name):
    """The images of IDX file `name` (raw or .gz) in `data_dir`, one row of bytes each."""
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    magic, count, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 2051:
        raise SystemExit(f"{path}: magic number {magic}, expected 2051 (IDX images)")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(int(count), int(rows) * int(cols))


def to_unit_range(pixels):
    """Bytes to [-1, 1]: torchvision's ToTensor then Normalize((0.5,), (0.5,))."""
    return (torch.from_numpy(pixels.astype(np.float32)) / 255.0 - 0.5) / 0.5


def load_mnist(data_dir, seed):
    """(training, validation, test) images in [-1, 1]; the split is numpy's permutation of `seed`."""
    train = read_images(data_dir, "train-images-idx3-ubyte")
    order = np.random.RandomState(seed).permutation(len(train))
    test = read_images(data_dir, "t10k-images-idx3-ubyte")
    return to_unit_range(train[order[VALIDATION:]]), to_unit_range(train[order[:VALIDATION]]), to_unit_range(test)


def corrupt(task, clean, generator=None):
    """The model's input for `clean` images [N, 784]: themselves (clean), plus N(0, 1) noise
    (denoise: from `generator` if given, for the fixed validation and test noise, else from
    torch's global stream, fresh every training step), or their left half set to 0 (half)."""
    if task == "clean":
        return clean
    if task == "denoise":
        noise = torch.randn_like(clean) if generator is None else torch.randn(clean.shape, generator=generator)
        return clean + noise.to(clean.device)
    if task == "half":
        occluded = clean.clone()
        occluded.view(-1, 28, 28)[:, :, :14] = 0.0
        return occluded
    raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")


# ----------------------------------------------------------------------------- model

class SAE(nn.Module):
    """The notebook's autoencoder; its parameter names are those of sae-lab's checkpoints."""

    def __init__(self, hidden):
        super().__init__()
        self.encoder = nn.Linear(IMAGE, hidden)
        self.decoder = nn.Linear(hidden, IMAGE)

    def forward(self, x):
        """(code [N, H] in (0, 1), reconstruction [N, 784] in (-1, 1)) of inputs x [N, 784]."""
        code = torch.sigmoid(self.encoder(x))
        return code, torch.tanh(self.decoder(code))


def sparsity_penalty(code, rho=RHO):
    """Mean over units of -rho*log(q) - (1-rho)*log(1-q), q the batch's mean code."""
    q = code.mean(0)
    return (-rho * torch.log(q) - (1 - rho) * torch.log(1 - q)).mean()


def new_model(hidden, seed, device):
    """A freshly initialised model (torch's global stream seeded with `seed`) and its Adam."""
    torch.manual_seed(seed)
    model = SAE(hidden).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=LR, weight_decay=0)


def train_step(model, optimiser, inputs, target):
    """One Adam step on a batch; returns the loss tensor."""
    optimiser.zero_grad()
    code, output = model(inputs)
    loss = F.mse_loss(output, target) + sparsity_penalty(code)
    loss.backward()
    optimiser.step()
    return loss


@torch.no_grad()
def evaluate(model, inputs, clean):
    """MSE against `clean`, MSE and PSNR on [0, 1], mean per-image PSNR and active units (code > 0.5) per image."""
    sse = sse01 = active = 0.0
    psnr = []
    for start in range(0, len(inputs), EVAL_CHUNK):
        code, output = model(inputs[start:start + EVAL_CHUNK])
        target = clean[start:start + EVAL_CHUNK]
        sse += ((output - target) ** 2).sum().item()
        active += (code > 0.5).sum().item()
        se01 = (((output + 1) / 2).clamp(0, 1) - (target + 1) / 2) ** 2
        sse01 += se01.sum().item()
        psnr.append(10 * torch.log10(1.0 / se01.mean(1).clamp_min(1e-12)))
    mse01 = sse01 / (len(inputs) * IMAGE)
    return dict(mse=sse / (len(inputs) * IMAGE), mse01=mse01, psnr_db=10 * math.log10(1.0 / mse01),
                psnr_img_mean_db=torch.cat(psnr).mean().item(), active_units=active / len(inputs))


# ----------------------------------------------------------------------------- repro

def train_epoch(model, optimiser, task, train, order):
    """One pass over `train` in `order`, batch by batch; returns the mean training loss."""
    shuffled = train[order]
    batches = len(shuffled) // BATCH
    total = 0.0
    for b in range(batches):
        clean = shuffled[b * BATCH:(b + 1) * BATCH]
        total += train_step(model, optimiser, corrupt(task, clean), clean).item()
    return total / batches


def run_model(key, args, train, val, test):
    """Trains model `key` for args.epochs epochs, validating after each; returns its record."""
    task, hidden = MODELS[key]
    model, optimiser = new_model(hidden, args.seed, train.device)
    val_in = corrupt(task, val, torch.Generator().manual_seed(args.seed + 1))
    test_in = corrupt(task, test, torch.Generator().manual_seed(args.seed + 2))
    orders = torch.Generator().manual_seed(args.seed + 3)
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(train), generator=orders).to(train.device)
        loss = train_epoch(model, optimiser, task, train, order)
        seconds = time.perf_counter() - start
        scores = evaluate(model, val_in, val)
        history.append(dict(epoch=epoch, train_loss=loss, val_mse=scores["mse"], val_active=scores["active_units"],
                            train_seconds=seconds))
        print(f"[{key}] epoch {epoch:3d} train_loss {loss:.5f} val_mse {scores['mse']:.5f} "
              f"val_active {scores['active_units']:.2f} ({seconds:.2f}s)", flush=True)
    scores = evaluate(model, test_in, test)
    print(f"[{key}] TEST mse {scores['mse']:.5f} psnr {scores['psnr_db']:.2f} dB (mean per-image "
          f"{scores['psnr_img_mean_db']:.2f} dB) active_units {scores['active_units']:.2f}", flush=True)
    return dict(model=key, task=task, hidden=hidden, epochs=args.epochs, history=history, test=scores,
                sec_per_epoch_median=statistics.median(h["train_seconds"] for h in history))


def summary(records):
    """The last epoch's validation MSE and the test scores of every model, one line each."""
    print("\nSUMMARY (val MSE at last epoch; test PSNR on [0,1]; active units = mean #h>0.5 per test image)")
    for r in records:
        last = r["history"][-1]
        print(f"  {r['model']:11s} val_mse@{last['epoch']} {last['val_mse']:.4f}  "
              f"test_psnr {r['test']['psnr_db']:.2f} dB  active {r['test']['active_units']:.2f}  "
              f"{r['sec_per_epoch_median']:.2f} s/epoch")


def repro(args):
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    train, val, test = (t.to(device) for t in load_mnist(args.data_dir, args.seed))
    train = train[:args.limit]
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} train {tuple(train.shape)} "
          f"val {tuple(val.shape)} test {tuple(test.shape)}", flush=True)
    records = []
    for key in args.models:
        records.append(run_model(key, args, train, val, test))
        if args.out:
            with open(args.out, "w") as f:
                json.dump(records, f, indent=1)
    summary(records)


# ----------------------------------------------------------------------------- bench

def bench_images(args, device):
    """The 50,000 training images (or uniform noise in [-1, 1]), shuffled once, on `device`."""
    generator = torch.Generator().manual_seed(args.seed)
    if args.random_data:
        images = torch.rand(BENCH_IMAGES, IMAGE, generator=generator) * 2 - 1
    else:
        images = load_mnist(args.data_dir, args.seed)[0]
    return images[torch.randperm(len(images), generator=generator)].contiguous().to(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_steps(model, optimiser, task, images, steps):
    """`steps` training steps over consecutive batches of `images`, from the first, wrapping round."""
    batches = len(images) // BATCH
    for i in range(steps):
        clean = images[(i % batches) * BATCH:(i % batches + 1) * BATCH]
        train_step(model, optimiser, corrupt(task, clean), clean)


def time_training(args, images, hidden, device):
    """Seconds taken by args.steps timed steps of a fresh model, after args.warmup untimed ones."""
    model, optimiser = new_model(hidden, args.seed, device)
    run_steps(model, optimiser, args.task, images, args.warmup)
    synchronize(device)
    start = time.perf_counter()
    run_steps(model, optimiser, args.task, images, args.steps)
    synchronize(device)
    return time.perf_counter() - start


def bench(args):
    device = torch.device(args.device)
    images = bench_images(args, device)
    for rep in range(args.repeats):
        for hidden in args.hidden:
            for threads in args.threads:
                torch.set_num_threads(threads)
                seconds = time_training(args, images, hidden, device)
                r = dict(framework="torch", device=args.device, task=args.task, hidden=hidden, threads=threads,
                         rep=rep, steps=args.steps, seconds=seconds, samples_per_s=args.steps * BATCH / seconds,
                         us_per_step=seconds / args.steps * 1e6)
                print(json.dumps(r) if args.json else
                      f"torch H={hidden:4d} threads={threads} rep={rep}: {r['samples_per_s']:10.0f} samples/s "
                      f"({r['us_per_step']:.1f} us/step)", flush=True)


# ----------------------------------------------------------------------------- sgemm

def gemm_shapes(hidden):
    """(name, m, k, n, a transposed, b transposed) of the peak shape and of a batch-50 step's products."""
    return [("peak 2048x2048x2048", 2048, 2048, 2048, False, False),
            (f"enc fwd   X[{BATCH}x784]@W1^T[784x{hidden}]", BATCH, IMAGE, hidden, False, True),
            (f"dec fwd   h[{BATCH}x{hidden}]@W2^T[{hidden}x784]", BATCH, hidden, IMAGE, False, True),
            (f"dec dW2   dY^T[784x{BATCH}]@h[{BATCH}x{hidden}]", IMAGE, BATCH, hidden, True, False),
            (f"dec dh    dY[{BATCH}x784]@W2[784x{hidden}]", BATCH, IMAGE, hidden, False, False),
            (f"enc dW1   dZ^T[{hidden}x{BATCH}]@X[{BATCH}x784]", hidden, BATCH, IMAGE, True, False)]


def seconds_per_product(a, b, min_time):
    """Mean seconds of torch.mm(a, b) over at least 5 calls and `min_time` seconds, after 3 untimed."""
    out = torch.empty(a.shape[0], b.shape[1])
    for _ in range(3):
        torch.mm(a, b, out=out)
    calls, start = 0, time.perf_counter()
    while True:
        torch.mm(a, b, out=out)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and calls >= 5:
            return elapsed / calls


def sgemm(args):
    torch.manual_seed(0)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, m, k, n, ta, tb in gemm_shapes(args.gemm_hidden):
            a = torch.randn(k, m).t() if ta else torch.randn(m, k)
            b = torch.randn(n, k).t() if tb else torch.randn(k, n)
            seconds = seconds_per_product(a, b, args.min_time)
            gflops = 2 * m * n * k / seconds / 1e9
            r = dict(threads=threads, shape=name, m=m, k=k, n=n, us=seconds * 1e6, gflops=gflops)
            print(json.dumps(r) if args.json else
                  f"threads={threads} {name:40s} {seconds * 1e6:10.1f} us  {gflops:7.1f} GFLOP/s", flush=True)


# ----------------------------------------------------------------------------- command line

def at_least(lowest):
    """An argparse type: an integer no smaller than `lowest`."""
    def parse(text):
        value = int(text)
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{value} is below {lowest}")
        return value
    return parse


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", default=DATA_DIR, help="MNIST's IDX files (default: %(default)s)")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")

    r = sub.add_parser("repro", parents=[data], help="the reproduction: validation MSE per epoch, test scores")
    r.add_argument("--epochs", type=at_least(1), default=50)
    r.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    r.add_argument("--threads", type=at_least(1), default=1, help="torch threads")
    r.add_argument("--limit", type=at_least(BATCH), help="train on the first LIMIT training images only "
                   "(a quick check; validation and test stay whole)")
    r.add_argument("--out", help="write the results here as JSON (rewritten after each model)")

    b = sub.add_parser("bench", parents=[data], help="training throughput, images in memory")
    b.add_argument("--hidden", type=at_least(1), nargs="+", default=[16, 64, 256])
    b.add_argument("--threads", type=at_least(1), nargs="+", default=[1, 2])
    b.add_argument("--steps", type=at_least(1), default=2000)
    b.add_argument("--warmup", type=at_least(0), default=200)
    b.add_argument("--repeats", type=at_least(1), default=1)
    b.add_argument("--task", choices=TASKS, default="clean")
    b.add_argument("--random-data", action="store_true", help="uniform noise in [-1, 1] instead of MNIST")
    b.add_argument("--json", action="store_true", help="one JSON object per measurement")

    s = sub.add_parser("sgemm", help="matrix-product GFLOP/s on the CPU")
    s.add_argument("--threads", type=at_least(1), nargs="+", default=[1, 2])
    s.add_argument("--gemm-hidden", type=at_least(1), default=256)
    s.add_argument("--min-time", type=float, default=1.0, help="seconds each shape is timed for, at least")
    s.add_argument("--json", action="store_true", help="one JSON object per measurement")
    return p


def main():
    args = parser().parse_args()
    {"repro": repro, "bench": bench, "sgemm": sgemm}[args.command](args)


if __name__ == "__main__":
    main()
