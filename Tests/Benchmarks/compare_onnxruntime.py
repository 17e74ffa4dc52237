#!/usr/bin/env python3
"""Times ONNX Runtime and WeakSpot's forward pass on the same model, in the same sitting.

Usage:
  python3 Tests/Benchmarks/compare_onnxruntime.py MODEL [--threads 2] [--batch 1 16]
          [--runs 20] [--rounds 1] [--weakspot PATH]

ONNX Runtime: CPUExecutionProvider, intra_op_num_threads=T, inter_op_num_threads=1, sequential
execution, all graph optimisations; seeded standard-normal input; warm-up runs, then the median
of --runs timed runs. WeakSpot: `PATH bench MODEL --batch B --threads T --format json`, whose
JSON carries `medianMs`. Prints one row per batch: model, batch, threads, ORT median ms,
WeakSpot median ms, ratio WeakSpot/ORT. With --rounds R the two alternate R times per batch
(ORT, WeakSpot, ORT, WeakSpot, ...), so load that comes and goes falls on both; the row then
gives the medians over the rounds and the median of the rounds' ratios, and each round's ratio
is listed below the table. When the binary is missing or fails, ORT's figures are printed with
the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time

import numpy as np
import onnxruntime as ort

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                              ".build", "release", "weakspot")


def concrete_shape(session: ort.InferenceSession, batch: int) -> tuple[str, list[int]]:
    inp = session.get_inputs()[0]
    shape = []
    for i, d in enumerate(inp.shape):
        if isinstance(d, int) and d > 0:
            shape.append(batch if i == 0 else d)
        else:
            shape.append(batch if i == 0 else 224)
    return inp.name, shape


def time_ort(model: str, batch: int, threads: int, runs: int) -> float:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name, shape = concrete_shape(session, batch)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    warmup_deadline = time.perf_counter() + 1.0
    for i in range(50):
        session.run(None, {name: x})
        if i >= 2 and time.perf_counter() > warmup_deadline:
            break
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {name: x})
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def time_weakspot(binary: str | None, model: str, batch: int, threads: int) -> tuple[float | None, str]:
    if not binary:
        return None, "weakspot binary not found"
    command = [binary, "bench", model, "--batch", str(batch), "--threads", str(threads), "--format", "json"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"weakspot failed to run: {error}"
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        return None, f"weakspot exited {done.returncode}: {message[-1] if message else ''}"
    try:
        report = json.loads(done.stdout)
        return float(report["medianMs"]), ""
    except (ValueError, KeyError, TypeError) as error:
        return None, f"weakspot output has no medianMs ({error})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="alternate ORT and WeakSpot this many times per batch")
    parser.add_argument("--weakspot", default=None,
                        help="path of the weakspot binary (default: .build/release/weakspot, then PATH)")
    args = parser.parse_args()

    binary = args.weakspot
    if binary is None:
        binary = DEFAULT_BINARY if os.path.exists(DEFAULT_BINARY) else shutil.which("weakspot")
    elif not os.path.exists(binary):
        binary = None
    rows, notes, rounds = [], [], []
    for batch in args.batch:
        ort_times, ws_times, ratios = [], [], []
        for _ in range(max(args.rounds, 1)):
            ort_ms = time_ort(args.model, batch, args.threads, max(args.runs, 20))
            ws_ms, why = time_weakspot(binary, args.model, batch, args.threads)
            ort_times.append(ort_ms)
            if why:
                notes.append(f"batch {batch}: {why}")
                break
            ws_times.append(ws_ms)
            ratios.append(ws_ms / ort_ms)
        ort_ms = statistics.median(ort_times)
        ws_ms = statistics.median(ws_times) if ws_times else None
        ratio = statistics.median(ratios) if ratios else None
        rows.append((os.path.basename(args.model), batch, args.threads, ort_ms, ws_ms, ratio))
        if len(ratios) > 1:
            rounds.append(f"batch {batch} rounds, WS/ORT: " + ", ".join(f"{r:.2f}" for r in ratios))

    header = f"{'model':<28} {'batch':>5} {'threads':>7} {'ORT ms':>10} {'WeakSpot ms':>12} {'WS/ORT':>7}"
    print(header)
    print("-" * len(header))
    for model, batch, threads, ort_ms, ws_ms, ratio in rows:
        ws = f"{ws_ms:12.2f}" if ws_ms is not None else f"{'-':>12}"
        shown = f"{ratio:7.2f}" if ratio is not None else f"{'-':>7}"
        print(f"{model:<28} {batch:>5} {threads:>7} {ort_ms:10.2f} {ws} {shown}")
    for line in rounds:
        print(line)
    for note in notes:
        print(f"note: {note} (ONNX Runtime figures only)")


if __name__ == "__main__":
    main()
