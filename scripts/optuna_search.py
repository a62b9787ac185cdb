#!/usr/bin/env python3
"""What a user would pick instead of `cargo xtask sweep experiments/search-halving.toml`:
Optuna over the PyTorch reference model, the same search space and epoch budget.

The space of experiments/search-halving.toml: rho in {0.02, 0.05, 0.2}, beta in
{0.3, 1, 3}, Adam lr in {3e-4, 1e-3, 3e-3}, width 256, denoising (Gaussian noise
of std 1 in normalised units, fresh every batch, fixed for validation), batch 50,
50,000 training and 10,000 validation images, up to 9 epochs. Each trial reports
its validation MSE after every epoch to Optuna's successive-halving pruner
(min_resource 1, reduction factor 3); the sampler is TPE (default) or random.
The model, data split and loss are those of scripts/torch_reference.py (or of
the script named by --reference), with the sparsity penalty weighted by beta
(the reference fixes beta = 1).

    python3 scripts/optuna_search.py --trials 27 --jobs 2 --out optuna.json

Prints one line per finished trial and writes, with --out, every trial's
epochs, validation MSE and the wall time at which it ended (seconds from the
start), for scripts/search_side_by_side.py.
"""
import argparse
import importlib.util
import json
import time

import optuna
import torch
import torch.nn.functional as F

import torch_reference

RHOS, BETAS, LRS = [0.02, 0.05, 0.2], [0.3, 1.0, 3.0], [3e-4, 1e-3, 3e-3]


def reference(path):
    """The script at `path` as a module."""
    spec = importlib.util.spec_from_file_location("reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", help="another script whose SAE, load_mnist, evaluate and BATCH to use "
                   "(default: scripts/torch_reference.py)")
    p.add_argument("--data-dir", default=torch_reference.DATA_DIR, help="MNIST's IDX files (default: %(default)s)")
    p.add_argument("--trials", type=int, default=27)
    p.add_argument("--epochs", type=int, default=9)
    p.add_argument("--jobs", type=int, default=2, help="trials at once (threads), one torch thread each")
    p.add_argument("--sampler", choices=["tpe", "random"], default="tpe")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    a = p.parse_args()

    ref = reference(a.reference) if a.reference else torch_reference
    torch.set_num_threads(1)
    xtr, xval, _ = ref.load_mnist(a.data_dir, a.seed)
    val_in = xval + torch.randn(xval.shape, generator=torch.Generator().manual_seed(a.seed + 1))
    start = time.perf_counter()
    done = []

    def objective(trial):
        rho = trial.suggest_categorical("rho", RHOS)
        beta = trial.suggest_categorical("beta", BETAS)
        lr = trial.suggest_categorical("lr", LRS)
        torch.manual_seed(a.seed + trial.number)
        model = ref.SAE(256)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(a.seed + 3 + trial.number)
        val = float("inf")
        for epoch in range(1, a.epochs + 1):
            xs = xtr[torch.randperm(xtr.shape[0], generator=gen)]
            for b in range(xs.shape[0] // ref.BATCH):
                x = xs[b * ref.BATCH:(b + 1) * ref.BATCH]
                opt.zero_grad()
                h, y = model(x + torch.randn(x.shape, generator=gen))
                q = h.mean(0).clamp(1e-7, 1 - 1e-7)
                kl = (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).mean()
                (F.mse_loss(y, x) + beta * kl).backward()
                opt.step()
            val = ref.evaluate(model, val_in, xval)["mse"]
            trial.report(val, epoch)
            if trial.should_prune():
                done.append(dict(number=trial.number, params=trial.params, epochs=epoch, val_mse=val,
                                 pruned=True, ended_s=time.perf_counter() - start))
                raise optuna.TrialPruned()
        done.append(dict(number=trial.number, params=trial.params, epochs=a.epochs, val_mse=val, pruned=False,
                         ended_s=time.perf_counter() - start))
        return val

    sampler = (optuna.samplers.TPESampler(seed=a.seed) if a.sampler == "tpe"
               else optuna.samplers.RandomSampler(seed=a.seed))
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=a.trials, n_jobs=a.jobs)
    wall = time.perf_counter() - start
    for t in sorted(done, key=lambda t: t["ended_s"]):
        state = "pruned" if t["pruned"] else "complete"
        print(f"trial {t['number']:3d} {state:8s} after {t['epochs']} epochs: val MSE {t['val_mse']:.4f} "
              f"at {t['ended_s']:.0f} s {t['params']}")
    epochs = sum(t["epochs"] for t in done)
    print(f"best: val MSE {study.best_value:.4f} {study.best_params}; {epochs} epochs in {wall:.0f} s")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(dict(trials=done, wall_s=wall, epochs=epochs, best=study.best_params,
                           best_val_mse=study.best_value, torch=torch.__version__, optuna=optuna.__version__),
                      f, indent=1)


if __name__ == "__main__":
    main()
