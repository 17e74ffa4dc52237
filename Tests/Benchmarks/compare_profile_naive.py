#!/usr/bin/env python3
"""Times `weakspot profile` against a naive ONNX Runtime loop (one full forward per ablated channel).

Usage:
  python3 Tests/Benchmarks/compare_profile_naive.py [--model PATH] [--weakspot PATH] [--threads 2]
          [--sample K] [--inputs 16] [--layers GLOB] [--out /tmp/profile_bench.json]

Inputs: real photographs from scikit-image's sample images, preprocessed as torchvision's ImageNet
transform does on a PIL image (Resize(256): PIL bilinear resize of the shorter side to 256, the
longer to int(256 * long / short); CenterCrop(224): top/left = round((size - 224) / 2);
ToTensor; Normalize(mean 0.485,0.456,0.406, std 0.229,0.224,0.225)); horizontal flips are added
when there are fewer photographs than --inputs. Saved as float32 NCHW .npy in a temporary folder.

The naive loop (the peer): one ONNX model derived from the input model in which each Conv's
per-channel tail end (the tensor that every consumer reads after BatchNormalization, Relu, Clip,
LeakyRelu, HardSwish, per-channel constant Mul/Add/Sub/Div, while the tensor has exactly one
reader; the rule of docs and Sources/ChannelGroups/ChannelTail.swift) is multiplied by a new
graph input `mask_<i>` of shape (1, C, 1, 1). One ONNX Runtime session (intra_op = threads,
inter_op = 1, ORT_ENABLE_ALL). Ablating a channel = every mask all ones but a zero at that channel,
one forward over all inputs at once; kl/mse/top1 against the baseline logits (all masks ones).
K channels spread evenly over all conv channels are timed after 2 warm-up runs; the full loop is
ESTIMATED as the median time per channel times the number of conv channels.

WeakSpot: `weakspot profile MODEL --data inputs.npy --items channels --layers GLOB --batch N
--threads T --quiet -o exact.json`, then the same with `--adaptive`, each timed as a whole process
(and its peak RSS read from `/usr/bin/time -v` when available). When the binary has no `profile`
command, only the naive part runs (exit 0).

--reuse-exact BENCH.json: an adaptive-only run (saves the exact profile's minutes when only the
adaptive side changed): the inputs, the exact report (exact.json beside them) and the exact run's
timing are read from an earlier run's --out JSON of the same inputs; the naive loop is re-timed
(so the ratios compare one sitting), then `--adaptive` runs. `--repeat R` times the adaptive run R
times and reports the median (wall and CPU).

Prints and writes to --out as JSON: naive estimated seconds (and per channel), WeakSpot exact and
adaptive seconds, the speed-up ratios, the fraction of items whose `weak` decision is the same in
adaptive and exact mode, peak RSS of each, and the spot check: the largest relative difference
between the naive kl and WeakSpot exact's kl over the sampled channels whose kl > 1e-6.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_MODEL = os.path.join(REPO, "Fixtures", "models", "resnet18_bn.onnx")
DEFAULT_BINARY = os.path.join(REPO, ".build", "release", "weakspot")

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
KL_FLOOR = 1e-6  # the spot check compares kl only above this
PER_CHANNEL_UNARY = {"BatchNormalization", "Relu", "Clip", "LeakyRelu", "HardSwish"}
PER_CHANNEL_BINARY = {"Mul", "Add", "Sub", "Div"}


# ---------------------------------------------------------------------------------------------
# Inputs


def sample_photographs() -> list[tuple[str, np.ndarray]]:
    """Real photographs bundled with scikit-image, as (name, uint8 HxWx3)."""
    import skimage.data as data
    from skimage.color import gray2rgb

    names = ["chelsea", "coffee", "astronaut", "rocket", "camera", "stereo_motorcycle",
             "hubble_deep_field", "immunohistochemistry", "retina", "coins", "clock", "moon",
             "grass", "gravel", "brick", "cell"]
    photos = []
    for name in names:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            image = loader()
        except Exception:  # some need an optional download: skip them
            continue
        if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
            image = image[0]
        image = np.asarray(image)
        if image.dtype != np.uint8:
            continue
        if image.ndim == 2:
            image = gray2rgb(image)
        if image.ndim != 3 or image.shape[2] < 3:
            continue
        photos.append((name, np.ascontiguousarray(image[:, :, :3])))
    return photos


def imagenet_preprocess(pixels: np.ndarray) -> np.ndarray:
    """torchvision Resize(256) + CenterCrop(224) + ToTensor + Normalize on a PIL image; CHW float32."""
    image = Image.fromarray(pixels, mode="RGB")
    width, height = image.size
    if width <= height:
        size = (256, int(256 * height / width))
    else:
        size = (int(256 * width / height), 256)
    image = image.resize(size, Image.BILINEAR)
    width, height = image.size
    top = int(round((height - 224) / 2.0))
    left = int(round((width - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    x = np.asarray(image, dtype=np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def build_inputs(count: int) -> tuple[np.ndarray, list[str]]:
    photos = sample_photographs()
    if not photos:
        raise SystemExit("no scikit-image sample photographs could be loaded")
    names = [name for name, _ in photos]
    images = [pixels for _, pixels in photos]
    for name, pixels in photos:
        if len(images) >= count:
            break
        images.append(np.ascontiguousarray(pixels[:, ::-1]))
        names.append(name + " (flipped)")
    while len(images) < count:  # still short: cycle
        images.append(images[len(images) % len(photos)])
        names.append(names[len(names) % len(photos)] + " (again)")
    batch = np.stack([imagenet_preprocess(p) for p in images[:count]]).astype(np.float32)
    return batch, names[:count]


# ---------------------------------------------------------------------------------------------
# The masked model


def constant_arrays(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    constants[node.output[0]] = numpy_helper.to_array(attribute.t)
    return constants


def is_per_channel(node: onnx.NodeProto, value: str, channels: int, constants: dict) -> bool:
    if node.op_type in PER_CHANNEL_UNARY:
        return node.input[0] == value
    if node.op_type in PER_CHANNEL_BINARY and len(node.input) == 2:
        others = [name for name in node.input if name != value]
        if len(others) != 1 or others[0] not in constants:
            return False
        if node.op_type in ("Sub", "Div") and node.input[0] != value:
            return False
        c = constants[others[0]]
        if c.size == 1:
            return node.op_type in ("Mul", "Div")
        dims = list(c.shape)
        while dims and dims[0] == 1:
            dims.pop(0)
        return c.size == channels and bool(dims) and dims[0] == channels and all(d == 1 for d in dims[1:])
    return False


def conv_channel_counts(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for info in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = info.type.tensor_type.shape.dim
        if len(dims) >= 2 and dims[1].HasField("dim_value"):
            shapes[info.name] = dims[1].dim_value
    counts = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        channels = shapes.get(node.output[0])
        if channels is None:  # fall back to the weight's first dimension
            weights = {init.name: init for init in model.graph.initializer}
            weight = weights.get(node.input[1])
            channels = int(weight.dims[0]) if weight is not None else None
        if channels is None:
            raise SystemExit(f"conv {node.name}: cannot tell its channel count")
        counts[node.name] = channels
    return counts


def tail_end(graph: onnx.GraphProto, conv: onnx.NodeProto, channels: int, constants: dict) -> str:
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    outputs = {o.name for o in graph.output}
    end = conv.output[0]
    while end not in outputs:
        users = readers.get(end, [])
        if len(users) == 1 and is_per_channel(users[0], end, channels, constants):
            end = users[0].output[0]
            continue
        break
    return end


def masked_model(path: str) -> tuple[bytes, list[dict]]:
    """The model with a Mul by input `mask_<i>` (1, C, 1, 1) after each conv's tail end."""
    model = onnx.load(path)
    graph = model.graph
    constants = constant_arrays(graph)
    counts = conv_channel_counts(model)
    convs = [node for node in graph.node if node.op_type == "Conv"]
    layers = []
    for index, conv in enumerate(convs):
        channels = counts[conv.name]
        end = tail_end(graph, conv, channels, constants)
        layers.append({"layer": conv.name, "channels": channels, "end": end, "mask": f"mask_{index}"})
    for layer in layers:
        end, masked = layer["end"], layer["end"] + "__masked"
        for node in graph.node:
            for k, name in enumerate(node.input):
                if name == end:
                    node.input[k] = masked
        for output in graph.output:
            if output.name == end:
                output.name = masked
        graph.node.append(helper.make_node("Mul", [end, layer["mask"]], [masked],
                                           name=layer["layer"] + "__mask"))
        graph.input.append(helper.make_tensor_value_info(layer["mask"], TensorProto.FLOAT,
                                                         [1, layer["channels"], 1, 1]))
    # Appended Muls must come before their readers: sort topologically.
    produced = {name for name in [i.name for i in graph.input] + [i.name for i in graph.initializer]}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [n for n in pending if all((not name) or name in produced for name in n.input)]
        if not ready:
            raise SystemExit("masked model: cannot order the nodes (a cycle or a missing input)")
        for node in ready:
            ordered.append(node)
            produced.update(node.output)
        pending = [n for n in pending if all(n is not r for r in ready)]
    del graph.node[:]
    graph.node.extend(ordered)
    onnx.checker.check_model(model)
    return model.SerializeToString(), layers


