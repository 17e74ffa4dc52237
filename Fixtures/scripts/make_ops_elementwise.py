"""Single-operator parity cases for the element-wise activations, PRelu, Pow, the variadic
Sum/Max/Min/Mean, Clip with attributes and the Softmax family at every opset where their
semantics change: Fixtures/ops/ew_<case>/{model.onnx, input_<i>.npy, output_<i>.npy} and
Fixtures/ops/manifest-elementwise.json (the format of manifest.json); and the graph fuzz seeds
Fixtures/fuzz/graph/ew_*.onnx that reach these operators' attribute decoding (two valid graphs,
the rest each broken in one named way; ElementwiseImportTests states what each must give).

Uses make_ops.py's `save_case` (onnx.helper model, onnx.checker, ONNX Runtime CPU reference,
seeded inputs: per-case seed = crc32 of the case name) but writes only its own `ew_` folders and
manifest: make_ops.py's outputs are left as they are.

    python3 Fixtures/scripts/make_ops_elementwise.py
"""

from __future__ import annotations

import json
import shutil

import numpy as np
from onnx import helper

import make_ops as mo

MANIFEST = mo.OPS / "manifest-elementwise.json"


def unary(name, op, opset, note, x=None, scale=2.0, **attrs):
    rng = mo.rng_for(name)
    if x is None:
        x = mo.rand(rng, 2, 3, 5, 5, scale=scale)
    mo.save_case(name, op, [helper.make_node(op, ["x"], ["y"], name=op.lower(), **attrs)],
                 {"x": x}, {}, ["y"], note, opset=opset)


def positive(name, shape=(2, 3, 5, 5), low=0.05, high=4.0):
    return mo.rng_for(name + "/positive").uniform(low, high, shape).astype(np.float32)


def with_constant(name, op, opset, note, x, constant, **attrs):
    """op(x, c) with c an initializer."""
    mo.save_case(name, op, [helper.make_node(op, ["x", "c"], ["y"], name=op.lower(), **attrs)],
                 {"x": x}, {"c": constant}, ["y"], note, opset=opset)


def activations() -> None:
    for opset in (6, 22):
        unary(f"ew_elu_default_{opset}", "Elu", opset, f"Elu opset {opset}, default alpha 1")
    unary("ew_elu_alpha", "Elu", 6, "Elu alpha 0.3", alpha=0.3)
    for opset in (6, 22):
        unary(f"ew_selu_default_{opset}", "Selu", opset, f"Selu opset {opset}, default alpha and gamma")
    unary("ew_selu_set", "Selu", 6, "Selu alpha 2, gamma 0.5", alpha=2.0, gamma=0.5)
    unary("ew_celu_default", "Celu", 12, "Celu default alpha 1")
    unary("ew_celu_alpha", "Celu", 12, "Celu alpha 0.4", alpha=0.4)
    for opset in (7, 22):
        unary(f"ew_softplus_{opset}", "Softplus", opset, f"Softplus opset {opset}, wide inputs (stable form)", scale=12.0)
        unary(f"ew_softsign_{opset}", "Softsign", opset, f"Softsign opset {opset}")
    for opset in (6, 13):
        unary(f"ew_abs_{opset}", "Abs", opset, f"Abs opset {opset}")
        unary(f"ew_neg_{opset}", "Neg", opset, f"Neg opset {opset}")
        unary(f"ew_exp_{opset}", "Exp", opset, f"Exp opset {opset}", scale=3.0)
        unary(f"ew_log_{opset}", "Log", opset, f"Log opset {opset}, positive inputs", x=positive(f"ew_log_{opset}"))
        unary(f"ew_sqrt_{opset}", "Sqrt", opset, f"Sqrt opset {opset}, positive inputs", x=positive(f"ew_sqrt_{opset}"))
        x = positive(f"ew_reciprocal_{opset}", low=0.2) * np.where(mo.rng_for("sign").random((2, 3, 5, 5)) < 0.5, -1, 1).astype(np.float32)
        unary(f"ew_reciprocal_{opset}", "Reciprocal", opset, f"Reciprocal opset {opset}, |x| ≥ 0.2", x=x)
    for opset in (9, 13):
        unary(f"ew_erf_{opset}", "Erf", opset, f"Erf opset {opset}")
    unary("ew_gelu_none", "Gelu", 20, "Gelu opset 20, approximate none (erf)", scale=3.0)
    unary("ew_gelu_tanh", "Gelu", 20, "Gelu opset 20, approximate tanh", scale=3.0, approximate="tanh")
    unary("ew_mish", "Mish", 18, "Mish opset 18", scale=4.0)


