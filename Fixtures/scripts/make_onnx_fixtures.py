#!/usr/bin/env python3
"""Fixtures for Tests/ONNXFormatTests, made with the `onnx` pip package (an independent
protobuf implementation), plus the round-trip check of our writer on a real exported model.

Usage:
  python3 Fixtures/scripts/make_onnx_fixtures.py                 # (re)write Fixtures/onnx/*
  python3 Fixtures/scripts/make_onnx_fixtures.py --export-resnet18 DIR
        # export torchvision resnet18 (random weights, seed 0) to DIR/resnet18.onnx (not committed, 45 MB)
  python3 Fixtures/scripts/make_onnx_fixtures.py --check-roundtrip ORIGINAL REENCODED [ORIGINAL2 REENCODED2 ...]
        # onnx.load(REENCODED) must equal onnx.load(ORIGINAL) message for message; onnx.checker
        # must accept it and ONNX Runtime must give identical outputs. REENCODED comes from
        #   WEAKSPOT_ONNX_REENCODE=ORIGINAL:REENCODED swift test -c release --filter LargeModelTests

Each fixture below says why it exists. Expected values go to small_model.json, computed with
numpy / ml_dtypes / struct, never with the Swift reader.
"""
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "onnx")


def float_bits(values):
    """float32 bit patterns of `values` (numpy float32 array), exact including NaN and -0."""
    return [int(b) for b in np.asarray(values, dtype=np.float32).reshape(-1).view(np.uint32)]


def external(tensor, location, offset, length):
    """Turns `tensor` into an external-data reference (the data itself is written by the caller)."""
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value


