#!/usr/bin/env python3
"""The bridge back to PyTorch, end to end (docs/pytorch.md): a torchvision model exported by
torch.onnx.export is profiled, planned and pruned by WeakSpot; the plan's `--export-torch`
mapping is applied to the ORIGINAL nn.Module with Torch-Pruning; the two pruned models must agree.

Usage: python3 Tests/Bridges/torch_bridge.py [--models resnet18,mobilenet_v2]
           [--exporters torchscript,dynamo] [--size 64] [--target macs=0.75] [--keep DIR]
The binary is $WEAKSPOT, else .build/release/weakspot, else .build/debug/weakspot.
Exit 0 when every check holds, 1 when one fails (the table says which).

Per model and exporter:
1. torchvision model, random weights (seeded); BatchNorm made non-trivial: affine parameters
   drawn at random and running statistics estimated (cumulative average) over 32 random inputs
   in training mode, then eval(), so the exporter's BN folding changes the weights; Linear
   biases drawn at random (the dynamo exporter drops an all-zero bias, which would make the
   parameter counts differ by it);
2. torch.onnx.export (TorchScript: dynamo=False, opset 17; dynamo: dynamo=True), both folding BN;
3. weakspot profile (groups, measured on synthetic inputs) -> plan --target --export-torch ->
   prune;
4. Torch-Pruning on the original module: each entry in order,
   DG.get_pruning_group(module, tp.<pruneFn>, idxs=remove).prune();
5. checks:
   - outputs: max|ORT(WeakSpot's pruned ONNX) - pruned nn.Module| <= 1e-4 * max|logit| on the
     same inputs;
   - parameters: the pruned nn.Module's parameters with each BatchNorm2d folded into the
     convolution before it (BN folding turns a BN's 2C parameters, weight and bias, into the
     C-element bias of a bias-free convolution; running statistics are buffers, not parameters),
     i.e. sum(p.numel()) - sum(bn.num_features), equals the pruned ONNX's parameters as run:
     the weight and bias elements of every Conv/Gemm node. The Conv/Linear weight elements alone
     are also compared, and every entry's `channels` is checked against the module it names;
   - the checks can fail: the same entries with every index moved by one channel give outputs
     that differ by more than the tolerance.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch_pruning as tp
import torchvision
from onnx import numpy_helper
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-4


def binary() -> str:
    for candidate in [os.environ.get("WEAKSPOT"), ROOT / ".build/release/weakspot", ROOT / ".build/debug/weakspot"]:
        if candidate and Path(candidate).exists():
            return str(candidate)
    sys.exit("no weakspot binary: build it (swift build -c release) or set WEAKSPOT")


def weakspot(*args: str) -> None:
    result = subprocess.run([binary(), *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"weakspot {' '.join(args)}: exit {result.returncode}\n{result.stderr}")


def build(name: str, size: int) -> nn.Module:
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in norms:
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: the statistics of all the batches below
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.bias.uniform_(-0.1, 0.1)  # not zero: exporters drop all-zero biases
        model.train()
        for _ in range(4):
            model(torch.randn(8, 3, size, size))
    for m in norms:
        m.momentum = 0.1
    return model.eval()


def export(model: nn.Module, exporter: str, path: Path, size: int) -> None:
    sample = torch.randn(1, 3, size, size)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(model, (sample,), str(path), dynamo=False, opset_version=17, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
        else:
            torch.onnx.export(model, (sample,), dynamo=True, input_names=["x"], output_names=["logits"],
                              dynamic_shapes={"x": {0: torch.export.Dim("batch")}}).save(str(path))


def apply(model: nn.Module, entries: list, size: int, shift: int = 0) -> nn.Module:
    """Torch-Pruning on a copy of `model`, entry by entry; `shift` moves every index (the decoy)."""
    model = copy.deepcopy(model)
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=torch.randn(1, 3, size, size))
    for e in entries:
        module = model.get_submodule(e["module"])
        width = module.out_channels if isinstance(module, nn.Conv2d) else module.out_features
        assert width == e["channels"], f"{e['module']}: {width} output channels, the entry expects {e['channels']}"
        idxs = sorted({(i + shift) % width for i in e["remove"]})
        graph.get_pruning_group(module, getattr(tp, e["pruneFn"]), idxs=idxs).prune()
    return model


def onnx_parameters(path: Path) -> tuple[int, int]:
    """(weight elements, weight + bias elements) of the Conv/Gemm nodes, as ONNX Runtime runs them."""
    graph = onnx.load(str(path)).graph
    sizes = {t.name: int(np.prod(t.dims)) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            sizes[node.output[0]] = int(np.prod(node.attribute[0].t.dims))
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}

    def size(name: str) -> int:
        while name in alias:
            name = alias[name]
        return sizes[name]

    layers = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    weights = sum(size(n.input[1]) for n in layers)
    return weights, weights + sum(size(n.input[2]) for n in layers if len(n.input) > 2 and n.input[2])


def torch_parameters(model: nn.Module) -> tuple[int, int, int]:
    """(Conv/Linear weight elements, all parameters, all parameters with BN folded)."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    weights = sum(m.weight.numel() for m in layers)
    total = sum(p.numel() for p in model.parameters())
    bn = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    return weights, total, total - bn


