"""QuantizeLinear / DequantizeLinear fixtures (issues 15, 19): constant weights behind Q/DQ, folded by
WeakSpot at import, with ONNX Runtime's outputs; a small CNN quantized by
onnxruntime.quantization.quantize_static (QDQ, per-channel); hostile Q/DQ parameters (weights and
activation pairs), also copied into the graph fuzz corpus; and the tiny fixture models quantized by
quantize_static with ORT's outputs optimised and not (the parity check of WeakSpot's QDQ runs).
Seeded and re-runnable; CI never runs it. Parts can be made alone (the others keep their files):

    python3 Fixtures/scripts/make_qdq_fixtures.py [weights static activations hostile hostile_activations fuzz ort_parity]
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

import shutil
import sys

import onnxruntime as ort

from fixture_common import FIXTURES, run_ort, save_npy

OUT = FIXTURES / "qdq"
RNG = np.random.default_rng(1515)


def run_literal(path, feeds):
    """ONNX Runtime with graph optimisations off: Q/DQ nodes run as the ONNX operators, in
    float. (Optimised, ORT fuses QDQ into integer kernels such as QLinearConv, whose
    requantisation can differ from the operators' definition by one quantisation step.)"""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(None, feeds)


def activation_pairs():
    """QuantizeLinear → DequantizeLinear on the model input, per tensor, int8 and uint8: every
    value lies on a .5 boundary of the scale or beyond the type's range, so that rounding half
    to even and saturation decide each output."""
    scale = np.float32(0.25)
    k = np.arange(-300, 300, dtype=np.float32)[:2 * 4 * 4 * 4].reshape(4, 2, 4, 4)
    x = (k + 0.5) * scale
    for name, zp in [("qdq_activation_int8", np.int8(-3)), ("qdq_activation_uint8", np.uint8(130))]:
        inits = [numpy_helper.from_array(np.asarray(scale), "s"), numpy_helper.from_array(np.asarray(zp), "z")]
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q_x"),
                 helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq_x")]
        graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(model)
        path = OUT / f"{name}.onnx"
        onnx.save_model(model, str(path))
        save_npy(OUT / f"{name}.input.npy", x)
        save_npy(OUT / f"{name}.output.npy", run_literal(path, {"x": x})[0])


def io_info(channels=3, size=8, classes=4):
    return ([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", channels, size, size])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", classes])])


def head(inp):
    """relu → global pool → flatten, the tail shared by the single-conv models."""
    return [helper.make_node("Relu", [inp], ["r"], name="relu"),
            helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
            helper.make_node("Flatten", ["p"], ["y"], name="flatten")]


def save_with_reference(graph, name, x, opset):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    path = OUT / f"{name}.onnx"
    onnx.save_model(model, str(path))
    save_npy(OUT / f"{name}.output.npy", run_ort(path, {"x": x})[0])


def dequantized_weight_models(x):
    """Conv 3→4 3×3 whose weight is DequantizeLinear of an int8/uint8 initializer: per tensor
    (opset 10 form, uint8 with zero point) and per output channel (opset 13, axis 0)."""
    q = RNG.integers(-128, 128, size=(4, 3, 3, 3)).astype(np.int8)
    bias = (RNG.standard_normal(4) * 0.1).astype(np.float32)
    for name, opset, wq, scale, zp, axis in [
        ("dq_per_tensor_uint8", 10, (q.astype(np.int16) + 128).astype(np.uint8), np.float32(0.01), np.uint8(121), None),
        ("dq_per_channel_int8", 13, q, np.array([0.01, 0.02, 0.005, 0.03], np.float32), np.array([0, 3, -5, 7], np.int8), 0),
    ]:
        inits = [numpy_helper.from_array(wq, "w_q"), numpy_helper.from_array(np.asarray(scale), "w_scale"),
                 numpy_helper.from_array(np.asarray(zp), "w_zp"), numpy_helper.from_array(bias, "b")]
        attrs = {} if axis is None else {"axis": axis}
        nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], name="dq_w", **attrs),
                 helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1])] + head("c")
        inputs, outputs = io_info()
        save_with_reference(helper.make_graph(nodes, name, inputs, outputs, inits), name, x, opset)