def small_model():
    """Every attribute kind, every storage form of tensor data the reader must handle."""
    rng = np.random.default_rng(7)
    inits, expected = [], []

    def add(tensor, floats=None, ints=None):
        inits.append(tensor)
        record = {"name": tensor.name, "dataType": tensor.data_type, "dims": list(tensor.dims)}
        if floats is not None:
            record["floatBits"] = float_bits(floats)
        if ints is not None:
            record["int64s"] = [int(v) for v in np.asarray(ints).reshape(-1)]
        expected.append(record)

    # raw_data float32: the common case of exporters.
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    add(numpy_helper.from_array(w, "conv.weight"), floats=w)
    # float_data (typed, packed): older exporters and helper.make_tensor.
    b = np.array([0.5, -1.25], dtype=np.float32)
    add(helper.make_tensor("conv.bias", TensorProto.FLOAT, [2], b.tolist()), floats=b)
    # float16 raw: zero, -0, one, max, min normal, min subnormal, max subnormal, inf, -inf, quiet NaN.
    half_bits = np.array([0x0000, 0x8000, 0x3C00, 0x7BFF, 0x0400, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x7E00, 0x8001, 0xB555],
                         dtype=np.uint16)
    half = half_bits.view(np.float16)
    for bits, value in zip(half_bits, half):  # independent cross-check of numpy with struct
        ref = struct.unpack("<e", struct.pack("<H", int(bits)))[0]
        assert (np.isnan(ref) and np.isnan(value)) or ref == float(value)
    add(numpy_helper.from_array(half, "half.raw"), floats=half.astype(np.float32))
    # float16 in int32_data (helper.make_tensor stores bit patterns there).
    half_typed = np.array([1.5, -0.0009765625, 2.0 ** -24, 65504], dtype=np.float16)
    t = helper.make_tensor("half.typed", TensorProto.FLOAT16, [2, 2], half_typed.tolist())
    assert len(t.int32_data) == 4 and not t.raw_data
    add(t, floats=half_typed.astype(np.float32))
    # bfloat16 raw: high halves of float32.
    import ml_dtypes
    bf = np.array([1.0, -3.140625, 1e-40, np.inf], dtype=ml_dtypes.bfloat16)
    t = TensorProto(name="bf16.raw", data_type=TensorProto.BFLOAT16, dims=[4], raw_data=bf.tobytes())
    add(t, floats=bf.astype(np.float32))
    # int8 raw, uint8 typed, int32 typed, int64 typed, double typed, bool raw.
    i8 = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    add(numpy_helper.from_array(i8, "q.int8"), floats=i8.astype(np.float32), ints=i8)
    u8 = np.array([0, 1, 128, 255], dtype=np.uint8)
    t = helper.make_tensor("q.uint8", TensorProto.UINT8, [4], u8.tolist())
    assert len(t.int32_data) == 4
    add(t, floats=u8.astype(np.float32), ints=u8)
    i32 = np.array([-2147483648, -1, 2147483647], dtype=np.int32)
    t = helper.make_tensor("idx.int32", TensorProto.INT32, [3], i32.tolist())
    add(t, floats=i32.astype(np.float32), ints=i32)
    i64 = np.array([-1, 9223372036854775807, 3], dtype=np.int64)
    t = helper.make_tensor("shape.int64", TensorProto.INT64, [3], i64.tolist())
    assert len(t.int64_data) == 3
    add(t, floats=i64.astype(np.float32), ints=i64)
    i64raw = np.array([[1, -2], [3, -4]], dtype=np.int64)
    add(numpy_helper.from_array(i64raw, "shape.int64raw"), floats=i64raw.astype(np.float32), ints=i64raw)
    d = np.array([0.1, -1e300], dtype=np.float64)
    t = helper.make_tensor("dbl", TensorProto.DOUBLE, [2], d.tolist())
    assert len(t.double_data) == 2
    with np.errstate(over="ignore"):  # -1e300 rounds to -inf in float32, as it must
        add(t, floats=d.astype(np.float32))
    bools = np.array([True, False, True])
    add(numpy_helper.from_array(bools, "mask.bool"), floats=bools.astype(np.float32), ints=bools.astype(np.int64))
    # Scalar (no dims): one element.
    s = np.array(2.5, dtype=np.float32)
    add(numpy_helper.from_array(s, "scalar"), floats=s)
    # External data in a side file, one tensor at an offset with a length, one at offset 0 without.
    ext_w = rng.standard_normal((4, 5)).astype(np.float32)
    ext_b = np.arange(5, dtype=np.float32) - 2
    t_w = numpy_helper.from_array(ext_w, "ext.weight")
    external(t_w, "small_model.weights.bin", 16, ext_w.nbytes)
    t_b = numpy_helper.from_array(ext_b, "ext.bias")
    t_b.ClearField("raw_data")
    t_b.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "./small_model.bias.bin"), ("offset", "0")):
        e = t_b.external_data.add()
        e.key, e.value = key, value
    add(t_w, floats=ext_w)
    add(t_b, floats=ext_b)
    with open(os.path.join(OUT, "small_model.weights.bin"), "wb") as f:
        f.write(b"\xAA" * 16 + ext_w.tobytes() + b"\xBB" * 8)
    with open(os.path.join(OUT, "small_model.bias.bin"), "wb") as f:
        f.write(ext_b.tobytes())

    const_value = numpy_helper.from_array(np.array([[1, 2], [3, 4]], dtype=np.float32), "const.value")
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], group=1, doc_string="first conv"),
        helper.make_node("LeakyRelu", ["c1"], ["out"], name="act", alpha=0.1),
        helper.make_node("Constant", [], ["k"], name="const", value=const_value),
        helper.make_node("Tag", ["out", ""], ["tagged"], name="tag", domain="com.weakspot.test",
                         s="héllo", floats=[1.5, -2.25], strings=["a", "bc"], i=-7, f=-0.0,
                         tensors=[numpy_helper.from_array(np.array([5, 6], dtype=np.int64), "t0"),
                                  helper.make_tensor("t1", TensorProto.FLOAT, [1], [3.0])]),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 2, 4, 4]),
         helper.make_tensor_value_info("tagged", TensorProto.FLOAT, None)],
        initializer=inits,
        value_info=[helper.make_tensor_value_info("c1", TensorProto.FLOAT, ["N", 2, None, 4])],
        doc_string="graph doc")
    model = helper.make_model(
        graph, producer_name="make_onnx_fixtures", producer_version="1", domain="org.weakspot",
        model_version=3, doc_string="tiny model",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.weakspot.test", 1)])
    model.ir_version = 8
    helper.set_model_props(model, {"author": "weakspot", "purpose": "format test"})
    data = model.SerializeToString()
    with open(os.path.join(OUT, "small_model.onnx"), "wb") as f:
        f.write(data)

    manifest = {
        "irVersion": model.ir_version,
        "opsets": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        "producerName": model.producer_name, "producerVersion": model.producer_version,
        "domain": model.domain, "modelVersion": model.model_version, "docString": model.doc_string,
        "metadata": [{"key": p.key, "value": p.value} for p in model.metadata_props],
        "graphName": graph.name, "graphDocString": graph.doc_string,
        "initializers": expected,
        "nodes": [node_manifest(n) for n in nodes],
        "inputs": [value_info_manifest(v) for v in graph.input],
        "outputs": [value_info_manifest(v) for v in graph.output],
        "valueInfo": [value_info_manifest(v) for v in graph.value_info],
        "fileSize": len(data),
        "topLevelFields": top_level_fields(data),
    }
    with open(os.path.join(OUT, "small_model.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


def top_level_fields(data):
    """(field number, end offset) of each top-level ModelProto field, parsed here by hand so the
    truncation test knows which cuts leave a complete message (protobuf writes fields in number order)."""
    def varint(pos):
        value, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, pos
    fields, pos = [], 0
    while pos < len(data):
        key, pos = varint(pos)
        wire = key & 7
        if wire == 0:
            _, pos = varint(pos)
        elif wire == 2:
            length, pos = varint(pos)
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError("groups not expected at top level")
        fields.append({"field": key >> 3, "end": pos})
    assert pos == len(data)
    return fields


def node_manifest(node):
    attrs = []
    for a in node.attribute:
        rec = {"name": a.name, "type": a.type}
        if a.type == onnx.AttributeProto.FLOAT:
            rec["floatBits"] = float_bits([a.f])
        elif a.type == onnx.AttributeProto.INT:
            rec["ints"] = [a.i]
        elif a.type == onnx.AttributeProto.STRING:
            rec["strings"] = [a.s.decode("utf-8")]
        elif a.type == onnx.AttributeProto.FLOATS:
            rec["floatBits"] = float_bits(list(a.floats))
        elif a.type == onnx.AttributeProto.INTS:
            rec["ints"] = list(a.ints)
        elif a.type == onnx.AttributeProto.STRINGS:
            rec["strings"] = [s.decode("utf-8") for s in a.strings]
        elif a.type == onnx.AttributeProto.TENSOR:
            rec["tensorNames"] = [a.t.name]
            rec["floatBits"] = float_bits(numpy_helper.to_array(a.t))
        elif a.type == onnx.AttributeProto.TENSORS:
            rec["tensorNames"] = [t.name for t in a.tensors]
            rec["floatBits"] = float_bits(np.concatenate([numpy_helper.to_array(t).astype(np.float32).reshape(-1) for t in a.tensors]))
        attrs.append(rec)
    return {"name": node.name, "opType": node.op_type, "domain": node.domain, "inputs": list(node.input),
            "outputs": list(node.output), "docString": node.doc_string, "attributes": attrs}


def value_info_manifest(v):
    rec = {"name": v.name}
    tt = v.type.tensor_type
    if v.type.HasField("tensor_type"):
        rec["elementType"] = tt.elem_type
        if tt.HasField("shape"):
            rec["shape"] = [str(d.dim_value) if d.HasField("dim_value") else ("$" + d.dim_param if d.HasField("dim_param") else "?")
                            for d in tt.shape.dim]
    return rec


def write(name, model_or_bytes):
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def tiny(initializers, nodes=(), sparse=()):
    graph = helper.make_graph(list(nodes), "hostile", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=list(initializers))
    graph.sparse_initializer.extend(sparse)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def hostile_models():
    """Valid protobuf, hostile ONNX: each must be refused with a message naming the place."""
    def ext_tensor(location, offset=0, length=16):
        t = numpy_helper.from_array(np.zeros(4, dtype=np.float32), "w.ext")
        external(t, location, offset, length)
        return t

    # A location that climbs out of the model folder.
    write("ext_parent.onnx", tiny([ext_tensor("../x")]))
    # An absolute location.
    write("ext_absolute.onnx", tiny([ext_tensor("/etc/passwd")]))
    # A location that is a symlink the test creates, pointing outside the folder.
    write("ext_symlink.onnx", tiny([ext_tensor("escape.bin")]))
    # offset + length past the end of the side file (small_model.bias.bin has 20 bytes).
    write("ext_past_end.onnx", tiny([ext_tensor("small_model.bias.bin", offset=8, length=16)]))
    # 10^12 elements declared, 4 bytes of data: must be refused before any allocation.
    t = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[1000000, 1000000], raw_data=b"\0\0\0\0")
    write("huge_tensor.onnx", tiny([t]))
    # A negative dim.
    t = TensorProto(name="neg", data_type=TensorProto.FLOAT, dims=[2, -3], raw_data=b"\0" * 24)
    write("negative_dims.onnx", tiny([t]))
    # raw_data shorter than the dims say.
    t = TensorProto(name="short", data_type=TensorProto.FLOAT, dims=[3], raw_data=b"\0" * 8)
    write("short_raw.onnx", tiny([t]))
    # A sparse initializer: explicitly unsupported.
    values = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "sp")
    indices = numpy_helper.from_array(np.array([0], dtype=np.int64), "sp.idx")
    write("sparse_initializer.onnx", tiny([], sparse=[helper.make_sparse_tensor(values, indices, [4])]))
    # An If node: decodes, with its branches kept as opaque subgraphs.
    then_g = helper.make_graph([helper.make_node("Constant", [], ["a"], value_float=1.0)], "then", [],
                               [helper.make_tensor_value_info("a", TensorProto.FLOAT, [])])
    else_g = helper.make_graph([helper.make_node("Constant", [], ["b"], value_float=2.0)], "else", [],
                               [helper.make_tensor_value_info("b", TensorProto.FLOAT, [])])
    cond = numpy_helper.from_array(np.array(True), "cond")
    if_node = helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    model = tiny([cond], nodes=[if_node])
    write("if_model.onnx", model)


def export_resnet18(folder):
    import torch
    import torchvision
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None).eval()
    os.makedirs(folder, exist_ok=True)
    torch.onnx.export(net, torch.randn(1, 3, 224, 224), os.path.join(folder, "resnet18.onnx"), dynamo=False,
                      input_names=["input"], output_names=["logits"], opset_version=17)


