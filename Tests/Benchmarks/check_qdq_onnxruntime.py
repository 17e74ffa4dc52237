#!/usr/bin/env python3
"""Checks a model written by `weakspot quantize` with ONNX Runtime, independently of WeakSpot.

Usage:
  python3 Tests/Benchmarks/check_qdq_onnxruntime.py QDQ INPUTS.npy WEAKSPOT_LOGITS.npy [--float MODEL]

QDQ: the file `weakspot quantize MODEL ... -o QDQ` wrote. INPUTS.npy: float32 inputs (already
preprocessed, as `weakspot run --data` reads them). WEAKSPOT_LOGITS.npy: `weakspot run QDQ --data
INPUTS.npy -o WEAKSPOT_LOGITS.npy`. --float MODEL: also report how far quantization moved the
logits from the float model's (ORT), so the QDQ difference can be read against it.

The QDQ file must pass onnx.checker (full check). ONNX Runtime runs it twice: with graph
optimisations disabled (QuantizeLinear/DequantizeLinear run as the ONNX operators, in float: the
definition WeakSpot follows) and with the default optimisations (ORT fuses the QDQ pattern into
integer kernels such as QLinearConv, whose requantisation rounds differently). For each it prints
max|ORT − weakspot| / max|logit| and the top-1 agreement.

When the output itself is fake-quantized (a QuantizeLinear → DequantizeLinear pair produces it, as
`quantize --activations 8` does after a final Gemm), a float difference of 1e-7 in the value before
the pair (ORT and WeakSpot sum in different orders) can move it across a rounding boundary: that
element then differs by exactly one quantization step. Differences are therefore also given in
steps of the output's scale. In a deep model every quantized activation is such a rounding, and a
flip inside the network moves the logits by a few steps (efficientnet_lite0: docs/quantization.md).

Exits 1 when, with optimisations off, the top-1 differs on an input, or an element differs by more
than 1e-4 · max|logit| from a whole number of output steps (from 0 when the output is float), or
by more than --max-steps steps (default: no limit; 1 suits a model of a few layers).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort


def run(path: str, x: np.ndarray, level) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    # One input at a time: a model exported with a fixed batch of 1 runs too.
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))]).reshape(len(x), -1)


def output_step(model: onnx.ModelProto) -> float | None:
    """The scale of the DequantizeLinear producing the graph's output, when one does (per tensor)."""
    scales = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    output = model.graph.output[0].name
    for node in model.graph.node:
        if node.output[0] == output and node.op_type == "DequantizeLinear" and node.input[1] in scales:
            scale = scales[node.input[1]]
            return float(scale) if scale.size == 1 else None
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qdq")
    parser.add_argument("inputs")
    parser.add_argument("weakspot_logits")
    parser.add_argument("--float", dest="float_model")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()

    model = onnx.load(args.qdq)
    onnx.checker.check_model(model, full_check=True)
    step = output_step(model)
    x = np.load(args.inputs).astype(np.float32)
    ours = np.load(args.weakspot_logits).reshape(len(x), -1)
    peak = float(np.abs(ours).max())
    status = 0
    for label, level in [("optimisations off", ort.GraphOptimizationLevel.ORT_DISABLE_ALL),
                         ("default optimisations", ort.GraphOptimizationLevel.ORT_ENABLE_ALL)]:
        theirs = run(args.qdq, x, level)
        ratio = float(np.abs(theirs - ours).max()) / peak
        top1 = int((theirs.argmax(1) == ours.argmax(1)).sum())
        line = f"{label}: max|ORT - weakspot| / max|logit| = {ratio:.3g} (max|logit| {peak:.4g}); top-1 equal on {top1}/{len(x)}"
        diff = theirs - ours
        steps = np.rint(diff / step) if step else np.zeros_like(diff)
        off_grid = float(np.abs(diff - steps * (step or 0)).max()) / peak
        if step:
            line += (f"; output step {step:.4g}: {int((steps != 0).sum())}/{diff.size} elements off by "
                     f"{int(np.abs(steps).max())} step(s), the rest within {off_grid:.3g}")
        print(line)
        too_many = args.max_steps is not None and np.abs(steps).max() > args.max_steps
        if label == "optimisations off" and (off_grid > 1e-4 or too_many or top1 != len(x)):
            status = 1
    if args.float_model:
        base = run(args.float_model, x, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        print(f"quantization effect: max|QDQ - float| / max|logit| = {float(np.abs(ours - base).max()) / peak:.3g}; "
              f"top-1 equal on {int((base.argmax(1) == ours.argmax(1)).sum())}/{len(x)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
