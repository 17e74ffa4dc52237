"""Grouped convolutions and a channel shuffle for the pruner: Fixtures/grouped/.

    python3 Fixtures/scripts/make_grouped_fixtures.py

`grouped_shuffle.onnx` (onnx.helper, opset 13), NCHW (N, 4, 6, 6):
  conv0 (group 1, 4 -> 8, 3x3, pads 1, bias) -> Relu
  -> channel shuffle g = 2 as torch.onnx writes it: Reshape (0, 2, 4, 6, 6) -> Transpose (0, 2, 1, 3, 4)
     -> Reshape (0, 8, 6, 6): channel i*4 + k goes to k*2 + i
  -> conv1 (group 2, 8 -> 6, 1x1, bias) -> Relu
  -> conv2 (group 2, 6 -> 4, 3x3, pads 1, bias) -> GlobalAveragePool -> Flatten -> Gemm (4 -> 3)

Why: every way the pruner rewrites a grouped convolution or a shuffle has a case, each removing
producer channels (cases.json: producer node name -> removed channels):
  shuffle_gather_uniform  conv0 {4, 6}: the kept channels are not the same positions of both
                          shuffle groups, so the shuffle becomes a Gather; conv1's groups each
                          lose one input: it stays one Conv with group 2.
  shuffle_kept_split      conv0 {1, 5}: position 1 of both shuffle groups, so the Reshape/Transpose/
                          Reshape stays (C/g 4 -> 3); both removed channels land in conv1's group 0:
                          conv1 is split into a Gather + Conv per group and a Concat.
  uniform_outputs         conv1 {0, 3}: one output of each group: conv1 stays grouped, and conv2's
                          groups each lose one input.
  group_emptied           conv1 {0, 1, 2}: conv1's group 0 loses every output (one Conv is left,
                          no Concat) and conv2's group 0 loses every input but keeps its outputs,
                          which then hold only its bias.
  mixed                   conv0 {0, 3, 6}, conv1 {4}, conv2 {1}.
`<case>.masked.npy` is ONNX Runtime's output of the model with those channels zeroed at each
producer's per-channel tail end (after conv0's and conv1's Relu, after conv2 itself) by a Mul
with a 0/1 mask: what the pruned model must compute. `input.npy` (3, 4, 6, 6) seeded Gaussian;
`output.npy` ONNX Runtime's unmasked output.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

import fixture_common as fc

OUT = fc.FIXTURES / "grouped"
CASES = {
    "shuffle_gather_uniform": {"conv0": [4, 6]},
    "shuffle_kept_split": {"conv0": [1, 5]},
    "uniform_outputs": {"conv1": [0, 3]},
    "group_emptied": {"conv1": [0, 1, 2]},
    "mixed": {"conv0": [0, 3, 6], "conv1": [4], "conv2": [1]},
}
# The value each producer's mask multiplies (its per-channel tail end) and its channel count.
TAIL_ENDS = {"conv0": ("a0", 8), "conv1": ("a1", 6), "conv2": ("c2", 4)}


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(20260715)

    def w(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = {
        "w0": w(8, 4, 3, 3, scale=0.3), "b0": w(8, scale=0.2),
        "split": np.array([0, 2, 4, 6, 6], np.int64), "merge": np.array([0, 8, 6, 6], np.int64),
        "w1": w(6, 4, 1, 1), "b1": w(6, scale=0.2),
        "w2": w(4, 3, 3, 3, scale=0.3), "b2": w(4, scale=0.5),
        "wf": w(3, 4), "bf": w(3, scale=0.1),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="conv0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["a0"], name="relu0"),
        helper.make_node("Reshape", ["a0", "split"], ["s1"], name="shuffle/split"),
        helper.make_node("Transpose", ["s1"], ["s2"], name="shuffle/transpose", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["s2", "merge"], ["s3"], name="shuffle/merge"),
        helper.make_node("Conv", ["s3", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[1, 1], group=2),
        helper.make_node("Relu", ["c1"], ["a1"], name="relu1"),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2),
        helper.make_node("GlobalAveragePool", ["c2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "grouped_shuffle",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="WeakSpot make_grouped_fixtures.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def masked(model: onnx.ModelProto, removed: dict) -> onnx.ModelProto:
    """The model with a Mul by a 0/1 (1, C, 1, 1) mask after each listed producer's tail end."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for producer, channels in removed.items():
        value, count = TAIL_ENDS[producer]
        mask = np.ones((1, count, 1, 1), np.float32)
        mask[0, channels] = 0
        name = f"{value}_masked"
        for node in m.graph.node:
            for i, v in enumerate(node.input):
                if v == value:
                    node.input[i] = name
        m.graph.initializer.append(numpy_helper.from_array(mask, f"{value}_mask"))
        m.graph.node.append(helper.make_node("Mul", [value, f"{value}_mask"], [name], name=f"{value}/mask"))
    # Put the Mul nodes right after their producers (topological order).
    order = {n.output[0]: i for i, n in enumerate(m.graph.node)}
    nodes = sorted(m.graph.node, key=lambda n: (order[n.input[0]] + 0.5) if n.op_type == "Mul" and n.name.endswith("/mask") else order[n.output[0]])
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    onnx.checker.check_model(m, full_check=True)
    return m


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    model = build()
    path = OUT / "grouped_shuffle.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(7).standard_normal((3, 4, 6, 6)).astype(np.float32)
    fc.save_npy(OUT / "input.npy", x)
    y = fc.run_ort(path, {"x": x})[0]
    fc.save_npy(OUT / "output.npy", y)
    scratch = OUT / "masked.tmp.onnx"
    for name, removed in CASES.items():
        onnx.save(masked(model, removed), str(scratch))
        out = fc.run_ort(scratch, {"x": x})[0]
        assert np.abs(out - y).max() > 1e-3, f"{name}: the mask changes nothing"
        fc.save_npy(OUT / f"{name}.masked.npy", out)
    scratch.unlink()
    (OUT / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(f"grouped: {len(CASES)} cases, max |output| {np.abs(y).max():.3f}")


if __name__ == "__main__":
    main()
