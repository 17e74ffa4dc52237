"""Models whose weights sit where other exporters put them, data types, and files that are not
ONNX (issue 15). Seeded and re-runnable; CI never runs it.

    python3 Fixtures/scripts/make_import_fixtures.py

Writes Fixtures/import/ (small onnx.helper models, each with an input .npy and ONNX Runtime's
outputs) and Fixtures/not_onnx/ (a corpus of files people pass as a model: a real torch.save
checkpoint, a real TorchScript archive, and tiny files with the right signatures).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from fixture_common import FIXTURES, run_ort, save_npy

OUT = FIXTURES / "import"
NOT_ONNX = FIXTURES / "not_onnx"
RNG = np.random.default_rng(15)


def weights():
    """One set of weights for the small CNN: conv 3→8 3×3, conv 8→8 1×1 (64 elements: the size
    the old importer took for a shape), Gemm 8→10."""
    return {
        "w1": (RNG.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32),
        "b1": (RNG.standard_normal(8) * 0.1).astype(np.float32),
        "w2": (RNG.standard_normal((8, 8, 1, 1)) * 0.4).astype(np.float32),
        "b2": (RNG.standard_normal(8) * 0.1).astype(np.float32),
        "wf": (RNG.standard_normal((10, 8)) * 0.5).astype(np.float32),
        "bf": (RNG.standard_normal(10) * 0.1).astype(np.float32),
    }


W = weights()


def cnn_nodes(names):
    """conv → relu → conv 1×1 → relu → global pool → flatten → gemm, reading weights by `names`."""
    return [
        helper.make_node("Conv", ["x", names["w1"], names["b1"]], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", names["w2"], names["b2"]], ["c2"], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", names["wf"], names["bf"]], ["y"], name="fc", transB=1),
    ]


def io_info(batch="N", elem=TensorProto.FLOAT):
    return ([helper.make_tensor_value_info("x", elem, [batch, 3, 8, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])])


def save(model: onnx.ModelProto, name: str, check=True) -> Path:
    if check:
        onnx.checker.check_model(model)
    path = OUT / f"{name}.onnx"
    onnx.save_model(model, str(path))
    return path


def with_reference(path: Path, x: np.ndarray, name: str) -> None:
    save_npy(OUT / f"{name}.output.npy", run_ort(path, {"x": x})[0])


def initializer_cnn(x):
    inputs, outputs = io_info()
    inits = [numpy_helper.from_array(v, k) for k, v in W.items()]
    graph = helper.make_graph(cnn_nodes({k: k for k in W}), "initializer_cnn", inputs, outputs, inits)
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "initializer_cnn")
    with_reference(path, x, "initializer_cnn")


def paddle_constant_cnn(x):
    """Every weight in a Constant node, as paddle2onnx writes them; one bias as value_floats and
    the Gemm weight reached through an Identity chain."""
    inputs, outputs = io_info()
    nodes = []
    names = {}
    for k, v in W.items():
        out = f"{k}_const"
        if k == "b2":
            nodes.append(helper.make_node("Constant", [], [out], name=f"const_{k}", value_floats=v.tolist()))
        else:
            nodes.append(helper.make_node("Constant", [], [out], name=f"const_{k}", value=numpy_helper.from_array(v, f"{k}_value")))
        names[k] = out
    nodes.append(helper.make_node("Identity", ["wf_const"], ["wf_alias1"], name="wf_identity1"))
    nodes.append(helper.make_node("Identity", ["wf_alias1"], ["wf_alias2"], name="wf_identity2"))
    names["wf"] = "wf_alias2"
    graph = helper.make_graph(nodes + cnn_nodes(names), "paddle_constant_cnn", inputs, outputs)
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "paddle_constant_cnn")
    with_reference(path, x, "paddle_constant_cnn")


def ir3_shadowed_cnn(x):
    """IR version 3 (opset 8): every initializer is also listed as a graph input."""
    inputs, outputs = io_info()
    inits = [numpy_helper.from_array(v, k) for k, v in W.items()]
    inputs += [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in W.items()]
    graph = helper.make_graph(cnn_nodes({k: k for k in W}), "ir3_shadowed_cnn", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 8)])
    model.ir_version = 3
    path = save(model, "ir3_shadowed_cnn")
    with_reference(path, x, "ir3_shadowed_cnn")


def narrow_typed_cnn(x, elem, name, values):
    """Weights stored as float16/bfloat16/float64 initializers, each Cast to float before use."""
    inputs, outputs = io_info()
    inits, nodes, names = [], [], {}
    for k, v in values.items():
        stored = f"{k}_stored"
        if elem == TensorProto.BFLOAT16:
            t = helper.make_tensor(stored, TensorProto.BFLOAT16, v.shape, v.astype(np.float32).flatten().tolist())
        else:
            t = numpy_helper.from_array(v, stored)
        inits.append(t)
        nodes.append(helper.make_node("Cast", [stored], [f"{k}_f32"], name=f"cast_{k}", to=TensorProto.FLOAT))
        names[k] = f"{k}_f32"
    graph = helper.make_graph(nodes + cnn_nodes(names), name, inputs, outputs, inits)
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), name)
    with_reference(path, x, name)


def bfloat16_rounded(v):
    """float32 values rounded to bfloat16 (nearest even), so that the stored values are the ones
    the reference is computed from."""
    bits = v.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def float64_models(x):
    exact = {k: v.astype(np.float64) for k, v in W.items()}
    narrow_typed_cnn(x, TensorProto.DOUBLE, "float64_exact_weights", exact)
    inexact = dict(exact)
    inexact["w2"] = exact["w2"] + 1e-12
    narrow_typed_cnn(x, TensorProto.DOUBLE, "float64_inexact_weights", inexact)
    # A model computing in double from its input.
    inputs, outputs = io_info(elem=TensorProto.DOUBLE)
    inits = [numpy_helper.from_array(v.astype(np.float64), k) for k, v in W.items()]
    nodes = cnn_nodes({k: k for k in W})
    nodes[-1] = helper.make_node("Gemm", ["f", "wf", "bf"], ["y64"], name="fc", transB=1)
    nodes.append(helper.make_node("Cast", ["y64"], ["y"], name="to_float", to=TensorProto.FLOAT))
    graph = helper.make_graph(nodes, "float64_input", inputs, outputs, inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "float64_input")


def constant_of_shape_matmul():
    """A 9216×4096 MatMul weight made by ConstantOfShape (37,748,736 elements, beyond the old
    fixed 2^24 limit) over a 1×96×96 input."""
    shape = numpy_helper.from_array(np.array([9216, 4096], dtype=np.int64), "w_shape")
    nodes = [
        helper.make_node("ConstantOfShape", ["w_shape"], ["w"], name="fill",
                         value=numpy_helper.from_array(np.array([0.001], dtype=np.float32), "fill_value")),
        helper.make_node("Flatten", ["x"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "w"], ["y"], name="fc"),
    ]
    graph = helper.make_graph(nodes, "constant_of_shape_matmul",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 96, 96])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4096])], [shape])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "constant_of_shape_matmul")
    x = RNG.standard_normal((2, 1, 96, 96)).astype(np.float32)
    save_npy(OUT / "constant_of_shape_matmul.input.npy", x)
    save_npy(OUT / "constant_of_shape_matmul.output.npy", run_ort(path, {"x": x})[0])


def import_models():
    OUT.mkdir(parents=True, exist_ok=True)
    x = RNG.standard_normal((3, 3, 8, 8)).astype(np.float32)
    save_npy(OUT / "cnn.input.npy", x)
    initializer_cnn(x)
    paddle_constant_cnn(x)
    ir3_shadowed_cnn(x)
    narrow_typed_cnn(x, TensorProto.FLOAT16, "float16_weights", {k: v.astype(np.float16) for k, v in W.items()})
    narrow_typed_cnn(x, TensorProto.BFLOAT16, "bfloat16_weights", {k: bfloat16_rounded(v) for k, v in W.items()})
    float64_models(x)
    constant_of_shape_matmul()


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 1)

    def forward(self, x):
        return self.conv(x)


def write(name: str, data: bytes) -> None:
    path = NOT_ONNX / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def fixed_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buffer.getvalue()


def not_onnx_corpus():
    torch.manual_seed(15)
    model = Tiny().eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    write("checkpoint.pt", buffer.getvalue())
    # Legacy (pre-zip) torch.save output starts with a protocol-2 pickle; its storage keys differ
    # from run to run, so the corpus holds a protocol-2 pickle of the state dict as plain lists.
    write("legacy_checkpoint.pth", pickle.dumps({k: v.tolist() for k, v in model.state_dict().items()}, protocol=2))
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.trace(model, torch.zeros(1, 3, 4, 4)), buffer)
    write("torchscript.pt", buffer.getvalue())
    write("model.h5", b"\x89HDF\r\n\x1a\n" + bytes(56))
    write("model.keras", fixed_zip({"metadata.json": b'{"keras_version": "3.15.0"}',
                                    "config.json": b'{"class_name": "Sequential"}',
                                    "model.weights.h5": b"\x89HDF\r\n\x1a\n" + bytes(24)}))
    write("model.tflite", b"\x1c\x00\x00\x00TFL3" + bytes(24))
    write("saved_model/saved_model.pb", bytes([0x08, 0x01, 0x12, 0x04, 0x0A, 0x02, 0x0A, 0x00]))
    # A GraphDef: field 1 (node) holding a NodeDef with name "x" and op "Placeholder".
    node = b"\x0a\x01x" + b"\x12\x0bPlaceholder"
    write("frozen_graph.pb", b"\x0a" + bytes([len(node)]) + node)
    for fmt, name in [("PNG", "photo.png"), ("JPEG", "photo.jpg"), ("GIF", "photo.gif")]:
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format=fmt)
        write(name, buffer.getvalue())
    write("README.md", "# My model\n\nDownload the weights, then run `python train.py`.\n".encode())
    write("labels.json", b'{"0": "tench", "1": "goldfish"}\n')
    write("archive.zip", fixed_zip({"notes.txt": b"hello"}))
    # A protobuf that decodes as a ModelProto but has no graph: ir_version 8 and a producer name.
    write("no_graph.onnx", bytes([0x08, 0x08, 0x12, 0x05]) + b"torch")


if __name__ == "__main__":
    import_models()
    not_onnx_corpus()