def prelu() -> None:
    for opset, slope_shape, note in [(7, (3, 1, 1), "per-channel slope (C,1,1)"),
                                     (9, (1,), "one shared slope (1)"),
                                     (16, (3, 5, 5), "full slope (C,H,W)"),
                                     (16, (1, 3, 1, 1), "per-channel slope (1,C,1,1)")]:
        name = f"ew_prelu_{opset}_{'x'.join(map(str, slope_shape))}"
        rng = mo.rng_for(name)
        with_constant(name, "PRelu", opset, f"PRelu opset {opset}, {note}", mo.rand(rng, 2, 3, 5, 5),
                      mo.rand(rng, *slope_shape, scale=0.3, offset=0.2))
    rng = mo.rng_for("ew_prelu_2d")
    with_constant("ew_prelu_2d", "PRelu", 9, "PRelu on (N,C) with slope (C)", mo.rand(rng, 4, 6), mo.rand(rng, 6, scale=0.3))


def power() -> None:
    cases = [
        ("ew_pow_square_7", 7, positive("p7") - 2, np.array(2.0, np.float32), "Pow opset 7, scalar exponent 2"),
        ("ew_pow_half_7", 7, positive("ph7"), np.array([0.5], np.float32), "Pow opset 7, exponent (1) 0.5"),
        ("ew_pow_int_12", 12, positive("pi12") - 2, np.array(3, np.int64), "Pow opset 12, int64 exponent 3"),
        ("ew_pow_negative_13", 13, positive("pn13", low=0.3), np.array(-1.5, np.float32), "Pow opset 13, exponent -1.5"),
        ("ew_pow_channel_15", 15, positive("pc15"), np.array([[[0.5]], [[2.0]], [[3.0]]], np.float32),
         "Pow opset 15, per-channel exponent (C,1,1)"),
        ("ew_pow_widen_15", 15, positive("pw15", shape=(2, 3, 5)), np.full((1, 1, 1, 1), 1.5, np.float32),
         "Pow opset 15, one-element exponent of higher rank (output widens to rank 4)"),
    ]
    for name, opset, x, e, note in cases:
        with_constant(name, "Pow", opset, note, x, e)


def softmax_family() -> None:
    for op in ("Softmax", "LogSoftmax", "Hardmax"):
        low = op.lower()
        for opset, axis, shape, note in [
            (11, None, (2, 3, 4, 5), "default axis 1, coerced to 2-D: one row of C·H·W per image"),
            (11, 2, (2, 3, 4, 5), "axis 2, coerced to 2-D: rows of H·W"),
            (11, -1, (2, 3, 4, 5), "axis -1: the plain last-axis form"),
            (11, 1, (2, 10, 1, 1), "axis 1 on (N,10,1,1) (SqueezeNet 1.0's ending)"),
            (7, 1, (3, 6), "opset 7, 2-D"),
            (13, 1, (2, 3, 4, 5), "opset 13, axis 1 alone"),
            (13, None, (2, 3, 4, 5), "opset 13, default axis -1"),
        ]:
            name = f"ew_{low}_{opset}_{'default' if axis is None else str(axis).replace('-', 'm')}_{'x'.join(map(str, shape))}"
            rng = mo.rng_for(name)
            attrs = {} if axis is None else {"axis": axis}
            mo.save_case(name, op, [helper.make_node(op, ["x"], ["y"], name=low, **attrs)],
                         {"x": mo.rand(rng, *shape, scale=2.0)}, {}, ["y"], f"{op} opset {opset}, {note}", opset=opset)


def variadic() -> None:
    for op in ("Sum", "Max", "Min", "Mean"):
        low = op.lower()
        rng = mo.rng_for(f"ew_{low}_6")
        inputs = {k: mo.rand(rng, 2, 3, 4, 4) for k in ("a", "b", "c")}
        mo.save_case(f"ew_{low}_6", op, [helper.make_node(op, list(inputs), ["y"], name=low)], inputs, {}, ["y"],
                     f"{op} opset 6: three inputs of one shape", opset=6)
        rng = mo.rng_for(f"ew_{low}_8")
        inputs = {"a": mo.rand(rng, 2, 3, 4, 4), "b": mo.rand(rng, 2, 3, 1, 1), "c": mo.rand(rng, 4)}
        mo.save_case(f"ew_{low}_8", op, [helper.make_node(op, list(inputs), ["y"], name=low)], inputs, {}, ["y"],
                     f"{op} opset 8: (2,3,4,4), (2,3,1,1), (4) broadcast", opset=8)
        rng = mo.rng_for(f"ew_{low}_13_one")
        mo.save_case(f"ew_{low}_13_one", op, [helper.make_node(op, ["a"], ["y"], name=low)],
                     {"a": mo.rand(rng, 2, 3, 4, 4)}, {}, ["y"], f"{op} opset 13: a single input", opset=13)
        rng = mo.rng_for(f"ew_{low}_13_const")
        mo.save_case(f"ew_{low}_13_const", op, [helper.make_node(op, ["a", "b", "k"], ["y"], name=low)],
                     {"a": mo.rand(rng, 2, 3, 4, 4), "b": mo.rand(rng, 1, 3, 4, 1)}, {"k": mo.rand(rng, 3, 1, 1)}, ["y"],
                     f"{op} opset 13: two inputs and a per-channel constant", opset=13)
    rng = mo.rng_for("ew_max_relu_form")
    with_constant("ew_max_relu_form", "Max", 8, "Max(x, 0): an exporter's Relu", mo.rand(rng, 2, 3, 4, 4), np.array(0, np.float32))
    rng = mo.rng_for("ew_min_clip_form")
    mo.save_case("ew_min_clip_form", "Min", [helper.make_node("Max", ["x", "lo"], ["t"], name="max"),
                                            helper.make_node("Min", ["t", "hi"], ["y"], name="min")],
                 {"x": mo.rand(rng, 2, 3, 4, 4, scale=4)}, {"lo": np.array(0, np.float32), "hi": np.array([6], np.float32)},
                 ["y"], "Min(Max(x, 0), 6): an exporter's ReLU6", opset=12)


