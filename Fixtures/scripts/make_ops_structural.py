"""Single-operator models for the structural, normalization and resampling operators and the
legacy (attribute) forms of older opsets: Fixtures/ops/st_<case>/{model.onnx, input_<i>.npy,
output_<i>.npy} and Fixtures/ops/manifest-structural.json (same format as manifest.json).

Built with onnx.helper at the opset where each operator's semantics change, checked with
onnx.checker and run by ONNX Runtime (CPU) for the reference outputs; make_ops.py's helpers
(save_case, seeded inputs: per-case seed = crc32 of the case name) are reused, so the
conventions are the same. Unlike make_ops.py this script does not wipe Fixtures/ops: it
replaces only its own st_* folders and its own manifest.

    python3 Fixtures/scripts/make_ops_structural.py
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
from onnx import helper, numpy_helper

import make_ops as mo

OPS = mo.OPS
MANIFEST = OPS / "manifest-structural.json"
rand, rng_for, i64 = mo.rand, mo.rng_for, mo.i64


def f32(values):
    return np.asarray(values, dtype=np.float32)


def scalar(name, value):
    """A rank-0 constant (initializers pass through np.ascontiguousarray, which makes them 1-D)."""
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name))


def one(name, op, node, inputs, inits, outputs, note, opset):
    mo.save_case("st_" + name, op, node if isinstance(node, list) else [node], inputs, inits, outputs, note, opset)


def split_cases():
    x = rand(rng_for("split"), 2, 5, 4, 4)
    one("split_attr_opset11", "Split", helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[2, 3]),
        {"x": x}, {}, ["a", "b"], "split sizes as the attribute (before opset 13)", 11)
    one("split_input_opset13", "Split", helper.make_node("Split", ["x", "s"], ["a", "b"], axis=1),
        {"x": x}, {"s": i64([1, 4])}, ["a", "b"], "split sizes as input 1 (opset 13+)", 13)
    x6 = rand(rng_for("split6"), 2, 6, 3, 3)
    one("split_equal_opset13", "Split", helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1),
        {"x": x6}, {}, ["a", "b", "c"], "no sizes: equal parts", 13)
    x7 = rand(rng_for("split7"), 2, 7, 3, 3)
    one("split_num_outputs_opset18", "Split", helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3),
        {"x": x7}, {}, ["a", "b", "c"], "num_outputs 3 of 7 channels: 3, 3, 1", 18)
    one("split_spatial_opset13", "Split", helper.make_node("Split", ["x", "s"], ["a", "b"], axis=-1),
        {"x": x}, {"s": i64([3, 1])}, ["a", "b"], "negative axis (W)", 13)
    nodes = [helper.make_node("Split", ["x"], ["a", "b"], axis=1),
             helper.make_node("Sigmoid", ["b"], ["gate"]),
             helper.make_node("Mul", ["a", "gate"], ["y"])]
    one("split_glu_opset13", "Split", nodes, {"x": x6}, {}, ["y"], "GLU: a * sigmoid(b) of the two channel halves", 13)


def normalization_cases():
    x = rand(rng_for("lrn"), 2, 8, 5, 5, scale=3.0)
    one("lrn_alexnet_opset9", "LRN", helper.make_node("LRN", ["x"], ["y"], size=5, alpha=1e-4, beta=0.75, bias=1.0),
        {"x": x}, {}, ["y"], "AlexNet/GoogLeNet setting: size 5, alpha 1e-4, beta 0.75, bias 1", 9)
    one("lrn_strong_opset13", "LRN", helper.make_node("LRN", ["x"], ["y"], size=3, alpha=0.5, beta=0.6, bias=2.0),
        {"x": x}, {}, ["y"], "size 3, strong alpha and bias (ONNX Runtime refuses even sizes)", 13)
    one("lrn_defaults_opset17", "LRN", helper.make_node("LRN", ["x"], ["y"], size=3),
        {"x": x}, {}, ["y"], "ONNX defaults alpha 1e-4, beta 0.75, bias 1", 17)
    rng = rng_for("instnorm")
    x = rand(rng, 2, 4, 5, 6, scale=2.0, offset=1.0)
    params = {"s": rand(rng, 4, scale=0.5, offset=1.0), "b": rand(rng, 4, scale=0.5)}
    one("instancenorm_opset9", "InstanceNormalization",
        helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-5), {"x": x}, params, ["y"],
        "epsilon 1e-5", 9)
    one("instancenorm_eps_opset17", "InstanceNormalization",
        helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-2), {"x": x}, params, ["y"],
        "epsilon 1e-2", 17)
    rng = rng_for("bn_legacy")
    bn = {"scale": rand(rng, 3, scale=0.5, offset=1.0), "B": rand(rng, 3, scale=0.3), "mean": rand(rng, 3, scale=0.5),
          "var": (rng.random(3) * 2 + 0.1).astype(np.float32)}
    xb = rand(rng, 2, 3, 4, 4, scale=2.0)
    one("batchnorm_spatial_opset7", "BatchNormalization",
        helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"], ["y"], spatial=1, epsilon=1e-3),
        {"x": xb}, bn, ["y"], "opset 7 with spatial=1", 7)
    one("batchnorm_opset9", "BatchNormalization",
        helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"], ["y"]),
        {"x": xb}, bn, ["y"], "opset 9 (spatial removed)", 9)


def resampling_cases():
    x = rand(rng_for("resize"), 2, 3, 4, 5)
    empty = np.zeros([0], np.float32)
    one("upsample_nearest_opset7", "Upsample", helper.make_node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0]),
        {"x": x}, {}, ["y"], "scales attribute", 7)
    one("upsample_linear_opset7", "Upsample", helper.make_node("Upsample", ["x"], ["y"], mode="linear", scales=[1.0, 1.0, 2.0, 2.5]),
        {"x": x}, {}, ["y"], "scales attribute, bilinear (asymmetric)", 7)
    one("upsample_nearest_opset9", "Upsample", helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest"),
        {"x": x}, {"s": f32([1, 1, 1.5, 2])}, ["y"], "scales input, fractional", 9)
    one("upsample_linear_opset9", "Upsample", helper.make_node("Upsample", ["x", "s"], ["y"], mode="linear"),
        {"x": x}, {"s": f32([1, 1, 2, 2])}, ["y"], "scales input, bilinear", 9)
    one("resize_nearest_opset10", "Resize", helper.make_node("Resize", ["x", "s"], ["y"], mode="nearest"),
        {"x": x}, {"s": f32([1, 1, 2, 0.6])}, ["y"], "opset 10: asymmetric, floor up / ceil down", 10)
    one("resize_linear_opset10", "Resize", helper.make_node("Resize", ["x", "s"], ["y"], mode="linear"),
        {"x": x}, {"s": f32([1, 1, 0.6, 1.7])}, ["y"], "opset 10 bilinear, H shrinks", 10)

    def resize11(name, opset, note, scales=None, sizes=None, **attrs):
        ins = ["x", "roi", "s"] + (["sz"] if sizes is not None else [])
        inits = {"roi": empty, "s": f32(scales) if scales is not None else empty}
        if sizes is not None:
            inits["sz"] = i64(sizes)
        one(name, "Resize", helper.make_node("Resize", ins, ["y"], **attrs), {"x": x}, inits, ["y"], note, opset)

    resize11("resize_nearest_floor_asym_opset11", 11, "PyTorch nearest export: asymmetric, floor",
             scales=[1, 1, 2, 2], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    resize11("resize_linear_align_sizes_opset11", 11, "align_corners with sizes 7x9",
             sizes=[2, 3, 7, 9], mode="linear", coordinate_transformation_mode="align_corners")
    resize11("resize_linear_half_pixel_opset13", 13, "half_pixel bilinear, scales 2",
             scales=[1, 1, 2, 2], mode="linear")
    resize11("resize_linear_pytorch_half_pixel_opset13", 13, "pytorch_half_pixel, scales 0.5 x 1.5",
             scales=[1, 1, 0.5, 1.5], mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    resize11("resize_linear_pytorch_half_pixel_one_opset13", 13, "pytorch_half_pixel with an output of length 1",
             sizes=[2, 3, 1, 8], mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    resize11("resize_nearest_prefer_floor_opset13", 13, "half_pixel, round_prefer_floor, scales 1.5 x 2.5",
             scales=[1, 1, 1.5, 2.5], mode="nearest")
    resize11("resize_nearest_prefer_ceil_sizes_opset13", 13, "half_pixel, round_prefer_ceil, sizes 3x7",
             sizes=[2, 3, 3, 7], mode="nearest", nearest_mode="round_prefer_ceil")
    resize11("resize_nearest_ceil_align_opset13", 13, "align_corners, ceil, scales 2 x 1.6",
             scales=[1, 1, 2, 1.6], mode="nearest", coordinate_transformation_mode="align_corners", nearest_mode="ceil")
    resize11("resize_nearest_tf_half_pixel_opset13", 13, "tf_half_pixel_for_nn (tf2onnx), scales 1.5 x 0.6",
             scales=[1, 1, 1.5, 0.6], mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn")
    one("resize_axes_opset18", "Resize", helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest", axes=[2, 3]),
        {"x": x}, {"s": f32([2, 3])}, ["y"], "opset 18 axes attribute: scales for H and W only", 18)
    one("resize_half_pixel_symmetric_opset19", "Resize",
        helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="linear", coordinate_transformation_mode="half_pixel_symmetric"),
        {"x": x}, {"sz": i64([2, 3, 7, 3])}, ["y"], "opset 19 half_pixel_symmetric, sizes 7x3", 19)


def conv_transpose_cases():
    def case(name, x_shape, w_shape, note, opset=11, bias=True, **attrs):
        rng = rng_for(name)
        inits = {"W": rand(rng, *w_shape, scale=0.3)}
        ins = ["x", "W"]
        if bias:
            inits["B"] = rand(rng, w_shape[1] * attrs.get("group", 1), scale=0.5)
            ins.append("B")
        one(name, "ConvTranspose", helper.make_node("ConvTranspose", ins, ["y"], **attrs),
            {"x": rand(rng, *x_shape)}, inits, ["y"], note, opset)

    case("convtranspose_plain", (2, 3, 5, 5), (3, 4, 3, 3), "3x3, pads 1, stride 1", pads=[1, 1, 1, 1])
    case("convtranspose_stride2_outpad", (1, 4, 4, 5), (4, 2, 3, 3), "stride 2, pads 1, output_padding 1 (U-Net up)",
         strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    case("convtranspose_k2s2_nobias", (2, 3, 3, 4), (3, 5, 2, 2), "2x2 stride 2, no bias", bias=False, strides=[2, 2])
    case("convtranspose_groups_dilations", (1, 4, 5, 5), (4, 3, 3, 3), "group 2, dilations 2, asymmetric pads",
         opset=17, group=2, dilations=[2, 2], pads=[0, 1, 2, 1])
    case("convtranspose_depthwise", (1, 3, 4, 4), (3, 1, 4, 4), "depthwise (group = C), 4x4 stride 2 pads 1",
         group=3, strides=[2, 2], pads=[1, 1, 1, 1])
    case("convtranspose_same_upper", (1, 2, 5, 5), (2, 3, 4, 4), "auto_pad SAME_UPPER, stride 2, odd total padding",
         strides=[2, 2], auto_pad="SAME_UPPER")
    case("convtranspose_same_lower", (1, 2, 5, 5), (2, 3, 4, 4), "auto_pad SAME_LOWER, stride 2, odd total padding",
         strides=[2, 2], auto_pad="SAME_LOWER")
    case("convtranspose_output_shape", (1, 2, 4, 4), (2, 3, 3, 3), "output_shape consistent with pads 1 and stride 2",
         strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], output_shape=[8, 8])


def reduction_and_broadcast_cases():
    x = rand(rng_for("reduce"), 2, 3, 4, 5)
    one("reducesum_attr_opset11", "ReduceSum", helper.make_node("ReduceSum", ["x"], ["y"], axes=[2, 3], keepdims=1),
        {"x": x}, {}, ["y"], "axes attribute (before 13), keepdims", 11)
    one("reducesum_input_opset13", "ReduceSum", helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0),
        {"x": x}, {"axes": i64([1])}, ["y"], "axes input, keepdims 0", 13)
    one("reducesum_all_opset13", "ReduceSum", helper.make_node("ReduceSum", ["x"], ["y"], keepdims=1),
        {"x": x}, {}, ["y"], "no axes: every axis", 13)
    one("reducesum_noop_opset13", "ReduceSum", helper.make_node("ReduceSum", ["x"], ["y"], noop_with_empty_axes=1),
        {"x": x}, {}, ["y"], "no axes with noop_with_empty_axes: identity", 13)
    one("reducemax_attr_opset13", "ReduceMax", helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=1),
        {"x": x}, {}, ["y"], "axes attribute (before 18)", 13)
    one("reducemax_input_opset18", "ReduceMax", helper.make_node("ReduceMax", ["x", "axes"], ["y"], keepdims=0),
        {"x": x}, {"axes": i64([-1, 2])}, ["y"], "axes input (18+), negative axis, keepdims 0", 18)
    rng = rng_for("expand")
    one("expand_opset13", "Expand", helper.make_node("Expand", ["x", "shape"], ["y"]),
        {"x": rand(rng, 2, 1, 4, 1)}, {"shape": i64([2, 3, 4, 5])}, ["y"], "size-1 axes broadcast", 13)
    one("expand_lower_rank_target_opset8", "Expand", helper.make_node("Expand", ["x", "shape"], ["y"]),
        {"x": rand(rng, 2, 3, 1, 1)}, {"shape": i64([4, 4])}, ["y"], "target of lower rank (numpy broadcasting), opset 8", 8)
    one("tile_opset13", "Tile", helper.make_node("Tile", ["x", "r"], ["y"]),
        {"x": rand(rng_for("tile"), 2, 3, 2, 2)}, {"r": i64([1, 2, 2, 3])}, ["y"], "repeats on C, H, W", 13)


def gather_cases():
    """Gather of an activation with constant indices: what `weakspot prune` writes for a channel
    shuffle it cannot keep as Reshape/Transpose/Reshape, and for each group's inputs of a grouped
    convolution it splits. Opset 9 (no negative indices yet), 11 (negative indices) and 13."""
    x = rand(rng_for("gather"), 2, 5, 4, 3)
    one("gather_channels_opset9", "Gather", helper.make_node("Gather", ["x", "i"], ["y"], axis=1),
        {"x": x}, {"i": i64([3, 0, 4, 1])}, ["y"], "channel selection and permutation along axis 1 (a pruned shuffle)", 9)
    one("gather_repeat_opset13", "Gather", helper.make_node("Gather", ["x", "i"], ["y"], axis=1),
        {"x": x}, {"i": i64([2, 2, 0, 4, 2])}, ["y"], "repeated indices", 13)
    one("gather_negative_opset11", "Gather", helper.make_node("Gather", ["x", "i"], ["y"], axis=-1),
        {"x": x}, {"i": i64([-1, 0, -3])}, ["y"], "negative axis and negative indices (opset 11+)", 11)
    one("gather_scalar_opset13", "Gather", [scalar("i", np.int64(3)), helper.make_node("Gather", ["x", "i"], ["y"], axis=1)],
        {"x": x}, {}, ["y"], "a rank-0 index drops the axis: (2,5,4,3) -> (2,4,3)", 13)
    one("gather_matrix_indices_opset13", "Gather", helper.make_node("Gather", ["x", "i"], ["y"], axis=2),
        {"x": x}, {"i": i64([[3, 0], [1, 1]])}, ["y"], "2-D indices on H: (2,5,4,3) -> (2,5,2,2,3)", 13)
    one("gather_into_conv_opset9", "Gather",
        [helper.make_node("Gather", ["x", "i"], ["g"], axis=1), helper.make_node("Conv", ["g", "w"], ["y"], kernel_shape=[1, 1])],
        {"x": x}, {"i": i64([4, 1]), "w": rand(rng_for("gather_conv"), 3, 2, 1, 1)}, ["y"],
        "a group's kept inputs gathered into a 1x1 Conv (a split grouped convolution)", 9)


def selection_cases():
    rng = rng_for("where")
    a, b = rand(rng, 2, 3, 4, 4), rand(rng, 2, 3, 4, 4)
    one("where_greater_opset13", "Where",
        [helper.make_node("Greater", ["a", "zero"], ["c"]), helper.make_node("Where", ["c", "a", "b"], ["y"])],
        {"a": a, "b": b}, {"zero": f32(0)}, ["y"], "Where(a > 0, a, b) on activations", 13)
    one("less_where_opset9", "Less",
        [helper.make_node("Less", ["a", "b"], ["c"]), helper.make_node("Where", ["c", "a", "k"], ["y"])],
        {"a": a, "b": b}, {"k": f32([0.5, -2.0, 3.0]).reshape(3, 1, 1)}, ["y"], "Less of two activations, Where with a per-channel constant", 9)
    q = np.round(rand(rng, 2, 3, 4, 4)).astype(np.float32)
    one("equal_where_opset11", "Equal",
        [helper.make_node("Equal", ["q", "one"], ["c"]), helper.make_node("Where", ["c", "b", "q"], ["y"])],
        {"q": q, "b": b}, {"one": f32(1)}, ["y"], "Equal on integer-valued floats (opset 11 allows float)", 11)
    one("greater_cast_opset13", "Greater",
        [helper.make_node("Greater", ["a", "b"], ["c"]), helper.make_node("Cast", ["c"], ["y"], to=1)],
        {"a": a, "b": b}, {}, ["y"], "Greater cast to float: a 0/1 mask", 13)


def legacy_cases():
    x = rand(rng_for("legacy"), 2, 3, 5, 5)
    one("dropout_ratio_attr_opset7", "Dropout", helper.make_node("Dropout", ["x"], ["y"], ratio=0.3),
        {"x": x}, {}, ["y"], "ratio attribute: identity at inference", 7)
    one("dropout_ratio_input_opset12", "Dropout", [scalar("r", f32(0.4)), helper.make_node("Dropout", ["x", "r"], ["y"])],
        {"x": x}, {}, ["y"], "ratio as input (12+), a scalar Constant", 12)
    one("dropout_training_false_opset13", "Dropout",
        [scalar("r", f32(0.4)), scalar("t", np.array(False)), helper.make_node("Dropout", ["x", "r", "t"], ["y"])],
        {"x": x}, {}, ["y"], "training_mode input false", 13)
    one("pad_attr_opset10", "Pad", helper.make_node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=0.5),
        {"x": x}, {}, ["y"], "pads and value attributes (before 11)", 10)
    one("pad_reflect_attr_opset10", "Pad", helper.make_node("Pad", ["x"], ["y"], mode="reflect", pads=[0, 0, 1, 2, 0, 0, 2, 1]),
        {"x": x}, {}, ["y"], "reflect mode, attribute form", 10)
    one("slice_attr_opset9", "Slice", helper.make_node("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, -1], axes=[1, 3]),
        {"x": x}, {}, ["y"], "starts/ends/axes attributes (before 10)", 9)
    one("slice_attr_no_axes_opset9", "Slice", helper.make_node("Slice", ["x"], ["y"], starts=[0, 1, 1], ends=[1, 100, 4]),
        {"x": x}, {}, ["y"], "no axes attribute: the first axes", 9)
    one("squeeze_attr_opset11", "Squeeze", helper.make_node("Squeeze", ["x"], ["y"], axes=[2]),
        {"x": rand(rng_for("squeeze"), 2, 3, 1, 4)}, {}, ["y"], "axes attribute (before 13)", 11)
    one("unsqueeze_attr_opset11", "Unsqueeze", helper.make_node("Unsqueeze", ["x"], ["y"], axes=[1, -1]),
        {"x": rand(rng_for("unsqueeze"), 2, 3, 4)}, {}, ["y"], "axes attribute (before 13), negative axis", 11)
    one("clip_attr_opset6", "Clip", helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.7),
        {"x": x}, {}, ["y"], "min/max attributes (before 11)", 6)


def structural_model_case():
    """A small network through every structural operator that dependency analysis meets:
    Conv → InstanceNormalization → Relu → Resize (×2 nearest) → Conv (stride 2) → LRN → Conv →
    Relu → Split into a GLU → Conv → Relu → ConvTranspose (×2) → Relu → GlobalAveragePool →
    Flatten → Gemm. Only the first Conv's channels can be pruned (through InstanceNormalization
    and Resize); the LRN, the Split and the ConvTranspose block the others."""
    rng = rng_for("model_structural")
    inits = {
        "w1": rand(rng, 8, 3, 3, 3, scale=0.4), "b1": rand(rng, 8, scale=0.1),
        "in_s": rand(rng, 8, scale=0.3, offset=1.0), "in_b": rand(rng, 8, scale=0.3),
        "scales": f32([1, 1, 2, 2]),
        "w2": rand(rng, 8, 8, 3, 3, scale=0.25), "b2": rand(rng, 8, scale=0.1),
        "w3": rand(rng, 6, 8, 1, 1, scale=0.4), "b3": rand(rng, 6, scale=0.1),
        "w4": rand(rng, 8, 3, 3, 3, scale=0.4), "b4": rand(rng, 8, scale=0.1),
        "wt": rand(rng, 8, 4, 2, 2, scale=0.4), "bt": rand(rng, 4, scale=0.1),
        "fc_w": rand(rng, 5, 4, scale=0.8), "fc_b": rand(rng, 5, scale=0.1),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("InstanceNormalization", ["c1", "in_s", "in_b"], ["n1"], name="inorm1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Resize", ["r1", "", "scales"], ["u1"], name="up1", mode="nearest"),
        helper.make_node("Conv", ["u1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("LRN", ["c2"], ["l2"], name="lrn2", size=3, alpha=0.5, beta=0.75, bias=1.0),
        helper.make_node("Conv", ["l2", "w3", "b3"], ["c3"], name="conv3"),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        helper.make_node("Split", ["r3"], ["ga", "gb"], name="split3", axis=1),
        helper.make_node("Sigmoid", ["gb"], ["gs"], name="gate3"),
        helper.make_node("Mul", ["ga", "gs"], ["glu"], name="glu3"),
        helper.make_node("Conv", ["glu", "w4", "b4"], ["c4"], name="conv4", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c4"], ["r4"], name="relu4"),
        helper.make_node("ConvTranspose", ["r4", "wt", "bt"], ["t5"], name="up5", strides=[2, 2]),
        helper.make_node("Relu", ["t5"], ["r5"], name="relu5"),
        helper.make_node("GlobalAveragePool", ["r5"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc", transB=1),
    ]
    mo.save_case("st_model_structural", "model: InstanceNormalization, Resize, LRN, Split, ConvTranspose", nodes,
                 {"x": rand(rng, 2, 3, 12, 12)}, inits, ["y"], structural_model_case.__doc__.split("\n")[0], 13)
    # A symbolic batch, as exported classifiers have (the pruning tests count MACs per image).
    path = OPS / "st_model_structural" / "model.onnx"
    model = onnx.load(str(path))
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def torch_exports():
    """The same operators as PyTorch's exporter writes them (TorchScript exporter, symbolic
    batch, run at batch 3): nn.Upsample nearest ×2 and F.interpolate bilinear to a fixed size
    (Resize whose sizes or scales the exporter computes from Shape), ConvTranspose2d,
    InstanceNorm2d(affine) and F.glu (Split). (PyTorch writes LocalResponseNorm as Pow, Pad and
    AveragePool, not as LRN.)"""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.up = torch.nn.Upsample(scale_factor=2, mode="nearest")
            self.deconv = torch.nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1, output_padding=0)
            self.norm = torch.nn.InstanceNorm2d(6, affine=True)

        def forward(self, x):
            y = self.up(torch.relu(self.conv(x)))
            y = torch.nn.functional.interpolate(y, size=(11, 13), mode="bilinear", align_corners=False)
            y = self.norm(self.deconv(y))
            return torch.nn.functional.glu(y, dim=1)

    torch.manual_seed(5)
    net = Net().eval()
    with torch.no_grad():
        net.norm.weight.uniform_(0.5, 1.5)
        net.norm.bias.uniform_(-0.5, 0.5)
    for opset in (11, 17):
        name = f"st_torch_resampling_opset{opset}"
        folder = OPS / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.onnx"
        torch.onnx.export(net, (torch.zeros(1, 3, 6, 7),), str(path), dynamo=False, opset_version=opset,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        ops = sorted({n.op_type for n in onnx.load(str(path)).graph.node})
        for needed in ["Resize", "ConvTranspose", "InstanceNormalization", "Split"]:
            assert needed in ops, f"{name}: {needed} missing from {ops}"
        x = rand(rng_for(name), 3, 3, 6, 7)
        results = mo.fc.run_ort(path, {"x": x})
        with torch.no_grad():
            assert np.allclose(results[0], net(torch.from_numpy(x)).numpy(), atol=1e-5)
        mo.finish(name, "model: torch export", path, [x], results,
                  "torch export with symbolic batch, run at batch 3: " + ", ".join(ops), opset)


FUZZ = mo.fc.FIXTURES / "fuzz" / "graph"
FUZZ_VALID = ["resize_linear_half_pixel_opset13", "upsample_nearest_opset7", "split_num_outputs_opset18",
              "convtranspose_same_upper", "lrn_alexnet_opset9", "instancenorm_opset9", "reducesum_noop_opset13",
              "tile_opset13", "expand_opset13", "where_greater_opset13", "gather_channels_opset9", "gather_negative_opset11",
              "gather_scalar_opset13"]


def fuzz_seeds():
    """Seeds for the `graph` fuzz target: some valid st_ models, and models whose attributes
    the importer must refuse without allocating (st_bad_*, never run by ONNX Runtime)."""
    for old in FUZZ.glob("st_*.onnx"):
        old.unlink()
    for name in FUZZ_VALID:
        shutil.copyfile(OPS / f"st_{name}" / "model.onnx", FUZZ / f"st_{name}.onnx")
    x = helper.make_tensor_value_info("x", mo.FLOAT, ["N", 3, 8, 8])
    y = helper.make_tensor_value_info("y", mo.FLOAT, None)

    def bad(name, node, inits, opset=13, outputs=None):
        graph = helper.make_graph([node], name, [x], outputs or [y],
                                  [numpy_helper.from_array(v, k) for k, v in inits.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="WeakSpot make_ops_structural.py")
        model.ir_version = 8
        onnx.save(model, str(FUZZ / f"st_bad_{name}.onnx"))

    bad("resize_1e11_pixels", helper.make_node("Resize", ["x", "", "s"], ["y"]), {"s": f32([1, 1, 1e5, 1e5])})
    bad("resize_zero_scale", helper.make_node("Resize", ["x", "", "s"], ["y"]), {"s": f32([1, 1, 0, 2])})
    bad("resize_negative_sizes", helper.make_node("Resize", ["x", "", "", "sz"], ["y"]), {"sz": i64([1, 3, -4, 8])})
    bad("resize_cubic", helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic"), {"s": f32([1, 1, 2, 2])})
    bad("upsample_nan_scale", helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, float("nan"), 2.0]), {}, opset=7)
    bad("tile_1e6_squared", helper.make_node("Tile", ["x", "r"], ["y"]), {"r": i64([1, 1, 1000000, 1000000])})
    bad("tile_negative", helper.make_node("Tile", ["x", "r"], ["y"]), {"r": i64([1, -2, 1, 1])})
    bad("expand_negative", helper.make_node("Expand", ["x", "shape"], ["y"]), {"shape": i64([1, 3, -8, 8])})
    bad("split_negative_sizes", helper.make_node("Split", ["x", "s"], ["y", "z"], axis=1), {"s": i64([4, -1])},
        outputs=[y, helper.make_tensor_value_info("z", mo.FLOAT, None)])
    bad("convtranspose_output_padding", helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_padding=[3, 3]),
        {"w": np.zeros((3, 2, 3, 3), np.float32)})
    bad("convtranspose_huge_stride", helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[1 << 40, 1 << 40]),
        {"w": np.zeros((3, 2, 3, 3), np.float32)})
    bad("convtranspose_stride_2e30", helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[1 << 30, 1 << 30]),
        {"w": np.zeros((3, 2, 3, 3), np.float32)})
    bad("lrn_zero_size", helper.make_node("LRN", ["x"], ["y"], size=0), {})
    bad("reducesum_axis_out_of_range", helper.make_node("ReduceSum", ["x", "a"], ["y"]), {"a": i64([7])})
    bad("gather_index_out_of_range", helper.make_node("Gather", ["x", "i"], ["y"], axis=1), {"i": i64([0, 3])})
    bad("gather_negative_index_opset9", helper.make_node("Gather", ["x", "i"], ["y"], axis=1), {"i": i64([-1])}, opset=9)
    bad("gather_batch_axis", helper.make_node("Gather", ["x", "i"], ["y"], axis=0), {"i": i64([0])})
    bad("gather_axis_out_of_range", helper.make_node("Gather", ["x", "i"], ["y"], axis=4), {"i": i64([0])})
    bad("gather_float_indices", helper.make_node("Gather", ["x", "i"], ["y"], axis=1), {"i": f32([0.0, 1.0])})


def main() -> None:
    for old in OPS.glob("st_*"):
        shutil.rmtree(old)
    mo.manifest.clear()
    split_cases()
    normalization_cases()
    resampling_cases()
    conv_transpose_cases()
    reduction_and_broadcast_cases()
    gather_cases()
    selection_cases()
    legacy_cases()
    structural_model_case()
    torch_exports()
    fuzz_seeds()
    MANIFEST.write_text(json.dumps({"cases": mo.manifest}, indent=1) + "\n")
    print(f"structural ops: {len(mo.manifest)} cases, " + ", ".join(sorted({m['op'] for m in mo.manifest})))


if __name__ == "__main__":
    main()
