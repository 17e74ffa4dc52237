"""Expected outputs of onnxruntime's quantization arithmetic for QuantizerArithmeticTests.

Writes Fixtures/calibration/quantizers.json:
  - "activations": for (rmin, rmax, bits) cases, onnxruntime.quantization.quant_utils.compute_scale_zp
    for unsigned asymmetric activations (qmin 0, qmax 2^bits - 1), float32 inputs: the scale
    (float32) and zero point it stores.
  - "weights": for a few float32 weight rows (real tiny_mobilenet filters plus edge cases),
    quantize_data(row, INT8, symmetric=True) — onnxruntime's per-channel weight rule (range
    ±127): the scale and the int8 values.
Run: python3 Fixtures/scripts/make_quantizer_fixtures.py (onnx, onnxruntime, numpy).
"""
import json
import os

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization.quant_utils import compute_scale_zp, quantize_data

ROOT = os.path.join(os.path.dirname(__file__), "..")
rng = np.random.default_rng(3)

activations = []
cases = [(0.0, 6.0), (-1.5, 4.25), (-3.0, -0.5), (0.25, 9.0), (0.0, 0.0), (-2.7182817, 3.1415927), (1e-9, 2e-9)]
cases += [(float(a), float(b)) for a, b in zip(-np.abs(rng.standard_normal(6)) * 7, np.abs(rng.standard_normal(6)) * 11)]
for rmin, rmax in cases:
    for bits in (8, 6, 4):
        qmin, qmax = np.array(0, dtype=np.int32), np.array((1 << bits) - 1, dtype=np.int32)
        zp, scale = compute_scale_zp(np.array(rmin, dtype=np.float32), np.array(rmax, dtype=np.float32), qmin, qmax, symmetric=False)
        activations.append({"rmin": float(np.float32(rmin)), "rmax": float(np.float32(rmax)), "bits": bits,
                            "scale": float(np.float32(scale)), "zeroPoint": int(zp)})

model = onnx.load(os.path.join(ROOT, "models", "tiny_mobilenet.onnx"))
weights = []
rows = []
for init in model.graph.initializer:
    w = numpy_helper.to_array(init)
    if w.ndim == 4 and w.shape[0] >= 4:
        rows += [w[i].reshape(-1).astype(np.float32) for i in (0, w.shape[0] // 2, w.shape[0] - 1)]
    if len(rows) >= 12:
        break
rows.append(np.zeros(9, dtype=np.float32))
rows.append(np.array([0.5, -0.25, 0.125, 1e-8, -1.0], dtype=np.float32))
rows.append((rng.standard_normal(50) * 0.01).astype(np.float32))
for row in rows:
    result = quantize_data(row, onnx.TensorProto.INT8, True)
    scale, q = result[-2], result[-1]
    weights.append({"values": [float(v) for v in row], "scale": float(np.float32(scale)), "quantized": [int(v) for v in q]})

with open(os.path.join(ROOT, "calibration", "quantizers.json"), "w") as f:
    json.dump({"activations": activations, "weights": weights}, f, indent=1)
print(f"{len(activations)} activation cases, {len(weights)} weight rows")