def quantize_dequantize_weight_model(x):
    """A float weight through QuantizeLinear → DequantizeLinear (per channel, int8), its values
    on .5 boundaries of the scale and beyond the int8 range, so that rounding half to even and
    saturation decide the result."""
    scale = np.array([0.5, 0.25, 0.125, 1.0], np.float32)
    k = RNG.integers(-140, 140, size=(4, 3, 3, 3)).astype(np.float32)
    w = (k + 0.5) * scale[:, None, None, None]  # exactly halfway between two steps
    zp = np.array([0, 1, -2, 3], np.int8)
    inits = [numpy_helper.from_array(w, "w_float"), numpy_helper.from_array(scale, "w_scale"), numpy_helper.from_array(zp, "w_zp")]
    nodes = [helper.make_node("QuantizeLinear", ["w_float", "w_scale", "w_zp"], ["w_q"], name="q_w", axis=0),
             helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], name="dq_w", axis=0),
             helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1])] + head("c")
    inputs, outputs = io_info()
    save_with_reference(helper.make_graph(nodes, "qdq_weight_half_even", inputs, outputs, inits), "qdq_weight_half_even", x, 13)
    # The folded weight by ONNX's formula (np.rint rounds half to even), for an exact check.
    s, z = scale[:, None, None, None], zp.astype(np.float32)[:, None, None, None]
    q = np.clip(np.rint(w / s) + z, -128, 127)
    save_npy(OUT / "qdq_weight_half_even.weight.npy", ((q - z) * s).astype(np.float32))


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        return self.fc(x.mean(dim=(2, 3)))


class Reader(CalibrationDataReader):
    def __init__(self, batches):
        self.batches = iter(batches)

    def get_next(self):
        batch = next(self.batches, None)
        return None if batch is None else {"x": batch}