def clip() -> None:
    for name, attrs, note in [("ew_clip_6_min_max", {"min": -0.5, "max": 1.5}, "Clip opset 6, min and max attributes"),
                              ("ew_clip_6_default", {}, "Clip opset 6, no attributes (float range)"),
                              ("ew_clip_6_max_only", {"max": 0.25}, "Clip opset 6, max attribute only")]:
        unary(name, "Clip", 6, note, **attrs)
    rng = mo.rng_for("ew_clip_11_max_only")
    mo.save_case("ew_clip_11_max_only", "Clip", [helper.make_node("Clip", ["x", "", "hi"], ["y"], name="clip")],
                 {"x": mo.rand(rng, 2, 3, 5, 5, scale=2)}, {"hi": np.array(0.5, np.float32)}, ["y"],
                 "Clip opset 11, min omitted, max input", opset=11)
    rng = mo.rng_for("ew_clip_13_min_max")
    mo.save_case("ew_clip_13_min_max", "Clip", [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
                 {"x": mo.rand(rng, 2, 3, 5, 5, scale=2)}, {"lo": np.array(-1, np.float32), "hi": np.array(0.5, np.float32)}, ["y"],
                 "Clip opset 13, min and max inputs", opset=13)


FUZZ = mo.fc.FIXTURES / "fuzz" / "graph"


def fuzz_seed(name: str, nodes, inputs: dict, initializers: dict, output: str, opset: int, check: bool) -> None:
    """A small graph written without running it; `check` = must pass onnx.checker (valid seeds)."""
    graph_inputs = [helper.make_tensor_value_info(k, mo.FLOAT, list(shape)) for k, shape in inputs.items()]
    inits = [mo.numpy_helper.from_array(np.asarray(v), k) for k, v in initializers.items()]
    graph = helper.make_graph(nodes, name, graph_inputs, [helper.make_tensor_value_info(output, mo.FLOAT, [1, 3, 4, 4] if check else None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="WeakSpot make_ops_elementwise.py")
    model.ir_version = 8 if opset <= 17 else 9
    if check:
        mo.onnx.checker.check_model(model, full_check=True)
    FUZZ.mkdir(parents=True, exist_ok=True)
    mo.onnx.save(model, str(FUZZ / f"{name}.onnx"))


def fuzz_seeds() -> None:
    node = helper.make_node
    x = {"x": (1, 3, 4, 4)}
    slope = {"slope": np.full((3, 1, 1), 0.25, np.float32)}
    fuzz_seed("ew_valid_prelu_gelu_sum", [
        node("PRelu", ["x", "slope"], ["p"]), node("Gelu", ["p"], ["g"], approximate="tanh"),
        node("Sum", ["g", "x"], ["s"]), node("LogSoftmax", ["s"], ["l"], axis=1), node("Hardmax", ["l"], ["y"], axis=1),
    ], x, slope, "y", 20, True)
    fuzz_seed("ew_valid_legacy_softmax", [
        node("Elu", ["x"], ["e"], alpha=0.3), node("Max", ["e", "floor"], ["m"]), node("Softmax", ["m"], ["y"]),
    ], x, {"floor": np.array(-0.5, np.float32)}, "y", 9, True)
    broken = [
        ("ew_bad_elu_alpha_string", [node("Elu", ["x"], ["y"], alpha="big")], x, {}, 13),
        ("ew_bad_gelu_approximate", [node("Gelu", ["x"], ["y"], approximate="fast")], x, {}, 20),
        ("ew_bad_celu_alpha_zero", [node("Celu", ["x"], ["y"], alpha=0.0)], x, {}, 12),
        ("ew_bad_selu_gamma_ints", [node("Selu", ["x"], ["y"], gamma=[1, 2])], x, {}, 6),
        ("ew_bad_prelu_missing_slope", [node("PRelu", ["x"], ["y"])], x, {}, 9),
        ("ew_bad_prelu_runtime_slope", [node("PRelu", ["x", "s"], ["y"])], {"x": (1, 3, 4, 4), "s": (1, 3, 1, 1)}, {}, 9),
        ("ew_bad_prelu_slope_shape", [node("PRelu", ["x", "slope"], ["y"])], x, {"slope": np.ones((5, 1, 1), np.float32)}, 16),
        ("ew_bad_softmax_axis", [node("Softmax", ["x"], ["y"], axis=4)], x, {}, 11),
        ("ew_bad_logsoftmax_scalar", [node("LogSoftmax", ["x"], ["y"])], {"x": ()}, {}, 13),
        ("ew_bad_sum_opset6_shapes", [node("Sum", ["x", "b"], ["y"])], x, {"b": np.ones((3, 1, 1), np.float32)}, 6),
        ("ew_bad_max_no_inputs", [node("Max", [], ["y"])], x, {}, 13),
        ("ew_bad_pow_runtime_exponent", [node("Pow", ["x", "e"], ["y"])], {"x": (1, 3, 4, 4), "e": (1,)}, {}, 15),
        ("ew_bad_exp_missing_input", [node("Exp", [""], ["y"])], x, {}, 13),
    ]
    for name, nodes, inputs, inits, opset in broken:
        fuzz_seed(name, nodes, inputs, inits, "y", opset, False)


MODELS = mo.fc.FIXTURES / "models"


class RNetStyle(mo.torch.nn.Module):
    """MTCNN's R-Net layout (24×24 input, PReLU after every layer), ending in 2 logits."""

    def __init__(self):
        super().__init__()
        nn = mo.torch.nn
        self.features = nn.Sequential(
            nn.Conv2d(3, 28, 3), nn.PReLU(28), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(28, 48, 3), nn.PReLU(48), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(48, 64, 2), nn.PReLU(64))
        self.fc = nn.Linear(64 * 3 * 3, 128)
        self.act = nn.PReLU(128)
        self.head = nn.Linear(128, 2)

    def forward(self, x):
        return self.head(self.act(self.fc(self.features(x).flatten(1))))


def prelu_network() -> None:
    """Fixtures/models/ew_rnet_prelu_opset9.onnx: torch export at opset 9 (PRelu slopes (C,1,1)
    and (C)), seeded weights with slopes spread over [0.05, 0.45] and the head ×25; input (6,3,24,24) cut from the
    sample photographs; ORT's logits beside it."""
    mo.fc.seed_everything(9)
    model = RNetStyle()
    with mo.torch.no_grad():
        for m in model.modules():
            if isinstance(m, mo.torch.nn.PReLU):
                m.weight.uniform_(0.05, 0.45)
        model.head.weight.mul_(25)  # logits of a few units rather than ~0.1 (random features are small)
    path = MODELS / "ew_rnet_prelu_opset9.onnx"
    images = mo.fc.preprocess([mo.fc.sample_image(n) for n in ("chelsea", "coffee", "astronaut", "rocket", "coins", "moon")],
                              resize=28, crop=24)
    mo.fc.export(model, mo.torch.from_numpy(images[:1]), path, keep_batchnorm=False, opset=9)
    logits = mo.fc.run_ort(path, {"input": images})[0]
    with mo.torch.no_grad():
        reference = model(mo.torch.from_numpy(images)).numpy()
    assert np.abs(logits - reference).max() <= 1e-4 * np.abs(reference).max(), "ORT and PyTorch disagree"
    mo.fc.save_npy(MODELS / "ew_rnet_prelu_opset9.input.npy", images)
    mo.fc.save_npy(MODELS / "ew_rnet_prelu_opset9.logits.npy", logits)
    ops = mo.fc.op_counts(mo.onnx.load(str(path)))
    print(f"ew_rnet_prelu_opset9: {ops}, max |logit| {np.abs(logits).max():.3f}")


def main() -> None:
    for old in mo.OPS.glob("ew_*"):
        shutil.rmtree(old)
    mo.manifest.clear()
    activations()
    prelu()
    power()
    softmax_family()
    variadic()
    clip()
    for old in FUZZ.glob("ew_*.onnx"):
        old.unlink()
    fuzz_seeds()
    prelu_network()
    MANIFEST.write_text(json.dumps({"cases": mo.manifest}, indent=1) + "\n")
    print(f"elementwise ops: {len(mo.manifest)} cases, " + ", ".join(sorted({m['op'] for m in mo.manifest})))


if __name__ == "__main__":
    main()
