#!/usr/bin/env python3
"""PyTorch references for WeakSpot's Training module (`weakspot finetune`).

Usage: python3 Fixtures/scripts/make_training_fixtures.py

Writes Fixtures/training/:

1. optimizers.json: torch.optim.Adam, AdamW and SGD (momentum, weight decay) applied for STEPS
   steps to a seeded parameter with seeded gradients; the parameter after every step. Also
   CosineAnnealingLR's learning rate at every step (T_max = steps, eta_min = 0).
2. efficientnet_lite0_steps.json: two whole training steps of the pretrained EfficientNet-Lite0
   (Fixtures/demo, BatchNormalization kept; the torch model rebuilt from the ONNX initializers by
   make_torch_pruning_fixtures), model.train() (batch statistics, running statistics updated
   with momentum 0.1) with its Dropout in eval mode (WeakSpot trains without dropout), on the first BATCH committed demo inputs with fixed labels, mean
   cross-entropy, for Adam (lr 1e-3, weight decay 1e-4, eps 1e-5) and SGD (lr 0.01, momentum 0.9,
   weight decay 1e-4). Recorded: the loss of each step; per parameter (by ONNX initializer
   name) the sum, L1 and L2 norm and max |.| of the change (after - before), after the first step
   and after both; the running mean and variance after the two steps; a few changes in full. Every
   step is repeated in float64, and PyTorch's own float32 error against it is recorded per tensor
   (`torchFloat32Error`): parameters whose gradient cancels analytically (the BatchNorm shift
   before another training-mode BatchNorm gets a gradient that is rounding noise) and Adam's
   sign-like first update of near-zero gradients make float32 itself uncertain there.

Floats with 9 significant digits. Deterministic; CI never runs this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402
import make_torch_pruning_fixtures as tpf  # noqa: E402

OUT = fc.FIXTURES / "training"
STEPS = 5
BATCH = 4
LABELS = [281, 3, 417, 968]
FULL = ["_conv_stem.weight", "_bn0.weight", "_blocks.1._depthwise_conv.weight", "_bn1.bias", "_fc.bias"]


def r9(values) -> list:
    return [float(f"{float(v):.9g}") for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def optimizers() -> dict:
    g = torch.Generator().manual_seed(11)
    initial = torch.randn(37, generator=g)
    grads = [torch.randn(37, generator=g) * (0.1 + i) for i in range(STEPS)]
    cases = {
        "adam": (torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.05}),
        "adamw": (torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.05}),
        "sgd": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}),
        "sgdPlain": (torch.optim.SGD, {"lr": 0.05}),
    }
    out = {"initial": r9(initial), "gradients": [r9(x) for x in grads], "cases": {}}
    for key, (cls, kwargs) in cases.items():
        p = torch.nn.Parameter(initial.clone())
        opt = cls([p], foreach=False, **kwargs)
        after = []
        for grad in grads:
            p.grad = grad.clone()
            opt.step()
            after.append(r9(p.detach()))
        out["cases"][key] = {"settings": kwargs, "after": after}
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    rates = []
    for _ in range(11):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    out["cosine"] = {"base": 0.3, "totalSteps": 10, "rates": r9(rates)}
    return out


def statistics(d: np.ndarray) -> dict:
    return {"sum": r9([d.sum()])[0], "l1": r9([np.abs(d).sum()])[0], "l2": r9([np.sqrt((d * d).sum())])[0],
            "maxAbs": r9([np.abs(d).max()])[0]}


def run_steps(optimizer: str, dtype) -> tuple:
    """Two steps in `dtype`: (losses, changes after step 1, changes after step 2, buffers after, settings)."""
    fc.seed_everything(0)
    model, _, _, _ = tpf.efficientnet_lite0(False)
    model.to(dtype)
    model.train()
    # WeakSpot trains without dropout (the ONNX importer drops Dropout nodes; docs/finetune.md):
    # the reference does the same, so only BatchNorm runs in training mode.
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    x = torch.from_numpy(np.load(fc.FIXTURES / "demo/images.input.npy")[:BATCH].copy()).to(dtype)
    before = {n: p.detach().double().numpy().copy() for n, p in model.named_parameters()}
    if optimizer == "adam":
        # eps 1e-5 rather than the default 1e-8: with 1e-8, Adam's first update is lr * sign(g) for
        # every gradient above ~1e-7, so gradients that are zero up to rounding decide it by their
        # sign and no two float32 implementations agree. The update rule itself is checked at the
        # default eps in optimizers.json.
        settings = {"lr": 1e-3, "weight_decay": 1e-4, "eps": 1e-5}
        opt = torch.optim.Adam(model.parameters(), foreach=False, **settings)
    else:
        settings = {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4}
        opt = torch.optim.SGD(model.parameters(), foreach=False, **settings)
    losses, changes = [], []
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), torch.tensor(LABELS[:BATCH]))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        changes.append({n: p.detach().double().numpy() - before[n] for n, p in model.named_parameters()})
    buffers = {n: b.detach().double().numpy().copy() for n, b in model.named_buffers() if "running" in n}
    return losses, changes[0], changes[1], buffers, settings


def float32_error(a: np.ndarray, b: np.ndarray) -> float:
    """How far PyTorch's float32 statistics are from float64's, in the test's measures."""
    sa, sb = statistics(a), statistics(b)
    l1 = max(sb["l1"], 1e-30)
    return max(abs(sa["l2"] - sb["l2"]) / max(sb["l2"], 1e-30), abs(sa["l1"] - sb["l1"]) / l1, abs(sa["sum"] - sb["sum"]) / l1)


def training_steps(optimizer: str) -> dict:
    losses, first, both, buffers, settings = run_steps(optimizer, torch.float32)
    losses64, first64, both64, buffers64, _ = run_steps(optimizer, torch.float64)

    def table(changes32, changes64):
        return {n: {"shape": list(c.shape), **statistics(c), "float64": statistics(changes64[n]),
                    "torchFloat32Error": float32_error(c, changes64[n])} for n, c in changes32.items()}

    running = {}
    for n, b in buffers.items():
        peak = float(np.abs(buffers64[n]).max())
        running[n] = {"after": r9(b), "torchFloat32Error": float(np.abs(b - buffers64[n]).max()) / max(peak, 1e-30)}
    return {"model": "efficientnet_lite0", "inputs": "demo/images.input.npy", "batch": BATCH, "labels": LABELS[:BATCH],
            "optimizer": optimizer, "settings": settings, "batchNormMomentum": 0.1, "torchVersion": torch.__version__.split("+")[0],
            "losses": losses, "lossesFloat64": losses64,
            "firstStepChanges": table(first, first64), "parameterChanges": table(both, both64),
            "fullChanges": {n: r9(both[n]) for n in FULL}, "runningStatistics": running}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "optimizers.json"
    path.write_text(json.dumps(optimizers(), separators=(",", ":")) + "\n")
    print(f"wrote {fc.relative(path)}")
    data = {"adam": training_steps("adam"), "sgd": training_steps("sgd")}
    path = OUT / "efficientnet_lite0_steps.json"
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {fc.relative(path)} ({path.stat().st_size:,} bytes); losses adam {data['adam']['losses']}, sgd {data['sgd']['losses']}")


if __name__ == "__main__":
    main()