def static_quantized_cnn(x):
    """quantize_static (QDQ, per-channel int8 weights, uint8 activations), and the same model
    with its activation Q→DQ pairs removed (weights only), which WeakSpot runs."""
    torch.manual_seed(1515)
    model = SmallCNN().eval()
    float_path = OUT / "small_cnn_float.onnx"
    torch.onnx.export(model, torch.from_numpy(x[:1]), str(float_path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=13, dynamo=False)
    calibration = [RNG.standard_normal((1, 3, 8, 8)).astype(np.float32) for _ in range(8)]
    qdq_path = OUT / "qdq_static_cnn.onnx"
    quantize_static(str(float_path), str(qdq_path), Reader(calibration), quant_format=QuantFormat.QDQ,
                    per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    float_path.unlink()
    save_npy(OUT / "qdq_static_cnn.output.npy", run_literal(qdq_path, {"x": x})[0])
    # Weights only: every QuantizeLinear of an activation and its DequantizeLinear are bypassed.
    m = onnx.load(str(qdq_path))
    initializers = {t.name for t in m.graph.initializer}
    bypass, dropped = {}, set()
    for node in m.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in initializers:
            for consumer in m.graph.node:
                if consumer.op_type == "DequantizeLinear" and consumer.input[0] == node.output[0]:
                    bypass[consumer.output[0]] = node.input[0]
                    dropped.add(consumer.name)
            dropped.add(node.name)
    kept = [n for n in m.graph.node if n.name not in dropped]
    for n in kept:
        for i, name in enumerate(n.input):
            if name in bypass:
                n.input[i] = bypass[name]
    # A graph output behind a pair: the float value it bypasses takes the output's name.
    for o in m.graph.output:
        if o.name in bypass:
            source = bypass.pop(o.name)
            for n in kept:
                n.output[:] = [o.name if v == source else v for v in n.output]
                n.input[:] = [o.name if v == source else v for v in n.input]
            bypass = {k: (o.name if v == source else v) for k, v in bypass.items()}
            for n in kept:
                n.input[:] = [bypass.get(v, v) for v in n.input]
    del m.graph.node[:]
    m.graph.node.extend(kept)
    onnx.checker.check_model(m)
    weights_path = OUT / "qdq_weights_cnn.onnx"
    onnx.save_model(m, str(weights_path))
    save_npy(OUT / "qdq_weights_cnn.output.npy", run_ort(weights_path, {"x": x})[0])
    with torch.no_grad():
        params = sum(p.numel() for p in model.parameters())
    (OUT / "qdq_weights_cnn.params.txt").write_text(f"{params}\n")


def zero_point_300() -> TensorProto:
    tensor = TensorProto()
    tensor.name = "w_zp"
    tensor.data_type = TensorProto.UINT8
    tensor.int32_data.append(300)
    return tensor


def hostile_models():
    """Q/DQ parameters WeakSpot must refuse naming the node (not checked by onnx.checker: some
    are valid protobuf that ORT would also reject or compute as inf/NaN)."""
    q = np.zeros((4, 3, 3, 3), np.int8)
    cases = {
        "zero_scale": (np.float32(0), np.int8(0), {}),
        "negative_scale": (np.float32(-0.1), np.int8(0), {}),
        "nan_scale": (np.float32(np.nan), np.int8(0), {}),
        "scale_not_matching_axis": (np.array([0.1, 0.2, 0.3], np.float32), np.array([0, 0, 0], np.int8), {"axis": 0}),
        "zero_point_shape": (np.array([0.1, 0.2, 0.3, 0.4], np.float32), np.array([0, 0], np.int8), {"axis": 0}),
    }
    for name, (scale, zp, attrs) in cases.items():
        inits = [numpy_helper.from_array(q, "w_q"), numpy_helper.from_array(np.asarray(scale), "w_scale"),
                 numpy_helper.from_array(np.asarray(zp), "w_zp")]
        nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], name="dq_w", **attrs),
                 helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1])] + head("c")
        inputs, outputs = io_info()
        model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 13)])
        onnx.save_model(model, str(OUT / f"hostile_{name}.onnx"))
    # A uint8 zero point of 300 stored in int32_data (out of the type's range).
    inits = [numpy_helper.from_array(q.astype(np.uint8), "w_q"), numpy_helper.from_array(np.float32(0.1), "w_scale"),
             zero_point_300()]
    nodes = [helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["w"], name="dq_w"),
             helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1])] + head("c")
    inputs, outputs = io_info()
    model = helper.make_model(helper.make_graph(nodes, "zp_range", inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 13)])
    onnx.save_model(model, str(OUT / "hostile_zero_point_out_of_range.onnx"))
    # A QuantizeLinear of an activation with no DequantizeLinear: the model outputs int8.
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], name="q_x")]
    inits = [numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.int8(0), "z")]
    graph = helper.make_graph(nodes, "lone_quantize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, ["N", 3, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save_model(model, str(OUT / "hostile_lone_quantize.onnx"))


def uint8_300(name: str) -> TensorProto:
    """A uint8 scalar of 300 (out of the type's range), which only int32_data can hold."""
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = TensorProto.UINT8
    tensor.int32_data.append(300)
    return tensor


def hostile_activation_models():
    """Q → DQ pairs on an activation (conv → relu → Q → DQ → pool) with parameters WeakSpot must
    refuse naming the node: zero and negative scales, a zero point out of its type, a DQ zero
    point of another type than the Q's, per-axis activation scales, zero point and scale of
    different shapes. Not checked by onnx.checker (several are invalid by design)."""
    w = (RNG.standard_normal((4, 3, 3, 3)) * 0.2).astype(np.float32)
    good_s, good_z = np.float32(0.05), np.uint8(10)
    cases = {
        # name: (Q scale, Q zero point, DQ scale, DQ zero point)
        "zero_scale": (np.float32(0), good_z, good_s, good_z),
        "negative_scale": (good_s, good_z, np.float32(-0.05), good_z),
        "zero_point_out_of_range": (good_s, "300", good_s, "300"),
        "zero_point_type_mismatch": (good_s, good_z, good_s, np.int8(-5)),
        "per_axis_scale": (np.array([0.1, 0.2, 0.3, 0.4], np.float32), np.zeros(4, np.uint8), good_s, good_z),
        "zero_point_shape": (good_s, np.array([1, 2], np.uint8), good_s, good_z),
    }
    for name, (qs, qz, ds, dz) in cases.items():
        def tensor(value, tname):
            return uint8_300(tname) if isinstance(value, str) else numpy_helper.from_array(np.asarray(value), tname)
        inits = [numpy_helper.from_array(w, "w"), tensor(qs, "q_scale"), tensor(qz, "q_zp"), tensor(ds, "dq_scale"), tensor(dz, "dq_zp")]
        axis = {"axis": 1} if name == "per_axis_scale" else {}
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["c"], ["r"], name="relu"),
                 helper.make_node("QuantizeLinear", ["r", "q_scale", "q_zp"], ["r_q"], name="q_r", **axis),
                 helper.make_node("DequantizeLinear", ["r_q", "dq_scale", "dq_zp"], ["r_dq"], name="dq_r"),
                 helper.make_node("GlobalAveragePool", ["r_dq"], ["p"], name="pool"),
                 helper.make_node("Flatten", ["p"], ["y"], name="flatten")]
        inputs, outputs = io_info()
        model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 13)])
        onnx.save_model(model, str(OUT / f"hostile_activation_{name}.onnx"))


