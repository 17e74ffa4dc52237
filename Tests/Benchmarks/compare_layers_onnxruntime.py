#!/usr/bin/env python3
"""Per-layer time of WeakSpot against ONNX Runtime's own profiler, in the same sitting.

Usage:
  python3 Tests/Benchmarks/compare_layers_onnxruntime.py MODEL [--batch 1] [--threads 2]
          [--runs 20] [--weakspot PATH] [--rows 12] [--json OUT]

Where the whole-model ratio of compare_onnxruntime.py comes from: every convolution is put in a
class (stem, depthwise kxk/s, pointwise 1x1/s, dense kxk/s, grouped), and each class's summed
median time is printed for both engines with the ratio, then the other operators (pooling, Gemm,
Add, ONNX Runtime's layout reorders), then the N convolutions where WeakSpot loses the most time.

ONNX Runtime: CPUExecutionProvider, intra_op = threads, inter_op = 1, sequential, all graph
optimisations, `enable_profiling`; warm-up runs, then --runs profiled runs; a node's time is the
median of its `*_kernel_time` events. Its fused nodes are named after the fused chain's last
output (or a node name); each is traced back to the Conv that starts the chain in the original
model. WeakSpot: `weakspot bench MODEL --batch B --threads T --layers --format json`, whose steps
(a node or a fused chain) carry their node names and median times. The two sums are the engines'
own per-node figures (no session overhead), so their ratio can differ from the whole-run ratio.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              ".build", "release", "weakspot")


def conv_classes(model: onnx.ModelProto) -> dict[str, str]:
    """Conv node name -> class, from its weight shape and attributes."""
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    classes = {}
    first_input = model.graph.input[0].name
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w = inits.get(node.input[1])
        group = attrs.get("group", 1)
        strides = attrs.get("strides", [1, 1])
        if w is None:
            classes[node.name] = "conv (runtime weights)"
            continue
        out_c, in_per_group, kh, kw = w[0], w[1], w[2], w[3]
        s = f"/{strides[0]}"
        if node.input[0] == first_input or in_per_group * group == 3:
            classes[node.name] = f"stem {kh}x{kw}{s}"
        elif group > 1 and in_per_group == 1:
            classes[node.name] = f"depthwise {kh}x{kw}{s}"
        elif group > 1:
            classes[node.name] = f"grouped {kh}x{kw}{s}"
        elif kh == 1 and kw == 1:
            classes[node.name] = f"pointwise 1x1{s}"
        else:
            classes[node.name] = f"dense {kh}x{kw}{s}"
    return classes


FUSABLE = {"Conv", "BatchNormalization", "Relu", "Clip", "Add", "Sum", "LeakyRelu", "HardSigmoid", "Sigmoid", "Mul"}


def chain_conv(model: onnx.ModelProto, name: str, classes: dict[str, str]) -> str | None:
    """The Conv that starts the fused chain ending at node or output `name`, walking back through
    operators a fusing engine folds into a convolution (along each node's first input)."""
    by_name = {n.name: n for n in model.graph.node}
    producer = {o: n for n in model.graph.node for o in n.output}
    node = by_name.get(name) or producer.get(name)
    for _ in range(5):
        if node is None or node.op_type not in FUSABLE:
            return None
        if node.name in classes:
            return node.name
        node = producer.get(node.input[0])
    return None


def node_class(model: onnx.ModelProto, classes: dict[str, str]) -> dict[str, str]:
    """Every node name and output name -> the class of the Conv that starts its chain, or its op."""
    result = {}
    for node in model.graph.node:
        conv = chain_conv(model, node.name, classes)
        label = classes[conv] if conv else node.op_type
        result[node.name] = label
        for o in node.output:
            result[o] = label
    return result


def ort_times(path: str, batch: int, threads: int, runs: int) -> dict[str, float]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch if i == 0 else (d if isinstance(d, int) and d > 0 else 224) for i, d in enumerate(inp.shape)]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(3):
        session.run(None, {inp.name: x})
    for _ in range(runs):
        session.run(None, {inp.name: x})
    events = json.load(open(session.end_profiling()))
    per_node = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_node[e["name"][: -len("_kernel_time")]].append(e["dur"] / 1000.0)
    # The warm-up runs are profiled too: keep each node's last `runs` events.
    return {k: statistics.median(v[-runs:]) for k, v in per_node.items()}


