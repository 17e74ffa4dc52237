#!/usr/bin/env python3
"""Times a training step: WeakSpot (`weakspot bench MODEL --train-step`, or `--backward` for the
gradients alone) against PyTorch on the CPU, same architecture, batch and thread count, in the
same sitting.

Usage:
  python3 Tests/Benchmarks/compare_training_step.py [--model Fixtures/models/resnet18_bn.onnx]
          [--arch resnet18] [--batch 8] [--threads 2] [--rounds 3] [--repetitions 5] [--weakspot PATH]

Default (--mode step, issue 7's "training step within 2x of PyTorch"): both sides run a whole
fine-tuning step on seeded synthetic input with labels 0 -- forward with BatchNormalization in
training mode (batch statistics, running statistics updated), softmax cross-entropy, backward to
every parameter, Adam update (lr 1e-5). WeakSpot: `FineTuner.step()`, exactly what `weakspot
finetune` runs per batch (without augmentation). PyTorch: model.train() with Dropout in eval mode
(WeakSpot trains without dropout), zero_grad + forward + loss + backward + optimizer.step().

--mode gradients: forward and the gradients of every parameter of
softmax cross-entropy against class 0 on seeded synthetic input, with BatchNormalization frozen
(PyTorch: model.eval(), so running statistics are used as WeakSpot's frozen BN does; fine-tuning a
pruned model on little data usually freezes BN). PyTorch's step is zero_grad + forward + loss +
backward (torch.set_num_threads(threads), torch.set_num_interop_threads(1)); the Adam update is
timed separately and reported, not included, since WeakSpot's bench times gradients only.
Rounds alternate the two sides so both see the same load; medians are reported and the ratio
WeakSpot / PyTorch of the medians of the rounds' medians. The weights do not matter for timing:
PyTorch uses torchvision's architecture with random weights.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time

import torch
import torchvision


def find_binary(explicit: str | None) -> str:
    if explicit:
        return explicit
    local = os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "weakspot")
    if os.path.exists(local):
        return os.path.abspath(local)
    found = shutil.which("weakspot")
    if not found:
        raise SystemExit("weakspot binary not found: build with `swift build -c release --product weakspot` or pass --weakspot")
    return found


def weakspot_ms(binary: str, model: str, batch: int, threads: int, repetitions: int, mode: str) -> float:
    flag, key = ("--train-step", "trainStepMedianMs") if mode == "step" else ("--backward", "backwardMedianMs")
    out = subprocess.run([binary, "bench", model, "--batch", str(batch), "--threads", str(threads), "--repetitions", str(repetitions),
                          "--gemm-size", "0", flag, "--format", "json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["model"]["latencies"][0][key]


def torch_ms(model: torch.nn.Module, batch: int, repetitions: int, mode: str) -> tuple[float, float]:
    """Median (forward + backward) ms and median Adam-step ms; in step mode the model trains its BatchNorm."""
    if mode == "step":
        model.train()
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.eval()
    else:
        model.eval()
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 224, 224)
    y = torch.zeros(batch, dtype=torch.long)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    times, updates = [], []
    for r in range(repetitions + 2):
        start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        middle = time.perf_counter()
        optimizer.step()
        end = time.perf_counter()
        if r >= 2:
            times.append((middle - start) * 1000)
            updates.append((end - middle) * 1000)
    return statistics.median(times), statistics.median(updates)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="Fixtures/models/resnet18_bn.onnx")
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--weakspot")
    parser.add_argument("--mode", choices=["step", "gradients"], default="step")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    binary = find_binary(args.weakspot)
    model = getattr(torchvision.models, args.arch)(weights=None)
    ws, pt, adam = [], [], []
    for r in range(args.rounds):
        ws.append(weakspot_ms(binary, args.model, args.batch, args.threads, args.repetitions, args.mode))
        t, u = torch_ms(model, args.batch, args.repetitions, args.mode)
        # Step mode: PyTorch's step includes its Adam update, as WeakSpot's does.
        pt.append(t + u if args.mode == "step" else t)
        adam.append(u)
        print(f"round {r + 1}: WeakSpot {ws[-1]:.1f} ms, PyTorch {pt[-1]:.1f} ms (of which Adam step {adam[-1]:.1f} ms)", flush=True)
    result = {
        "mode": args.mode, "model": args.model, "arch": args.arch, "batch": args.batch, "threads": args.threads,
        "weakspotMedianMs": statistics.median(ws), "pytorchMedianMs": statistics.median(pt), "pytorchAdamStepMs": statistics.median(adam),
        "ratio": statistics.median(ws) / statistics.median(pt), "torch": torch.__version__, "load": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
