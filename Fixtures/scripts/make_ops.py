"""Single-operator models: Fixtures/ops/<case>/{model.onnx, input_<i>.npy, output_<i>.npy} and
Fixtures/ops/manifest.json.

Each model is built with onnx.helper at opset 17 (one case at opset 18), checked with
onnx.checker, and run by ONNX Runtime (CPU) for the reference outputs. Operands that are
naturally constant (Conv W/B, BatchNorm parameters, Gemm B/C, Reshape shape, Slice bounds, Pad
pads, Clip bounds, ...) are initializers; everything else is a graph input, filled with seeded
random values (per-case seed = crc32 of the case name). The shape-arithmetic case is a torch
export of `x.view(x.size(0), -1)` with a symbolic batch, run at batch 3.
"""

from __future__ import annotations

import json
import shutil
import zlib

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import fixture_common as fc

OPS = fc.FIXTURES / "ops"
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
manifest: list[dict] = []


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def rand(rng, *shape, scale=1.0, offset=0.0):
    return (rng.standard_normal(shape) * scale + offset).astype(np.float32)


def i64(values):
    return np.asarray(values, dtype=np.int64)


def elem_type(array: np.ndarray) -> int:
    return helper.np_dtype_to_tensor_dtype(array.dtype)


def save_case(name: str, op: str, nodes, inputs: dict, initializers: dict, outputs: list[str],
              note: str, opset: int = 17) -> None:
    """Builds, checks and runs one case; `inputs` maps graph-input name to array (in order)."""
    graph_inputs = [helper.make_tensor_value_info(k, elem_type(v), list(v.shape)) for k, v in inputs.items()]
    inits = [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in initializers.items()]
    probe = helper.make_graph(nodes, name, graph_inputs,
                              [onnx.ValueInfoProto(name=o) for o in outputs], inits)
    model = helper.make_model(probe, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="WeakSpot make_ops.py")
    model.ir_version = 8 if opset <= 17 else 9
    folder = OPS / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    inferred = onnx.shape_inference.infer_shapes(model)
    out_types = {vi.name: vi.type.tensor_type.elem_type for vi in inferred.graph.output}
    del model.graph.output[:]
    for o in outputs:
        model.graph.output.append(helper.make_tensor_value_info(o, out_types.get(o) or FLOAT, None))
    onnx.save(model, str(path))
    results = fc.run_ort(path, inputs)
    # Declare the output shapes now that they are known, then re-check and re-save.
    del model.graph.output[:]
    for o, r in zip(outputs, results):
        model.graph.output.append(helper.make_tensor_value_info(o, elem_type(r), list(r.shape)))
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    finish(name, op, path, list(inputs.values()), results, note, opset)


def finish(name, op, path, input_arrays, results, note, opset):
    folder = path.parent
    record = {"name": name, "op": op, "opset": opset, "model": f"{name}/model.onnx",
              "inputs": [], "outputs": [], "note": note}
    for i, a in enumerate(input_arrays):
        fc.save_npy(folder / f"input_{i}.npy", a)
        record["inputs"].append({"file": f"{name}/input_{i}.npy", "shape": list(a.shape),
                                 "dtype": str(np.asarray(a).dtype)})
    for i, r in enumerate(results):
        fc.save_npy(folder / f"output_{i}.npy", r)
        record["outputs"].append({"file": f"{name}/output_{i}.npy", "shape": list(r.shape),
                                  "dtype": "float32" if r.dtype.kind == "f" else "int64"})
    manifest.append(record)


def conv_case(name, x_shape, w_shape, note, bias=True, **attrs):
    rng = rng_for(name)
    x = rand(rng, *x_shape)
    inits = {"W": rand(rng, *w_shape, scale=0.3)}
    ins = ["x", "W"]
    if bias:
        inits["B"] = rand(rng, w_shape[0], scale=0.5)
        ins.append("B")
    node = helper.make_node("Conv", ins, ["y"], name="conv", **attrs)
    save_case(name, "Conv", [node], {"x": x}, inits, ["y"], note)


def unary_case(name, op, note, scale=2.0, **attrs):
    rng = rng_for(name)
    x = rand(rng, 2, 3, 5, 5, scale=scale)
    save_case(name, op, [helper.make_node(op, ["x"], ["y"], name=op.lower(), **attrs)],
              {"x": x}, {}, ["y"], note)


