#!/usr/bin/env python3
"""ONNX Runtime reference for WeakSpot's activation-range calibrators (Sources/Quantization).

Usage: python3 Fixtures/scripts/make_calibration_fixtures.py

Writes Fixtures/calibration/:
- <case>.b0.npy, <case>.b1.npy, <case>.b2.npy: three 1-d float32 calibration batches per case,
  the values of one activation tensor as ONNX Runtime's calibrators see them (flattened).
  Real activations of Fixtures/models/tiny_mobilenet.onnx on its three first input images (one
  image per batch, a channel slice to keep the files small), and synthetic ones: heavy-tailed,
  post-ReLU (all >= 0, many exact zeros), constant, all zero, all zero then non-zero (the
  "old threshold 0" merge), ranges growing from batch to batch (bins added on merge), and
  shrinking (later values below the first batch's smallest |x|, dropped by the absolute
  histogram).
- expected.json: per case, ORT's (rmin, rmax) for:
  - "minmax": create_calibrator(CalibrationMethod.MinMax) at quantize_static's defaults;
  - "percentile": create_calibrator(CalibrationMethod.Percentile) at quantize_static's defaults
    (2,048 bins, percentile 99.999, symmetric=True: create_calibrator's default when
    CalibTensorRangeSymmetric is not given);
  - "percentileAsymmetric": HistogramCollector("percentile", symmetric=False, 2,048 bins,
    99.999), PercentileCalibrater's own class default;
  - "entropy": create_calibrator(CalibrationMethod.Entropy) at its defaults (128 bins,
    128 quantized bins).
  Each is fed the batches one collect_data() call per batch (as quantize_static does with
  CalibStridedMinMax = 1), so histograms are merged across batches. The calibrators run on a
  one-node Identity model whose input is the batch, so ORT's own graph augmentation, session and
  collectors produce the numbers. "<method>Whole" holds the same calibrator fed all three
  batches in one collect_data() call (quantize_static's default, which stacks them into one
  histogram); only for cases whose batches have equal sizes (ORT stacks them with np.asarray).
  "divergences": integer histograms p, q (sparse, small and large counts, 129 to 601 bins) and
  ORT's entropy(smooth_distribution(p), smooth_distribution(q)), the float32 KL divergence its
  entropy search minimises, so the smoothing and divergence arithmetic is checked directly.

Thresholds are written as float32 bit patterns (uint32) as well as decimals, so the Swift test
compares exactly. Deterministic; CI never runs this.
"""
import json
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.quantization.calibrate import CalibrationMethod, HistogramCollector, create_calibrator, entropy
from onnxruntime.quantization.quant_utils import smooth_distribution

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "calibration")
MODELS = os.path.join(HERE, "..", "models")


def model_activations():
    """Three tensors of tiny_mobilenet, one batch per input image (images 0, 1, 2)."""
    model = onnx.load(os.path.join(MODELS, "tiny_mobilenet.onnx"))
    wanted = {
        # BatchNormalization output before ReLU6: signed, roughly Gaussian.
        "mobilenet_stem_bn": ("/stem/stem.1/BatchNormalization_output_0", 4),
        # Residual Add: signed, wider.
        "mobilenet_block1_add": ("/block1/Add_output_0", 4),
        # HardSwish: mostly positive, a short negative tail down to -3/8.
        "mobilenet_block2_hardswish": ("/block2/depthwise/expand.2/HardSwish_output_0", 6),
    }
    for name, _ in wanted.values():
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    images = np.load(os.path.join(MODELS, "tiny_mobilenet.input.npy"))
    input_name = session.get_inputs()[0].name
    names = [name for name, _ in wanted.values()]
    per_image = [session.run(names, {input_name: images[i:i + 1]}) for i in range(3)]
    cases = {}
    for index, (case, (_, channels)) in enumerate(wanted.items()):
        cases[case] = [np.ascontiguousarray(out[index][:, :channels]).ravel().astype(np.float32) for out in per_image]
    return cases