def run(name: str, exporter: str, args, folder: Path) -> dict:
    model = build(name, args.size)
    stem = folder / f"{name}_{exporter}"
    onnx_path = Path(f"{stem}.onnx")
    export(model, exporter, onnx_path, args.size)
    weakspot("profile", str(onnx_path), "--data", args.data, "--items", "groups", "--estimators", "l1", "-o", f"{stem}.report.json", "-q")
    weakspot("plan", str(onnx_path), f"{stem}.report.json", "--target", args.target, "--export-torch", f"{stem}.torch.json",
             "-o", f"{stem}.plan.json", "-q")
    weakspot("prune", str(onnx_path), f"{stem}.plan.json", "-o", f"{stem}.pruned.onnx")
    entries = json.loads(Path(f"{stem}.torch.json").read_text())["groups"]
    pruned = apply(model, entries, args.size)
    decoy = apply(model, entries, args.size, shift=1)

    x = np.random.default_rng(1).standard_normal((4, 3, args.size, args.size)).astype(np.float32)
    session = ort.InferenceSession(f"{stem}.pruned.onnx", providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        want = pruned(torch.from_numpy(x)).numpy()
        original = model(torch.from_numpy(x)).numpy()
        wrong = decoy(torch.from_numpy(x)).numpy()
    scale = float(np.abs(want).max())
    onnx_weights, onnx_total = onnx_parameters(Path(f"{stem}.pruned.onnx"))
    torch_weights, torch_total, torch_folded = torch_parameters(pruned)
    plan = json.loads(Path(f"{stem}.plan.json").read_text())
    return {
        "model": name, "exporter": exporter, "entries": len(entries),
        "diff": float(np.abs(got - want).max()) / scale, "decoy": float(np.abs(wrong - want).max()) / scale,
        "changed": float(np.abs(original - want).max()) / scale,
        "torch_params": torch_total, "torch_folded": torch_folded, "onnx_params": onnx_total,
        "torch_weights": torch_weights, "onnx_weights": onnx_weights, "plan_params": plan["paramsAfter"],
        "macs_kept": plan["macsAfter"] / plan["macsBefore"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet18,mobilenet_v2")
    parser.add_argument("--exporters", default="torchscript,dynamo")
    parser.add_argument("--size", type=int, default=64, help="input height and width")
    parser.add_argument("--target", default="macs=0.75")
    parser.add_argument("--data", default="synthetic:2", help="what weakspot profile measures on")
    parser.add_argument("--keep", help="a folder to keep the files in (default: a temporary one)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.models.split(","):
            for exporter in args.exporters.split(","):
                rows.append(run(name, exporter, args, folder))
                r = rows[-1]
                print(f"{name:<13} {exporter:<11} entries {r['entries']:>3}  max|ORT-torch|/max|logit| {r['diff']:.2e}  "
                      f"(decoy {r['decoy']:.2e}, vs unpruned {r['changed']:.2e})  params torch {r['torch_params']:,} "
                      f"BN-folded {r['torch_folded']:,} ONNX {r['onnx_params']:,}  weights {r['torch_weights']:,}/{r['onnx_weights']:,}  "
                      f"MACs kept {r['macs_kept']:.3f}", flush=True)
    failures = []
    for r in rows:
        label = f"{r['model']} {r['exporter']}"
        if not r["diff"] <= TOLERANCE:
            failures.append(f"{label}: outputs differ by {r['diff']:.2e} of the largest logit (tolerance {TOLERANCE})")
        if not r["decoy"] > TOLERANCE:
            failures.append(f"{label}: the decoy (indices moved by one) is not told apart ({r['decoy']:.2e})")
        if r["torch_folded"] != r["onnx_params"] or r["torch_weights"] != r["onnx_weights"]:
            failures.append(f"{label}: parameters differ: torch BN-folded {r['torch_folded']} vs ONNX {r['onnx_params']}, "
                            f"weights {r['torch_weights']} vs {r['onnx_weights']}")
    for f in failures:
        print("FAIL", f)
    print("bridge: " + ("failed" if failures else f"passed ({len(rows)} model/exporter pairs)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