def build_cases() -> None:
    # Conv
    conv_case("conv_plain", (2, 4, 9, 9), (6, 4, 3, 3), "3x3, pads 1, stride 1, bias",
              kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    conv_case("conv_groups2", (2, 4, 8, 8), (6, 2, 3, 3), "group=2 (each group 2 in, 3 out)",
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)
    conv_case("conv_depthwise", (2, 6, 8, 8), (6, 1, 3, 3), "depthwise: group = C = 6",
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6)
    conv_case("conv_stride2", (1, 3, 11, 11), (5, 3, 3, 3), "stride 2 on an odd size, pads 1",
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    conv_case("conv_asymmetric_pads", (1, 3, 7, 8), (4, 3, 3, 3),
              "pads [top 0, left 1, bottom 2, right 1]", kernel_shape=[3, 3], pads=[0, 1, 2, 1])
    conv_case("conv_same_upper", (1, 3, 10, 10), (4, 3, 3, 3),
              "auto_pad SAME_UPPER, stride 2 on an even size: extra pad at the end",
              kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    conv_case("conv_same_lower", (1, 3, 10, 10), (4, 3, 3, 3),
              "auto_pad SAME_LOWER, stride 2 on an even size: extra pad at the beginning",
              kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")
    conv_case("conv_valid", (1, 3, 9, 7), (4, 3, 3, 3), "auto_pad VALID (no padding)",
              kernel_shape=[3, 3], auto_pad="VALID")
    conv_case("conv_dilations2", (1, 3, 10, 10), (4, 3, 3, 3), "dilations 2, pads 2",
              kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2])
    conv_case("conv_1x1", (2, 8, 5, 5), (6, 8, 1, 1), "pointwise 1x1", kernel_shape=[1, 1])
    conv_case("conv_no_bias", (2, 4, 6, 6), (5, 4, 3, 3), "two inputs only (no B)", bias=False,
              kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    conv_case("conv_7x7_s2_p3", (1, 3, 32, 32), (8, 3, 7, 7), "ResNet stem shape: 7x7 stride 2 pad 3",
              kernel_shape=[7, 7], strides=[2, 2], pads=[3, 3, 3, 3])

    # BatchNormalization (inference form)
    rng = rng_for("batchnorm")
    c = 5
    save_case("batchnorm", "BatchNormalization",
              [helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"], ["y"],
                                epsilon=1e-3, name="bn")],
              {"x": rand(rng, 2, c, 6, 6, scale=2.0, offset=0.5)},
              {"scale": rand(rng, c, scale=0.5, offset=1.0), "B": rand(rng, c, scale=0.3),
               "mean": rand(rng, c, scale=0.5), "var": (rng.random(c) * 2 + 0.1).astype(np.float32)},
              ["y"], "inference form, epsilon 1e-3, one output")

    # Activations
    unary_case("relu", "Relu", "")
    unary_case("leakyrelu", "LeakyRelu", "alpha 0.1", alpha=0.1)
    rng = rng_for("clip_min_max")
    save_case("clip_min_max", "Clip", [helper.make_node("Clip", ["x", "min", "max"], ["y"], name="clip")],
              {"x": rand(rng, 2, 3, 5, 5, scale=2.0)},
              {"min": np.array(-0.5, np.float32), "max": np.array(0.8, np.float32)}, ["y"],
              "min and max as (scalar initializer) inputs, opset 11+ form")
    rng = rng_for("clip_min_only")
    save_case("clip_min_only", "Clip", [helper.make_node("Clip", ["x", "min"], ["y"], name="clip")],
              {"x": rand(rng, 2, 3, 5, 5, scale=2.0)}, {"min": np.array(0.0, np.float32)}, ["y"],
              "only min given (max absent): a ReLU")
    rng = rng_for("clip_relu6")
    save_case("clip_relu6", "Clip", [helper.make_node("Clip", ["x", "min", "max"], ["y"], name="clip")],
              {"x": rand(rng, 2, 3, 5, 5, scale=5.0)},
              {"min": np.array(0.0, np.float32), "max": np.array(6.0, np.float32)}, ["y"],
              "ReLU6 as PyTorch exports it")
    unary_case("sigmoid", "Sigmoid", "")
    unary_case("hardsigmoid", "HardSigmoid", "ONNX defaults alpha 0.2, beta 0.5", scale=4.0)
    unary_case("hardsigmoid_torch", "HardSigmoid", "alpha 1/6, beta 0.5 as PyTorch exports it",
               scale=4.0, alpha=1.0 / 6.0, beta=0.5)
    unary_case("hardswish", "HardSwish", "", scale=4.0)
    unary_case("tanh", "Tanh", "")

    # Binary element-wise with broadcasting
    shapes = {"same": ((2, 4, 3, 3), (2, 4, 3, 3), "same shape"),
              "channel": ((2, 4, 3, 3), (1, 4, 1, 1), "per-channel (1,C,1,1) broadcast"),
              "scalar": ((2, 4, 3, 3), (), "rank-0 scalar second operand"),
              "c11": ((2, 4, 3, 3), (4, 1, 1), "(C,1,1) second operand (rank 3 vs 4)")}
    for op in ["Add", "Sub", "Mul", "Div"]:
        for tag, (sa, sb, note) in shapes.items():
            name = f"{op.lower()}_{tag}"
            rng = rng_for(name)
            a = rand(rng, *sa)
            if op == "Div":  # keep divisors away from zero
                b = (np.sign(rng.standard_normal(sb)) * (0.5 + rng.random(sb) * 1.5)).astype(np.float32)
            else:
                b = rand(rng, *sb)
            save_case(name, op, [helper.make_node(op, ["a", "b"], ["y"], name=op.lower())],
                      {"a": a, "b": np.asarray(b, np.float32)}, {}, ["y"], note)

    # Pooling
    def pool_case(name, op, note, shape=(2, 3, 9, 9), **attrs):
        rng = rng_for(name)
        save_case(name, op, [helper.make_node(op, ["x"], ["y"], name=op.lower(), **attrs)],
                  {"x": rand(rng, *shape)}, {}, ["y"], note)

    pool_case("maxpool_3x3_s2_p1", "MaxPool", "ResNet stem pool", shape=(2, 3, 10, 10),
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("maxpool_ceil", "MaxPool", "ceil_mode 1: 8x8, k3 s2 -> 4x4 (floor would give 3x3)",
              shape=(2, 3, 8, 8), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool_case("maxpool_dilations", "MaxPool", "dilations 2", shape=(1, 3, 9, 9),
              kernel_shape=[3, 3], dilations=[2, 2], strides=[1, 1])
    pool_case("averagepool_exclude_pad", "AveragePool", "count_include_pad 0 with pads 1",
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0)
    pool_case("averagepool_include_pad", "AveragePool", "count_include_pad 1 with pads 1",
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    pool_case("averagepool_ceil", "AveragePool", "ceil_mode 1, 8x8 k3 s2: partial last window",
              shape=(2, 3, 8, 8), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool_case("globalaveragepool", "GlobalAveragePool", "", shape=(2, 5, 6, 7))

    # ReduceMean
    rng = rng_for("reducemean_keepdims")
    save_case("reducemean_keepdims", "ReduceMean",
              [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=1, name="mean")],
              {"x": rand(rng, 2, 4, 5, 6)}, {}, ["y"], "axes [2,3] attribute (opset 17), keepdims 1")
    rng = rng_for("reducemean_nokeepdims")
    save_case("reducemean_nokeepdims", "ReduceMean",
              [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=0, name="mean")],
              {"x": rand(rng, 2, 4, 5, 6)}, {}, ["y"], "axes [2,3] attribute (opset 17), keepdims 0")
    rng = rng_for("reducemean_opset18")
    save_case("reducemean_opset18", "ReduceMean",
              [helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1, name="mean")],
              {"x": rand(rng, 2, 4, 5, 6)}, {"axes": i64([2, 3])}, ["y"],
              "opset 18: axes as an input (initializer)", opset=18)

    # Shape manipulation
    rng = rng_for("flatten")
    save_case("flatten", "Flatten", [helper.make_node("Flatten", ["x"], ["y"], axis=1, name="flatten")],
              {"x": rand(rng, 2, 3, 4, 5)}, {}, ["y"], "axis 1")
    rng = rng_for("reshape")
    save_case("reshape", "Reshape", [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")],
              {"x": rand(rng, 2, 3, 4, 5)}, {"shape": i64([0, 12, -1])}, ["y"],
              "shape [0, 12, -1]: 0 copies the batch, -1 is inferred -> (2,12,5)")
    rng = rng_for("transpose")
    save_case("transpose", "Transpose",
              [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1], name="transpose")],
              {"x": rand(rng, 2, 3, 4, 5)}, {}, ["y"], "NCHW -> NHWC")
    rng = rng_for("squeeze")
    save_case("squeeze", "Squeeze", [helper.make_node("Squeeze", ["x", "axes"], ["y"], name="squeeze")],
              {"x": rand(rng, 2, 3, 1, 1)}, {"axes": i64([2, 3])}, ["y"], "axes as input (opset 13+)")
    rng = rng_for("unsqueeze")
    save_case("unsqueeze", "Unsqueeze",
              [helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsqueeze")],
              {"x": rand(rng, 2, 3)}, {"axes": i64([2, 3])}, ["y"], "axes as input (opset 13+)")
    rng = rng_for("concat")
    save_case("concat", "Concat", [helper.make_node("Concat", ["a", "b", "c"], ["y"], axis=1, name="concat")],
              {"a": rand(rng, 2, 2, 4, 4), "b": rand(rng, 2, 3, 4, 4), "c": rand(rng, 2, 1, 4, 4)},
              {}, ["y"], "axis 1, three inputs of 2, 3 and 1 channels")
    rng = rng_for("pad_constant")
    save_case("pad_constant", "Pad",
              [helper.make_node("Pad", ["x", "pads", "value"], ["y"], mode="constant", name="pad")],
              {"x": rand(rng, 1, 2, 4, 5)},
              {"pads": i64([0, 0, 1, 2, 0, 0, 2, 1]), "value": np.array(0.5, np.float32)}, ["y"],
              "constant mode, pads and value as inputs: H +1/+2, W +2/+1, value 0.5")
    rng = rng_for("pad_reflect")
    save_case("pad_reflect", "Pad", [helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect", name="pad")],
              {"x": rand(rng, 1, 2, 4, 5)}, {"pads": i64([0, 0, 2, 1, 0, 0, 1, 2])}, ["y"],
              "reflect mode")

    # Gemm / MatMul
    rng = rng_for("gemm_transb_bias")
    save_case("gemm_transb_bias", "Gemm",
              [helper.make_node("Gemm", ["a", "B", "C"], ["y"], transB=1, name="gemm")],
              {"a": rand(rng, 3, 8)}, {"B": rand(rng, 5, 8, scale=0.3), "C": rand(rng, 5)}, ["y"],
              "Linear layer as PyTorch exports it: transB 1, bias C (N)")
    rng = rng_for("gemm_plain")
    save_case("gemm_plain", "Gemm", [helper.make_node("Gemm", ["a", "B"], ["y"], transA=0, transB=0, name="gemm")],
              {"a": rand(rng, 3, 8)}, {"B": rand(rng, 8, 5, scale=0.3)}, ["y"],
              "transA 0, transB 0, no C")
    rng = rng_for("gemm_alpha_beta")
    save_case("gemm_alpha_beta", "Gemm",
              [helper.make_node("Gemm", ["a", "B", "C"], ["y"], transB=1, alpha=0.5, beta=2.0, name="gemm")],
              {"a": rand(rng, 3, 8)}, {"B": rand(rng, 5, 8, scale=0.3), "C": rand(rng, 1, 5)}, ["y"],
              "alpha 0.5, beta 2, C broadcast from (1,N)")
    rng = rng_for("matmul_2d")
    save_case("matmul_2d", "MatMul", [helper.make_node("MatMul", ["a", "B"], ["y"], name="matmul")],
              {"a": rand(rng, 3, 8)}, {"B": rand(rng, 8, 5, scale=0.3)}, ["y"],
              "(3,8) x constant (8,5)")
    rng = rng_for("matmul_batched")
    save_case("matmul_batched", "MatMul", [helper.make_node("MatMul", ["a", "B"], ["y"], name="matmul")],
              {"a": rand(rng, 2, 3, 8)}, {"B": rand(rng, 8, 5, scale=0.3)}, ["y"],
              "batched (2,3,8) x constant 2-D (8,5)")

    # Softmax
    rng = rng_for("softmax_last")
    save_case("softmax_last", "Softmax", [helper.make_node("Softmax", ["x"], ["y"], axis=-1, name="softmax")],
              {"x": rand(rng, 2, 3, 5, scale=3.0)}, {}, ["y"], "axis -1")
    rng = rng_for("softmax_axis1")
    save_case("softmax_axis1", "Softmax", [helper.make_node("Softmax", ["x"], ["y"], axis=1, name="softmax")],
              {"x": rand(rng, 2, 4, 3, 3, scale=3.0)}, {}, ["y"],
              "axis 1 of a 4-D tensor (opset 13+: along that axis only)")

    # Slice
    rng = rng_for("slice_negative_steps")
    save_case("slice_negative_steps", "Slice",
              [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice")],
              {"x": rand(rng, 2, 6, 8, 8)},
              {"starts": i64([1, 7]), "ends": i64([5, 0]), "axes": i64([1, 3]), "steps": i64([2, -2])},
              ["y"], "channels 1:5:2, width 7:0:-2 (reversed, stride 2)")
    rng = rng_for("slice_clamped")
    save_case("slice_clamped", "Slice",
              [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice")],
              {"x": rand(rng, 2, 6, 8, 8)},
              {"starts": i64([-3, 2]), "ends": i64([np.iinfo(np.int64).max, 100]), "axes": i64([2, -1]),
               "steps": i64([1, 3])},
              ["y"], "negative start, INT64_MAX and out-of-range ends (clamped), negative axis")
    rng = rng_for("slice_reverse_all")
    save_case("slice_reverse_all", "Slice",
              [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice")],
              {"x": rand(rng, 1, 3, 4, 5)},
              {"starts": i64([-1]), "ends": i64([np.iinfo(np.int64).min]), "axes": i64([1]), "steps": i64([-1])},
              ["y"], "flip channels: start -1, end INT64_MIN, step -1")

    # Cast / Identity / Dropout
    rng = rng_for("cast_float")
    save_case("cast_float", "Cast", [helper.make_node("Cast", ["x"], ["y"], to=FLOAT, name="cast")],
              {"x": rand(rng, 2, 3, 4)}, {}, ["y"], "float -> float (as Keras exports contain)")
    rng = rng_for("cast_shape_int64")
    save_case("cast_shape_int64", "Cast",
              [helper.make_node("Shape", ["x"], ["s"], name="shape"),
               helper.make_node("Cast", ["s"], ["y"], to=INT64, name="cast_i64"),
               helper.make_node("Cast", ["s"], ["z"], to=FLOAT, name="cast_f32")],
              {"x": rand(rng, 2, 3, 4)}, {}, ["y", "z"],
              "Shape -> Cast to int64 (output_0, int64) and to float (output_1)")
    unary_case("identity", "Identity", "")
    rng = rng_for("dropout")
    save_case("dropout", "Dropout", [helper.make_node("Dropout", ["x"], ["y"], name="dropout")],
              {"x": rand(rng, 2, 3, 5, 5)}, {}, ["y"],
              "inference: no ratio, no training_mode -> identity")


class ViewFlatten(torch.nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


def shape_chain_case() -> None:
    name = "shape_chain_view"
    folder = OPS / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    torch.onnx.export(ViewFlatten(), (torch.zeros(1, 4, 3, 3),), str(path), dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    model = onnx.load(str(path))
    ops = [n.op_type for n in model.graph.node]
    for needed in ["Shape", "Gather", "Unsqueeze", "Concat", "Reshape"]:
        assert needed in ops, f"{name}: {needed} missing from {ops}"
    x = rand(rng_for(name), 3, 4, 3, 3)
    results = fc.run_ort(path, {"x": x})
    assert np.array_equal(results[0], x.reshape(3, -1))
    finish(name, "Reshape", path, [x], results,
           "torch export of x.view(x.size(0), -1), symbolic batch N, run at batch 3: " + " -> ".join(ops), 17)


def main() -> None:
    if OPS.exists():
        shutil.rmtree(OPS)
    OPS.mkdir(parents=True)
    manifest.clear()
    build_cases()
    shape_chain_case()
    (OPS / "manifest.json").write_text(json.dumps({"cases": manifest}, indent=1) + "\n")
    print(f"ops: {len(manifest)} cases, " +
          ", ".join(sorted({m['op'] for m in manifest if ' ' not in m['op']})))
