#!/usr/bin/env python3
"""Parity of every fixture model against ONNX Runtime's saved outputs, with and without Winograd.

Usage:
  python3 Tests/Benchmarks/winograd_parity.py [--weakspot PATH]

For each model in Fixtures/models and Fixtures/demo that has a saved input and ONNX Runtime's
outputs beside it (MODEL.input.npy with MODEL.logits.npy or MODEL.output.npy; the demo model
reads demo/images.input.npy), runs `weakspot run MODEL --data INPUT -o OUT.npy` twice, with
`WEAKSPOT_WINOGRAD=off` (direct convolutions) and with the default (Winograd F(4x4, 3x3) on
eligible 3x3 stride-1 convolutions), and prints max |WeakSpot - ORT| / max |ORT| for each: the
parity tests' bound is 1e-4. The inputs are already preprocessed tensors, so `--preprocess raw`
plays no part (a .npy is read as is).
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def pairs() -> list[tuple[str, str, str]]:
    found = []
    for model in sorted(glob.glob(os.path.join(REPO, "Fixtures", "models", "*.onnx"))):
        stem = model[: -len(".onnx")]
        inputs = stem + ".input.npy"
        for suffix in (".logits.npy", ".output.npy"):
            if os.path.exists(inputs) and os.path.exists(stem + suffix):
                found.append((model, inputs, stem + suffix))
    demo = os.path.join(REPO, "Fixtures", "demo")
    if os.path.exists(os.path.join(demo, "efficientnet_lite0.logits.npy")):
        found.append((os.path.join(demo, "efficientnet_lite0.onnx"), os.path.join(demo, "images.input.npy"),
                      os.path.join(demo, "efficientnet_lite0.logits.npy")))
    return found


def run(binary: str, model: str, inputs: str, winograd: bool, folder: str) -> np.ndarray | None:
    out = os.path.join(folder, "logits.npy")
    env = dict(os.environ)
    if not winograd:
        env["WEAKSPOT_WINOGRAD"] = "off"
    else:
        env.pop("WEAKSPOT_WINOGRAD", None)
    done = subprocess.run([binary, "run", model, "--data", inputs, "-o", out, "--top", "1", "--threads", "2"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {os.path.basename(model)}: weakspot exit {done.returncode}: {done.stderr.strip()[:200]}")
        return None
    return np.load(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weakspot", default=os.path.join(REPO, ".build", "release", "weakspot"))
    args = parser.parse_args()
    print(f"{'model':32s} {'direct':>10s} {'winograd':>10s}   (max |WeakSpot - ORT| / max |ORT|; bound 1e-4)")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for model, inputs, expected_path in pairs():
            expected = np.load(expected_path).astype(np.float64)
            peak = float(np.abs(expected).max())
            errors = []
            for winograd in (False, True):
                got = run(args.weakspot, model, inputs, winograd, folder)
                if got is None or got.shape != expected.shape:
                    errors.append(float("nan"))
                    continue
                errors.append(float(np.abs(got.astype(np.float64) - expected).max()) / peak)
            worst = max(worst, errors[1]) if errors[1] == errors[1] else worst
            print(f"{os.path.basename(model):32s} {errors[0]:10.2e} {errors[1]:10.2e}")
    print(f"worst with Winograd: {worst:.2e}")
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
