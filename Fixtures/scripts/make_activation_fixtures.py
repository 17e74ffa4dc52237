#!/usr/bin/env python3
"""Reference APoZ and mean-activation scores for WeakSpot's activation estimators.

Usage: python3 Fixtures/scripts/make_activation_fixtures.py

For each model below, every Conv's per-channel tail end (the tensor its consumers read: the
Conv output followed through single-reader per-channel ops — BatchNormalization, Relu, Clip,
per-channel constant Mul/Add... — the rule of the spec, implemented independently in
Tests/Benchmarks/compare_profile_naive.py) is added as a graph output, ONNX Runtime runs the
committed inputs, and numpy computes per channel, over all inputs and positions:
  apoz    = fraction of values exactly 0.0
  meanact = mean |value|
Output: Fixtures/activation/<model>.json {model, input, layers: {node: {tailEnd, apoz, meanact}}},
floats to 7 significant digits. Deterministic; CI never runs this.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Benchmarks"))
import compare_profile_naive as naive  # noqa: E402

OUT = ROOT / "Fixtures" / "activation"
CASES = [
    ("resnet18_bn", "Fixtures/models/resnet18_bn.onnx", "Fixtures/models/resnet18_bn.input.npy", "*"),
    ("mobilenet_v2", "Fixtures/models/mobilenet_v2.onnx", "Fixtures/models/mobilenet_v2.input.npy", "/features/features.1[0-1]/*"),
    ("efficientnet_lite0", "Fixtures/demo/efficientnet_lite0.onnx", "Fixtures/demo/images.input.npy", "/_blocks.15/*"),
]


def r7(x: float) -> float:
    return float(f"{float(x):.7g}")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, model_path, input_path, pattern in CASES:
        model = onnx.load(str(ROOT / model_path))
        graph = model.graph
        constants = naive.constant_arrays(graph)
        counts = naive.conv_channel_counts(model)
        ends = {}
        for node in graph.node:
            if node.op_type == "Conv" and fnmatch.fnmatchcase(node.name, pattern):
                ends[node.name] = naive.tail_end(graph, node, counts[node.name], constants)
        existing = {o.name for o in graph.output}
        for end in sorted(set(ends.values()) - existing):
            graph.output.append(onnx.helper.make_empty_tensor_value_info(end))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        x = np.load(ROOT / input_path).astype(np.float32)
        names = [o.name for o in session.get_outputs()]
        values = dict(zip(names, session.run(None, {session.get_inputs()[0].name: x})))
        layers = {}
        for node_name, end in ends.items():
            a = values[end]
            c = a.shape[1]
            per = np.moveaxis(a, 1, 0).reshape(c, -1).astype(np.float64)
            layers[node_name] = {
                "tailEnd": end,
                "apoz": [r7(v) for v in (per == 0).mean(axis=1)],
                "meanact": [r7(v) for v in np.abs(per).mean(axis=1)],
            }
        document = {"model": model_path, "input": input_path, "layers": layers}
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(document, sort_keys=True) + "\n")
        print(f"{path}: {len(layers)} layers, {sum(len(v['apoz']) for v in layers.values())} channels, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