# ---------------------------------------------------------------------------------------------
# Metrics


def softmax_log(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def metrics(base: np.ndarray, pert: np.ndarray) -> dict[str, float]:
    """kl (natural log, softmax over the last axis), mse, top1, each averaged over the inputs."""
    log_p, log_q = softmax_log(base), softmax_log(pert)
    kl = float(np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)))
    diff = base.astype(np.float64) - pert.astype(np.float64)
    mse = float(np.mean(diff * diff))
    top1 = float(np.mean(base.argmax(axis=-1) != pert.argmax(axis=-1)))
    return {"kl": kl, "mse": mse, "top1": top1}


# ---------------------------------------------------------------------------------------------
# The naive loop


def naive_loop(model_path: str, inputs: np.ndarray, threads: int, sample: int) -> dict:
    model_bytes, layers = masked_model(model_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    input_name = onnx.load(model_path, load_external_data=False).graph.input[0].name
    ones = {layer["mask"]: np.ones((1, layer["channels"], 1, 1), dtype=np.float32) for layer in layers}

    def forward(feeds: dict) -> np.ndarray:
        return session.run(None, {input_name: inputs, **feeds})[0]

    base = forward(ones)
    reference = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    plain_logits = reference.run(None, {input_name: inputs})[0]
    mask_check = float(np.max(np.abs(base - plain_logits)))

    everything = [(i, c) for i, layer in enumerate(layers) for c in range(layer["channels"])]
    total = len(everything)
    k = max(1, min(sample, total))
    picks = sorted(set(int(round(x)) for x in np.linspace(0, total - 1, k)))

    cpu_seconds: list[float] = []

    def ablate(position: int) -> tuple[np.ndarray, float]:
        i, c = everything[position]
        feeds = dict(ones)
        mask = ones[layers[i]["mask"]].copy()
        mask[0, c, 0, 0] = 0.0
        feeds[layers[i]["mask"]] = mask
        start, cpu = time.perf_counter(), time.process_time()
        logits = forward(feeds)
        cpu_seconds.append(time.process_time() - cpu)
        return logits, time.perf_counter() - start

    for position in picks[:2]:  # warm-up
        ablate(position)
    cpu_seconds.clear()
    times, channels, plain_times = [], [], []
    for n, position in enumerate(picks):
        if n % 4 == 0:  # the unmasked model, interleaved so both see the same machine load
            start = time.perf_counter()
            reference.run(None, {input_name: inputs})
            plain_times.append(time.perf_counter() - start)
        logits, seconds = ablate(position)
        i, c = everything[position]
        times.append(seconds)
        channels.append({"id": f"{layers[i]['layer']}#{c}", "layer": layers[i]["layer"], "channel": c,
                         "seconds": seconds, **metrics(base, logits)})
    del reference
    per_channel = statistics.median(times)
    plain_seconds = statistics.median(plain_times)
    return {
        "convLayers": len(layers),
        "convChannels": total,
        "sampled": len(picks),
        "medianSecondsPerChannel": per_channel,
        "estimatedTotalSeconds": per_channel * total,
        "estimated": True,
        "maskedVsPlainMaxAbsLogitDiff": mask_check,
        "medianCPUSecondsPerChannel": statistics.median(cpu_seconds),
        "estimatedTotalCPUSeconds": statistics.median(cpu_seconds) * total,
        "plainModelForwardSeconds": plain_seconds,
        "plainModelForwardRuns": len(plain_times),
        "estimatedTotalSecondsPlainForward": plain_seconds * total,
        "tailEnds": {layer["layer"]: layer["end"] for layer in layers},
        "channels": channels,
    }


# ---------------------------------------------------------------------------------------------
# WeakSpot


def find_binary(explicit: str | None) -> str | None:
    if explicit:
        return explicit if os.path.exists(explicit) else shutil.which(explicit)
    return DEFAULT_BINARY if os.path.exists(DEFAULT_BINARY) else shutil.which("weakspot")


def has_profile(binary: str) -> bool:
    try:
        done = subprocess.run([binary, "profile", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_timed(command: list[str]) -> dict:
    """Runs a process; wall seconds, exit code, peak RSS in MiB (from /usr/bin/time -v if present)."""
    time_tool = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    wrapped = [time_tool, "-v", *command] if time_tool else command
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(wrapped, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kib, cpu = None, {}
    if time_tool:
        for line in done.stderr.splitlines():
            key, _, value = line.strip().rpartition(":")
            try:
                if key == "Maximum resident set size (kbytes)":
                    peak_kib = int(value)
                elif key in ("User time (seconds)", "System time (seconds)"):
                    cpu[key] = float(value)
            except ValueError:
                pass
    if peak_kib is None:  # the largest child so far: exact only if this one is the largest
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak_kib = after if after > before else None
    errors = [line for line in done.stderr.splitlines() if not line.startswith("\t")]
    return {"command": command, "seconds": seconds, "exitCode": done.returncode,
            "peakRSSMiB": peak_kib / 1024.0 if peak_kib is not None else None,
            "cpuSeconds": sum(cpu.values()) if len(cpu) == 2 else None,
            "stderrTail": errors[-5:]}


def read_items(path: str) -> dict[str, dict]:
    with open(path) as handle:
        report = json.load(handle)
    return {item["id"]: item for item in report.get("items", []) if "id" in item}


def weak_agreement(exact: dict[str, dict], adaptive: dict[str, dict]) -> dict:
    shared = [key for key in exact if key in adaptive]
    equal = sum(1 for key in shared if bool(exact[key].get("weak")) == bool(adaptive[key].get("weak")))
    return {
        "items": len(shared),
        "equalWeakDecisions": equal,
        "fraction": equal / len(shared) if shared else None,
        "weakExact": sum(1 for key in shared if exact[key].get("weak")),
        "weakAdaptive": sum(1 for key in shared if adaptive[key].get("weak")),
        "onlyInExact": len([key for key in exact if key not in adaptive]),
        "onlyInAdaptive": len([key for key in adaptive if key not in exact]),
    }


def adaptive_breakdown(exact: dict[str, dict], adaptive: dict[str, dict], threshold: float = 1e-3) -> dict:
    """How the adaptive run decided its items, and where it disagrees with exact mode."""
    decisions: dict[str, int] = {}
    inputs: list[int] = []
    disagreements = []
    for key, item in adaptive.items():
        decision = (item.get("adaptive") or {}).get("decision", "n/a")
        decisions[decision] = decisions.get(decision, 0) + 1
        inputs.append((item.get("influence") or {}).get("n", 0))
        if key in exact and bool(exact[key].get("weak")) != bool(item.get("weak")):
            disagreements.append({"id": key, "decision": decision, "inputs": inputs[-1],
                                  "exactMean": (exact[key].get("influence") or {}).get("mean"),
                                  "exactCIHigh": (exact[key].get("influence") or {}).get("ciHigh")})
    return {"decisions": decisions, "meanInputs": statistics.mean(inputs) if inputs else None,
            "inputsHistogram": {str(n): inputs.count(n) for n in sorted(set(inputs))},
            "disagreements": disagreements[:50], "disagreementCount": len(disagreements)}


def spot_check(naive_channels: list[dict], exact: dict[str, dict]) -> dict:
    rows, missing = [], []
    for channel in naive_channels:
        item = exact.get(channel["id"])
        kl = item.get("metrics", {}).get("kl") if item else None
        if kl is None:
            missing.append(channel["id"])
            continue
        relative = abs(kl - channel["kl"]) / max(abs(channel["kl"]), 1e-300)
        rows.append({"id": channel["id"], "naiveKL": channel["kl"], "weakspotKL": kl, "relativeDiff": relative})
    compared = [row for row in rows if row["naiveKL"] > KL_FLOOR]
    worst = max(compared, key=lambda row: row["relativeDiff"], default=None)
    return {
        "compared": len(compared),
        "belowFloor": len(rows) - len(compared),
        "missing": missing,
        "maxRelativeDiff": worst["relativeDiff"] if worst else None,
        "worst": worst,
        "maxAbsDiffAll": max((abs(r["naiveKL"] - r["weakspotKL"]) for r in rows), default=None),
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------


def fmt(value, spec: str = ".2f", unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--weakspot", default=None,
                        help="the weakspot binary (default: .build/release/weakspot, then PATH)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample", type=int, default=64, help="channels timed in the naive loop")
    parser.add_argument("--inputs", type=int, default=16)
    parser.add_argument("--layers", default="*Conv", help="the --layers glob passed to weakspot")
    parser.add_argument("--out", default="/tmp/profile_bench.json")
    parser.add_argument("--keep", default=None, help="folder to keep inputs.npy and the reports in")
    parser.add_argument("--reuse-exact", default=None, metavar="BENCH_JSON",
                        help="adaptive only: reuse the inputs, exact.json and exact timing of an earlier run's --out")
    parser.add_argument("--repeat", type=int, default=1, help="adaptive runs to time (the median is reported)")
    parser.add_argument("--adaptive-args", default="", help="extra weakspot options for the adaptive run (space-separated)")
    args = parser.parse_args()

    reused = None
    if args.reuse_exact:
        with open(args.reuse_exact) as handle:
            reused = json.load(handle)
        data_path = reused["data"]
        folder = args.keep or os.path.dirname(data_path)
        inputs = np.load(data_path)
        names = reused["inputNames"]
        args.inputs = len(names)
    else:
        folder = args.keep or tempfile.mkdtemp(prefix="profile_bench_")
        os.makedirs(folder, exist_ok=True)
        inputs, names = build_inputs(args.inputs)
        data_path = os.path.join(folder, "inputs.npy")
        np.save(data_path, inputs)
    result: dict = {"model": os.path.abspath(args.model), "threads": args.threads, "inputs": len(names),
                    "inputNames": names, "data": data_path}
    print(f"model {args.model}, {len(names)} inputs ({inputs.shape}), {args.threads} threads")

    naive = naive_loop(args.model, inputs, args.threads, args.sample)
    naive["peakRSSMiBPythonProcess"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result["naive"] = naive
    print(f"naive ORT loop: {naive['convLayers']} convs, {naive['convChannels']} channels; "
          f"timed {naive['sampled']} sampled channels (after 2 warm-ups)")
    print(f"  masked model = plain model at all-ones masks: max |logit diff| {naive['maskedVsPlainMaxAbsLogitDiff']:.2e}")
    print(f"  median {naive['medianSecondsPerChannel']:.3f} s per channel -> ESTIMATED full loop "
          f"{naive['estimatedTotalSeconds']:.1f} s (median x {naive['convChannels']}, not run in full); "
          f"CPU {naive['medianCPUSecondsPerChannel']:.3f} s per channel -> {naive['estimatedTotalCPUSeconds']:.0f} s")
    print(f"  the unmasked model's forward on the same batch (median of {naive['plainModelForwardRuns']}, "
          f"interleaved): {naive['plainModelForwardSeconds']:.3f} s -> stricter estimate "
          f"{naive['estimatedTotalSecondsPlainForward']:.1f} s")
    print(f"  peak RSS of this Python process (includes the inputs and the loader): "
          f"{naive['peakRSSMiBPythonProcess']:.0f} MiB")

    binary = find_binary(args.weakspot)
    if binary is None or not has_profile(binary):
        why = "no weakspot binary found" if binary is None else f"{binary} has no `profile` command yet"
        result["weakspot"] = {"skipped": why}
        print(f"weakspot: skipped ({why}); naive part only")
        write(args.out, result)
        return 0

    common = [binary, "profile", args.model, "--data", data_path, "--items", "channels",
              "--layers", args.layers, "--batch", str(args.inputs), "--threads", str(args.threads), "--quiet"]
    exact_path, adaptive_path = os.path.join(folder, "exact.json"), os.path.join(folder, "adaptive.json")
    if reused:
        exact_path = os.path.join(os.path.dirname(reused["data"]), "exact.json")
        exact_run = dict(reused["weakspot"]["exact"], reused=args.reuse_exact)
    else:
        exact_run = run_timed(common + ["-o", exact_path])
    adaptive_runs = [run_timed(common + ["--adaptive", *args.adaptive_args.split(), "-o", adaptive_path])
                     for _ in range(max(1, args.repeat))]
    adaptive_run = dict(adaptive_runs[len(adaptive_runs) // 2] if len(adaptive_runs) % 2 else adaptive_runs[0])
    adaptive_run["seconds"] = statistics.median(r["seconds"] for r in adaptive_runs)
    if all(r["cpuSeconds"] for r in adaptive_runs):
        adaptive_run["cpuSeconds"] = statistics.median(r["cpuSeconds"] for r in adaptive_runs)
    adaptive_run["runs"] = [{"seconds": r["seconds"], "cpuSeconds": r["cpuSeconds"], "exitCode": r["exitCode"]} for r in adaptive_runs]
    adaptive_run["exitCode"] = max(r["exitCode"] for r in adaptive_runs)
    result["weakspot"] = {"binary": binary, "exact": exact_run, "adaptive": adaptive_run}
    if len(adaptive_runs) > 1:
        listed = ", ".join(f"{r['seconds']:.1f}" for r in adaptive_runs)
        print(f"adaptive runs: {listed} s (median {adaptive_run['seconds']:.1f} s)")
    for label, run in (("exact", exact_run), ("adaptive", adaptive_run)):
        print(f"weakspot {label}: {run['seconds']:.1f} s (CPU {fmt(run['cpuSeconds'], '.1f', ' s')}), exit {run['exitCode']}, "
              f"peak RSS {fmt(run['peakRSSMiB'], '.0f', ' MiB')}")
        if run["exitCode"] != 0:
            for line in run["stderrTail"]:
                print(f"  {line}")
    if exact_run["exitCode"] != 0 or adaptive_run["exitCode"] != 0:
        write(args.out, result)
        return 1

    exact, adaptive = read_items(exact_path), read_items(adaptive_path)
    result["exactItems"] = len(exact)
    if len(exact) != naive["convChannels"]:
        print(f"note: weakspot exact reports {len(exact)} items, the naive loop has {naive['convChannels']} conv channels")
    ratios = {"naiveOverExact": naive["estimatedTotalSeconds"] / exact_run["seconds"],
              "naiveOverAdaptive": naive["estimatedTotalSeconds"] / adaptive_run["seconds"],
              "plainForwardOverExact": naive["estimatedTotalSecondsPlainForward"] / exact_run["seconds"],
              "plainForwardOverAdaptive": naive["estimatedTotalSecondsPlainForward"] / adaptive_run["seconds"]}
    agreement = weak_agreement(exact, adaptive)
    check = spot_check(naive["channels"], exact)
    breakdown = adaptive_breakdown(exact, adaptive)
    result.update({"ratios": ratios, "weakAgreement": agreement, "spotCheck": check, "adaptiveBreakdown": breakdown})
    print(f"speed-up (naive estimate / weakspot wall time): exact {ratios['naiveOverExact']:.2f}x (bar 4x), "
          f"adaptive {ratios['naiveOverAdaptive']:.2f}x (bar 12x)")
    if exact_run["cpuSeconds"] and adaptive_run["cpuSeconds"]:
        ratios["cpuNaiveOverExact"] = naive["estimatedTotalCPUSeconds"] / exact_run["cpuSeconds"]
        ratios["cpuNaiveOverAdaptive"] = naive["estimatedTotalCPUSeconds"] / adaptive_run["cpuSeconds"]
        print(f"  in CPU seconds (less sensitive to other jobs on a shared machine): "
              f"exact {ratios['cpuNaiveOverExact']:.2f}x, adaptive {ratios['cpuNaiveOverAdaptive']:.2f}x")
    print(f"  against the stricter estimate (unmasked forward x channels): exact {ratios['plainForwardOverExact']:.2f}x, "
          f"adaptive {ratios['plainForwardOverAdaptive']:.2f}x")
    print(f"weak decisions equal, adaptive vs exact: {agreement['equalWeakDecisions']}/{agreement['items']} "
          f"= {fmt(agreement['fraction'], '.4f')} (bar 0.95); weak: exact {agreement['weakExact']}, "
          f"adaptive {agreement['weakAdaptive']}")
    print(f"adaptive decisions: {breakdown['decisions']}; mean inputs per item {fmt(breakdown['meanInputs'], '.2f')} "
          f"of {args.inputs}; inputs histogram {breakdown['inputsHistogram']}")
    print(f"spot check, {check['compared']} sampled channels with kl > {KL_FLOOR:g} "
          f"({check['belowFloor']} below, {len(check['missing'])} missing from the report): "
          f"max relative kl difference naive vs weakspot exact {fmt(check['maxRelativeDiff'], '.2e')} (bar 1e-3)")
    if check["worst"]:
        w = check["worst"]
        print(f"  worst: {w['id']}: naive {w['naiveKL']:.6e}, weakspot {w['weakspotKL']:.6e}")
    write(args.out, result)
    return 0


def write(path: str, result: dict) -> None:
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