def check_roundtrip(original, reencoded):
    """Our re-encoding must be the same message as the original (external data, which our writer
    inlines, is loaded into both first), pass onnx.checker, and give ONNX Runtime identical outputs."""
    a = onnx.load(original)
    b = onnx.load(reencoded)
    from onnx.external_data_helper import _get_all_tensors
    for tensor in _get_all_tensors(a):
        if tensor.HasField("data_location") and tensor.data_location == TensorProto.DEFAULT:
            tensor.ClearField("data_location")  # left behind by onnx's own external-data loader
    assert a == b, f"{reencoded}: re-encoded model differs from {original}"
    onnx.checker.check_model(b, full_check=True)
    import onnxruntime as ort
    rng = np.random.default_rng(0)
    feeds = {}
    for value in ort.InferenceSession(original, providers=["CPUExecutionProvider"]).get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in value.shape]
        if value.type == "tensor(float)":
            feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
        elif value.type == "tensor(int64)":
            feeds[value.name] = np.ones(shape, dtype=np.int64)
        else:
            raise SystemExit(f"{original}: no random input for {value.type}")
    outs = [ort.InferenceSession(p, providers=["CPUExecutionProvider"]).run(None, feeds) for p in (original, reencoded)]
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(*outs))
    print(f"round trip ok: {original}: messages equal, checker passed, ONNX Runtime outputs identical "
          f"({os.path.getsize(original)} bytes original, {os.path.getsize(reencoded)} re-encoded)")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--export-resnet18":
        export_resnet18(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "--check-roundtrip":
        for i in range(2, len(sys.argv) - 1, 2):
            check_roundtrip(sys.argv[i], sys.argv[i + 1])
    else:
        os.makedirs(OUT, exist_ok=True)
        small_model()
        hostile_models()
        print("wrote", sorted(os.listdir(OUT)))