def ort_label(name: str, labels: dict[str, str]) -> str:
    for candidate in (name, name.removesuffix("_nchwc")):
        if candidate in labels:
            return labels[candidate]
    if name.startswith("Reorder"):
        return "layout reorder (ORT)"
    return "other: " + name


def weakspot_steps(binary: str, path: str, batch: int, threads: int, runs: int) -> list[dict]:
    out = subprocess.run([binary, "bench", path, "--batch", str(batch), "--threads", str(threads),
                          "--repetitions", str(runs), "--gemm-size", "0", "--layers", "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["layers"][0]["steps"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--weakspot", default=DEFAULT_BINARY)
    parser.add_argument("--rows", type=int, default=12, help="worst convolutions listed")
    parser.add_argument("--json", default=None, help="write the table as JSON here")
    args = parser.parse_args()

    model = onnx.load(args.model, load_external_data=False)
    classes = conv_classes(model)
    labels = node_class(model, classes)

    ort_per_node = ort_times(args.model, args.batch, args.threads, args.runs)
    steps = weakspot_steps(args.weakspot, args.model, args.batch, args.threads, args.runs)

    by_class = collections.defaultdict(lambda: [0.0, 0.0])
    ort_by_conv, ws_by_conv = {}, {}
    for name, ms in ort_per_node.items():
        label = ort_label(name, labels)
        by_class[label][0] += ms
        base = name.removesuffix("_nchwc")
        ort_by_conv[base] = ort_by_conv.get(base, 0.0) + ms
    for step in steps:
        label = next((classes[n] for n in step["nodes"] if n in classes), labels.get(step["nodes"][0], step["operators"][0]))
        by_class[label][1] += step["medianMs"]
        ws_by_conv[step["nodes"][0]] = step["medianMs"]

    total_ort = sum(v[0] for v in by_class.values())
    total_ws = sum(v[1] for v in by_class.values())
    print(f"{os.path.basename(args.model)}, batch {args.batch}, {args.threads} threads, medians of {args.runs} runs; load {os.getloadavg()[0]:.1f}")
    print(f"{'class':34} {'ORT ms':>9} {'WeakSpot ms':>12} {'WS/ORT':>7}")
    rows = []
    for label, (o, w) in sorted(by_class.items(), key=lambda kv: -(kv[1][1] - kv[1][0])):
        ratio = w / o if o > 0 else float("inf")
        rows.append({"class": label, "ortMs": o, "weakspotMs": w, "ratio": ratio})
        print(f"{label:34} {o:9.3f} {w:12.3f} {ratio:7.2f}")
    print(f"{'sum':34} {total_ort:9.3f} {total_ws:12.3f} {total_ws / total_ort:7.2f}")

    # Per convolution, matched by the first node of WeakSpot's step and ORT's chain name.
    matched = []
    for ort_name, o in ort_by_conv.items():
        node = chain_conv(model, ort_name, classes)
        if node and node in ws_by_conv:
            matched.append((ws_by_conv[node] - o, node, classes[node], o, ws_by_conv[node]))
    matched.sort(reverse=True)
    print(f"\nconvolutions where WeakSpot loses most ({len(matched)} matched):")
    for lost, node, cls, o, w in matched[: args.rows]:
        print(f"  {node:60} {cls:18} ORT {o:8.3f}  WS {w:8.3f}  +{lost:.3f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "batch": args.batch, "threads": args.threads, "runs": args.runs,
                       "classes": rows, "ortMs": total_ort, "weakspotMs": total_ws,
                       "worst": [{"node": n, "class": c, "ortMs": o, "weakspotMs": w} for _, n, c, o, w in matched[: args.rows]]},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