def synthetic_activations():
    rng = np.random.default_rng(20261207)
    f32 = np.float32
    cases = {}
    # Student-t with 2 degrees of freedom: a few far outliers, so the percentile cut matters.
    cases["heavy_tailed"] = [rng.standard_t(2, 12000).astype(f32) for _ in range(3)]
    # Post-ReLU: exact zeros for half the values, the rest half-normal.
    cases["post_relu"] = [np.maximum(rng.normal(0.2, 1.0, 12000), 0).astype(f32) for _ in range(3)]
    cases["constant"] = [np.full(1000, 0.75, f32) for _ in range(3)]
    cases["all_zero"] = [np.zeros(1000, f32) for _ in range(3)]
    # First batch all zero: the value histogram's "old threshold 0" merge branch.
    cases["zero_then_values"] = [np.zeros(2000, f32), rng.normal(0, 1, 2000).astype(f32),
                                 rng.normal(0.5, 2, 2000).astype(f32)]
    # Ranges growing 1 -> 7 -> 40: bins added on both histograms' merges, unequal batch sizes.
    cases["growing_range"] = [rng.normal(0, 1, 8000).astype(f32), rng.normal(1, 2.5, 6000).clip(-7, 7).astype(f32),
                              rng.laplace(0, 4, 4000).astype(f32) * f32(1.5)]
    # Shrinking: later batches lie inside the first; the first has no value near 0, so the
    # absolute histogram starts above 0 and drops later values below its first edge.
    cases["shrinking_range"] = [rng.uniform(0.5, 9, 5000).astype(f32) * rng.choice([f32(-1), f32(1)], 5000),
                                rng.normal(0, 0.5, 5000).astype(f32), rng.normal(0, 2, 5000).astype(f32)]
    return cases


def identity_model(path):
    """X (float, 1-d, any length) -> Identity -> Y: the smallest graph the calibrators accept."""
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n"])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph([helper.make_node("Identity", ["X"], ["Y"])], "calibration", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


class Reader:
    def __init__(self, batches):
        self.batches = list(batches)

    def get_next(self):
        return {"X": self.batches.pop(0)} if self.batches else None


def ort_range(method, batches, per_batch, workdir):
    """(rmin, rmax) of tensor X from create_calibrator(method) at quantize_static's defaults."""
    model = os.path.join(workdir, "identity.onnx")
    identity_model(model)
    calibrator = create_calibrator(model, None, augmented_model_path=os.path.join(workdir, "augmented.onnx"),
                                   calibrate_method=method, extra_options={})
    if per_batch:
        for batch in batches:
            calibrator.collect_data(Reader([batch]))
    else:
        calibrator.collect_data(Reader(batches))
    low, high = calibrator.compute_data()["X"].range_value
    return float32_pair(low, high)


def collector_range(batches):
    """HistogramCollector as PercentileCalibrater's class default builds it (symmetric=False)."""
    collector = HistogramCollector(method="percentile", symmetric=False, num_bins=2048, num_quantized_bins=128,
                                   percentile=99.999, scenario="same")
    for batch in batches:
        collector.collect({"X": batch})
    low, high = collector.compute_collection_result()["X"][:2]
    return float32_pair(low, high)


def float32_pair(low, high):
    # MinMax's ReduceMin/ReduceMax give 1-element arrays, the histograms float32 scalars.
    low, high = np.asarray(low), np.asarray(high)
    assert low.size == 1 and high.size == 1 and low.dtype == np.float32 and high.dtype == np.float32
    low, high = low.reshape(()), high.reshape(())
    return {"range": [float(low), float(high)],
            "bits": [int(np.array(low).view(np.uint32)), int(np.array(high).view(np.uint32))]}


def divergences():
    """ORT's smoothed KL divergence on seeded sparse count pairs like its entropy search builds."""
    rng = np.random.default_rng(7)
    out = []
    for size, density, top in [(129, 0.3, 3), (129, 0.9, 1000), (257, 0.5, 2), (401, 0.1, 50), (601, 0.7, 5)]:
        p = np.where(rng.random(size) < density, rng.integers(1, top + 1, size), 0).astype(np.int64)
        q = np.where(rng.random(size) < density, rng.integers(1, top + 1, size), 0).astype(np.int64)
        value = np.float32(entropy(smooth_distribution(p), smooth_distribution(q)))
        out.append({"p": p.tolist(), "q": q.tolist(), "divergence": float(value),
                     "bits": int(np.array(value).view(np.uint32))})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {**model_activations(), **synthetic_activations()}
    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    expected = {}
    with tempfile.TemporaryDirectory() as workdir:
        for case, batches in cases.items():
            assert len(batches) == 3 and all(b.dtype == np.float32 and b.ndim == 1 for b in batches)
            for i, batch in enumerate(batches):
                np.save(os.path.join(OUT, f"{case}.b{i}.npy"), batch)
            entry = {"batches": [f"{case}.b{i}.npy" for i in range(3)], "sizes": [int(b.size) for b in batches]}
            for key, method in methods.items():
                entry[key] = ort_range(method, batches, True, workdir)
                if len({b.size for b in batches}) == 1:
                    entry[key + "Whole"] = ort_range(method, batches, False, workdir)
            entry["percentileAsymmetric"] = collector_range(batches)
            expected[case] = entry
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "numpy": np.__version__, "cases": expected,
                   "divergences": divergences()}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
