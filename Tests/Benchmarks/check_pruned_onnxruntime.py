#!/usr/bin/env python3
"""Checks a model written by `weakspot prune` with ONNX Runtime, independently of WeakSpot's executor.

Usage:
  python3 Tests/Benchmarks/check_pruned_onnxruntime.py MODEL PLAN PRUNED [--inputs X.npy] [--count 4]
          [--weakspot-logits PRUNED_RUN.npy] [--no-masked]
  python3 Tests/Benchmarks/check_pruned_onnxruntime.py --classic DIR

--weakspot-logits: also compare ONNX Runtime's output of PRUNED with `weakspot run PRUNED`'s
(same inputs, all of them: --count is ignored for this comparison's rows beyond the file's).
--no-masked: skip the masked-original comparison (its tail rule stops at a Transpose, so it does
not model NHWC exports whose tails WeakSpot follows through Transposes).
--classic DIR: for every model of Fixtures/classic/manifest.json whose DIR/<name>.pruned.onnx,
DIR/<name>.plan.json and DIR/<name>.pruned.logits.npy exist (written by ClassicModelsTests with
WEAKSPOT_CLASSIC_KEEP=DIR), check the pruned file (onnx.checker, ONNX Runtime loads it) against
`weakspot run` on it; the masked comparison too where every pruned producer's tail is NCHW.

ONNX Runtime runs two models on the same inputs:
- PRUNED, as written by `weakspot prune MODEL PLAN -o PRUNED`;
- the masked original: MODEL with a `Mul` by a constant (1, C, 1, 1) 0/1 mask ((1, C) after a
  Gemm or MatMul) inserted after the per-channel tail end of every producer that loses channels
  (the tail rule of compare_profile_naive.py: BatchNormalization, Relu, Clip, LeakyRelu, HardSwish, per-channel
  constant Mul/Add/Sub/Div while the tensor has one reader), every consumer rewired to the Mul.

The plan's groups are layer groups; channel i of a layer group is taken to be channel i of each
producer it lists, which holds when every listed producer has exactly `channels` output channels
(checked; plans whose groups are tied through Concat offsets are refused by this script).

Inputs: --inputs (float32 NCHW .npy), else MODEL's fixture `<name>.input.npy` when it exists, else
seeded Gaussian noise; --count limits how many are used. PRUNED must pass onnx.checker (full
check). Prints the max absolute difference, max |logit|, their ratio, the masks' own effect
(max |masked - original| / max |logit|, so a no-op mask is visible) and both file sizes; exits 1
when the ratio exceeds 1e-4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_profile_naive import constant_arrays, tail_end  # noqa: E402

TOLERANCE = 1e-4


def output_channels(node: onnx.NodeProto, constants: dict) -> int:
    weight = constants[node.input[1]]
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return weight.shape[0] if trans_b else weight.shape[1]
    if node.op_type == "MatMul":
        return weight.shape[1]
    return weight.shape[0]


def masked_model(model: onnx.ModelProto, plan: dict) -> onnx.ModelProto:
    graph = model.graph
    constants = constant_arrays(graph)
    by_name = {node.name: node for node in graph.node}
    removed: dict[str, set[int]] = {}
    for group in plan["groups"]:
        for layer in group["layers"]:
            node = by_name[layer]
            if output_channels(node, constants) != group["channels"]:
                raise SystemExit(f"group {group['id']}: {layer} has {output_channels(node, constants)} channels, the group "
                                 f"{group['channels']}; this script handles only index-aligned groups")
            removed.setdefault(layer, set()).update(group["removed"])
    for layer, channels in removed.items():
        if not channels:
            continue
        node = by_name[layer]
        c = output_channels(node, constants)
        end = tail_end(graph, node, c, constants)
        dense = node.op_type in ("Gemm", "MatMul")
        mask = np.ones((1, c) if dense else (1, c, 1, 1), dtype=np.float32)
        mask[0, sorted(channels)] = 0
        masked = f"{end}__masked"
        for reader in graph.node:
            for k, name in enumerate(reader.input):
                if name == end:
                    reader.input[k] = masked
        graph.initializer.append(numpy_helper.from_array(mask, f"{end}__mask"))
        graph.node.append(helper.make_node("Mul", [end, f"{end}__mask"], [masked], name=f"{end}__mask_mul"))
    # Keep the nodes topologically ordered: each Mul right after the node producing its input.
    ordered, appended = [], [n for n in graph.node if n.name.endswith("__mask_mul")]
    for node in graph.node:
        if node.name.endswith("__mask_mul"):
            continue
        ordered.append(node)
        ordered.extend(m for m in appended if m.input[0] in node.output)
    del graph.node[:]
    graph.node.extend(ordered)
    return model


def run(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def ratio(got: np.ndarray, expected: np.ndarray) -> float:
    peak = float(np.max(np.abs(expected)))
    return float(np.max(np.abs(got - expected))) / peak if peak else float("inf")


def check_against_weakspot(model: str, plan: str, pruned: str, inputs: str, weakspot_logits: str, masked: bool) -> dict:
    """ORT on the pruned file versus `weakspot run` on it (and versus the masked original)."""
    x = np.load(inputs).astype(np.float32)
    onnx.checker.check_model(onnx.load(pruned), full_check=True)
    ort_pruned = run(open(pruned, "rb").read(), x)
    ours = np.load(weakspot_logits).astype(np.float32).reshape(ort_pruned.shape)
    result = {"model": os.path.basename(model), "inputs": int(x.shape[0]), "ortVsWeakspot": ratio(ours, ort_pruned)}
    if masked:
        with open(plan) as f:
            reference = run(masked_model(onnx.load(model), json.load(f)).SerializeToString(), x)
        result["ortVsMasked"] = ratio(ort_pruned, reference)
    result["bytes"] = [os.path.getsize(model), os.path.getsize(pruned)]
    return result


def check_classic(folder: str) -> int:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fixtures")
    with open(os.path.join(root, "classic", "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    for entry in manifest["models"]:
        stem = os.path.join(folder, entry["name"])
        files = [stem + ".pruned.onnx", stem + ".plan.json", stem + ".pruned.logits.npy"]
        if not all(os.path.exists(p) for p in files):
            print(json.dumps({"model": entry["name"], "skipped": "no pruned files (the model did not pass ClassicModelsTests)"}))
            continue
        nchw = entry["layout"] == "NCHW" and "channel shuffle" not in entry["needs"]
        try:
            result = check_against_weakspot(os.path.join(root, entry["model"]), files[1], files[0],
                                            os.path.join(root, entry["input"]), files[2], masked=nchw)
        except (SystemExit, Exception) as error:  # noqa: BLE001 - reported per model
            result = {"model": entry["name"], "error": str(error)}
        bad = "error" in result or any(result.get(k, 0) > TOLERANCE for k in ("ortVsWeakspot", "ortVsMasked"))
        failures += bad
        print(json.dumps(result))
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--classic":
        return check_classic(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("plan")
    parser.add_argument("pruned")
    parser.add_argument("--inputs")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--weakspot-logits")
    parser.add_argument("--no-masked", action="store_true")
    args = parser.parse_args()
    if args.weakspot_logits:
        inputs = args.inputs or args.model[: -len(".onnx")] + ".input.npy"
        result = check_against_weakspot(args.model, args.plan, args.pruned, inputs, args.weakspot_logits, not args.no_masked)
        print(json.dumps(result))
        return 0 if all(result.get(k, 0) <= TOLERANCE for k in ("ortVsWeakspot", "ortVsMasked")) else 1

    with open(args.plan) as f:
        plan = json.load(f)
    model = onnx.load(args.model)
    inputs = args.inputs or args.model[: -len(".onnx")] + ".input.npy"
    if os.path.exists(inputs):
        x = np.load(inputs).astype(np.float32)[: args.count]
    else:
        shape = [d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim]
        shape[0] = args.count
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    original = run(model.SerializeToString(), x)
    masked = run(masked_model(model, plan).SerializeToString(), x)
    onnx.checker.check_model(onnx.load(args.pruned), full_check=True)
    pruned = run(open(args.pruned, "rb").read(), x)
    difference = float(np.max(np.abs(masked - pruned)))
    peak = float(np.max(np.abs(masked)))
    removed = sum(len(g["removed"]) for g in plan["groups"])
    channels = sum(g["channels"] for g in plan["groups"])
    print(json.dumps({"model": os.path.basename(args.model), "inputs": int(x.shape[0]), "removedChannels": removed,
                      "groupChannels": channels, "maxAbsDifference": difference, "maxAbsLogit": peak,
                      "ratio": difference / peak if peak else None,
                      "maskEffect": float(np.max(np.abs(masked - original))) / peak if peak else None,
                      "bytes": [os.path.getsize(args.model), os.path.getsize(args.pruned)]}))
    return 0 if peak and difference / peak <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