def fuzz_seeds():
    """Every hostile Q/DQ model as a seed of the graph fuzz target (FuzzCorpusTests replays them;
    expected.tsv says refused). The accepted QDQ seeds are qdq_static_cnn.onnx and
    qdq_weakspot_cnn.onnx, the latter written by WeakSpot itself (docs/quantization.md):
    weakspot quantize Fixtures/import/initializer_cnn.onnx --bits 8 --activations 8
    --calibrate Fixtures/import/cnn.input.npy -o Fixtures/fuzz/graph/qdq_weakspot_cnn.onnx."""
    fuzz = FIXTURES / "fuzz" / "graph"
    for path in sorted(OUT.glob("hostile_*.onnx")):
        shutil.copyfile(path, fuzz / path.name)


class TinyReader(CalibrationDataReader):
    def __init__(self, name, x):
        self.name, self.items = name, iter(x[i:i + 1] for i in range(len(x)))

    def get_next(self):
        batch = next(self.items, None)
        return None if batch is None else {self.name: batch}


def ort_parity():
    """The tiny fixture models quantized by onnxruntime's quantize_static (QDQ, per-channel int8
    weights, uint8 activations, MinMax, calibrated on the model's own input.npy), with ORT's
    outputs on those inputs with graph optimisations off (Q/DQ as the ONNX operators) and at the
    default level (fused integer kernels): ort_<name>.onnx, ort_<name>.output.npy,
    ort_<name>.optimized.npy."""
    models = FIXTURES / "models"
    for name in ["tiny_mobilenet", "tiny_resnet"]:
        x = np.load(models / f"{name}.input.npy")
        input_name = onnx.load(str(models / f"{name}.onnx")).graph.input[0].name
        path = OUT / f"ort_{name}.onnx"
        quantize_static(str(models / f"{name}.onnx"), str(path), TinyReader(input_name, x), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        save_npy(OUT / f"ort_{name}.output.npy", run_literal(path, {input_name: x})[0])
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        save_npy(OUT / f"ort_{name}.optimized.npy", session.run(None, {input_name: x})[0])


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    parts = sys.argv[1:] or ["weights", "static", "activations", "hostile", "hostile_activations", "ort_parity", "fuzz"]
    x = RNG.standard_normal((3, 3, 8, 8)).astype(np.float32)
    if "weights" in parts or "static" in parts:
        save_npy(OUT / "input.npy", x)
    if "weights" in parts:
        dequantized_weight_models(x)
        quantize_dequantize_weight_model(x)
    if "static" in parts:
        static_quantized_cnn(x)
    if "activations" in parts:
        activation_pairs()
    if "hostile" in parts:
        hostile_models()
    if "hostile_activations" in parts:
        hostile_activation_models()
    if "ort_parity" in parts:
        ort_parity()
    if "fuzz" in parts:
        fuzz_seeds()
