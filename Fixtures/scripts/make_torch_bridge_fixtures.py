#!/usr/bin/env python3
"""A tiny PyTorch CNN exported by both torch.onnx.export paths, for the ONNX -> nn.Module name
mapping of `weakspot plan --export-torch` (Tests/PlanningTests/TorchExportTests.swift).

Usage: python3 Fixtures/scripts/make_torch_bridge_fixtures.py

The model has what the mapping must get right: nested Sequentials (`features.1.conv.0.0`, as
torchvision's MobileNetV2), a residual block whose two convolutions share a group, a depthwise
convolution, BatchNormalization after every convolution (its running statistics made non-trivial
by training-mode passes, so folding it changes the weights) and a Linear classifier.

Writes Fixtures/torch_bridge/:
- tiny_torchscript.onnx: `dynamo=False`, opset 17, BN folded into the convolutions, so the
  folded weights are `onnx::Conv_N` and only the node names (`/features/features.1/.../Conv`)
  name the modules;
- tiny_dynamo.onnx: `dynamo=True` (BN folded by its optimizer; weights keep their state-dict
  names, node names are `node_Conv_N`; the `pkg.torch.onnx.stack_trace` metadata removed);
- tiny_renamed.onnx: tiny_torchscript.onnx with every node renamed `n0, n1, …`: nothing names
  a module any more, the refusal case;
- modules.json: for each export, ONNX Conv/Gemm node name -> the module path, found here
  independently of WeakSpot's rule: the k-th Conv/Gemm node of the export is the k-th
  Conv2d/Linear module the forward pass calls (recorded by forward hooks), and the script asserts
  that the node's weight shape equals that module's;
- input.npy (2,3,16,16) float32, and each export's ORT logits equal the module's (asserted).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "torch_bridge"


def conv_bn(cin, cout, k=3, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class Inverted(nn.Module):
    """MobileNetV2's layout: `conv.0.0` expand, `conv.1.0` depthwise, `conv.2` project."""

    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.conv = nn.Sequential(conv_bn(cin, hidden, 1), conv_bn(hidden, hidden, 3, groups=hidden),
                                  nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.conv(x)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8), Residual(8), Inverted(8, 16, 12), conv_bn(12, 16, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(16, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def build() -> Tiny:
    torch.manual_seed(0)
    model = Tiny()
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, 16, 16) * 2 + 0.5)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model.eval()


def call_order(model, x):
    """Module paths of the Conv2d/Linear modules in the order the forward pass calls them."""
    names = {m: n for n, m in model.named_modules()}
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(names[m]))
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return order


def expected_modules(model, path, order):
    g = onnx.load(path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    alias = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity"}
    layers = [n for n in g.node if n.op_type in ("Conv", "Gemm")]
    assert len(layers) == len(order), (path, len(layers), len(order))
    modules = dict(model.named_modules())
    result = {}
    for node, name in zip(layers, order):
        w = node.input[1]
        while w in alias:
            w = alias[w]
        assert tuple(inits[w].shape) == tuple(modules[name].weight.shape), (path, node.name, name)
        result[node.name] = name
    return result


def check_ort(model, path, x):
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    diff = float(np.abs(got - expected).max())
    assert diff <= 1e-4 * float(np.abs(expected).max()), (path, diff)
    return diff


def main():
    OUT.mkdir(exist_ok=True)
    model = build()
    x = (np.random.default_rng(0).standard_normal((2, 3, 16, 16)) * 1.5).astype(np.float32)
    np.save(OUT / "input.npy", x)
    sample = torch.from_numpy(x[:1])
    order = call_order(model, sample)
    torch.onnx.export(model, (sample,), str(OUT / "tiny_torchscript.onnx"), dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    with contextlib.redirect_stdout(io.StringIO()):
        program = torch.onnx.export(model, (sample,), dynamo=True, input_names=["x"], output_names=["logits"],
                                    dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    program.save(str(OUT / "tiny_dynamo.onnx"))
    # Stack traces hold this machine's paths and most of the file's bytes; the name scopes and
    # class hierarchy the mapping reads stay.
    dynamo = onnx.load(OUT / "tiny_dynamo.onnx")
    for node in dynamo.graph.node:
        kept = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    onnx.save(dynamo, OUT / "tiny_dynamo.onnx")
    renamed = onnx.load(OUT / "tiny_torchscript.onnx")
    for i, node in enumerate(renamed.graph.node):
        node.name = f"n{i}"
    onnx.save(renamed, OUT / "tiny_renamed.onnx")
    expected = {}
    for name in ["tiny_torchscript", "tiny_dynamo"]:
        path = OUT / f"{name}.onnx"
        expected[name] = expected_modules(model, path, order)
        print(name, "ORT max|diff|", check_ort(model, path, x))
    with open(OUT / "modules.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
