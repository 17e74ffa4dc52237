"""Independent reference measurements for channel ablation, made by editing ONNX graphs and
running ONNX Runtime (no WeakSpot code involved).

Semantics implemented here (from the product spec, restated so this script can be checked
against it without reading any Swift):

* Producers: every Conv, every Gemm with transA = 0 and a constant B, every MatMul with a
  constant 2-D weight. A channel is one output channel (axis 1) of a producer.
* Per-channel tail of producer X: start at X's output tensor t. While t is not a graph output:
  - if t has exactly one consumer node n and n acts on each channel on its own
    (BatchNormalization, Relu, Clip, LeakyRelu, HardSwish reading t as input 0; or
    Mul/Add/Sub/Div with t as one operand and a constant other operand that is per-channel,
    i.e. shaped (C,1,1) or (1,C,1,1), or (C,) when t is 2-D, or — for Mul/Div only — a scalar,
    i.e. one element), move to n's output;
  - else if t has exactly two consumers, a Sigmoid/HardSigmoid g reading t and a Mul m whose
    inputs are {t, g(t)}, and g's output is read by m only (and is not a graph output), move to
    m's output;
  - else stop. The tensor where the walk stops is the tail end.
* "structural" ablation of channel c: channel c of the tail end is 0 for every reader. Done by
  renaming the tail end's producing node output to `<tail>__unmasked` and inserting
  `Mul(<tail>__unmasked, mask) -> <tail>` with mask shaped (1,C,1,...,1), 0 at c, 1 elsewhere, so
  every consumer (and a graph output) sees the masked tensor.
* "output" ablation: the same mask on X's raw output (before BatchNormalization).
* Metrics over the N inputs, computed in float64 from ORT's float32 logits (last axis =
  classes): kl = mean_i sum_k p_base (log p_base - log p_pert) (natural log, softmax over the
  last axis), mse = mean over inputs and classes of (base - pert)^2, top1 = fraction of inputs
  whose argmax changes (numpy argmax: first maximum). Per-input values are written too.

ORT runs with graph optimisations disabled and one intra-op thread, so a re-run writes
byte-identical JSON. Self-checks (asserted): structural == output where the tail is empty or is
only a ReLU6 Clip of a BN-folded conv; group ablation via producers == via stream tensors;
weight-edited filter pruning == output mask on the same channels.

Usage: python3 Fixtures/scripts/make_ablation_fixtures.py   (writes Fixtures/ablation/*.json)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper, shape_inference

FIXTURES = Path(__file__).resolve().parent.parent
OUT = FIXTURES / "ablation"

PER_CHANNEL_UNARY = {"BatchNormalization", "Relu", "Clip", "LeakyRelu", "HardSwish"}
PER_CHANNEL_BINARY = {"Mul", "Add", "Sub", "Div"}
SCALAR_ALLOWED = {"Mul", "Div"}
GATES = {"Sigmoid", "HardSigmoid"}


# ----------------------------------------------------------------------------------------------
# Graph inspection


class GraphView:
    """Read-only indexes over a loaded ModelProto: constants, producers, consumers, ranks."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        g = model.graph
        self.constants: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in g.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        self.constants[n.output[0]] = numpy_helper.to_array(a.t)
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in g.node:
            for o in n.output:
                self.producer[o] = n
            seen = set()
            for i in n.input:
                if i and i not in seen:
                    seen.add(i)
                    self.consumers.setdefault(i, []).append(n)
        self.graph_outputs = {o.name for o in g.output}
        self.nodes_by_name = {n.name: n for n in g.node}
        inferred = shape_inference.infer_shapes(model)
        self.rank: dict[str, int] = {}
        self.dim1: dict[str, int] = {}
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            if vi.type.tensor_type.HasField("shape"):
                dims = vi.type.tensor_type.shape.dim
                self.rank[vi.name] = len(dims)
                if len(dims) > 1 and dims[1].HasField("dim_value"):
                    self.dim1[vi.name] = dims[1].dim_value

    def attr(self, node: onnx.NodeProto, name: str, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def producer_channels(self, node: onnx.NodeProto) -> int | None:
        """Output-channel count if `node` is a producer in the spec's sense, else None."""
        if node.op_type == "Conv" and node.input[1] in self.constants:
            return int(self.constants[node.input[1]].shape[0])
        if node.op_type == "Gemm" and self.attr(node, "transA", 0) == 0 \
                and node.input[1] in self.constants:
            b = self.constants[node.input[1]]
            return int(b.shape[0] if self.attr(node, "transB", 0) else b.shape[1])
        if node.op_type == "MatMul" and node.input[1] in self.constants \
                and self.constants[node.input[1]].ndim == 2:
            return int(self.constants[node.input[1]].shape[1])
        return None

    def producers(self) -> list[tuple[onnx.NodeProto, int]]:
        out = []
        for n in self.model.graph.node:
            c = self.producer_channels(n)
            if c is not None:
                out.append((n, c))
        return out

    def _per_channel_constant(self, op: str, name: str, channels: int, rank: int) -> bool:
        if name not in self.constants:
            return False
        shape = tuple(self.constants[name].shape)
        if op in SCALAR_ALLOWED and int(np.prod(shape, dtype=np.int64)) == 1:
            return True
        if shape in ((channels, 1, 1), (1, channels, 1, 1)):
            return rank == 4
        if shape == (channels,):
            return rank == 2
        return False

    def tail(self, tensor: str, channels: int) -> tuple[str, list[str]]:
        """Walks the per-channel tail; returns (tail end, names of the nodes walked through)."""
        walked: list[str] = []
        t = tensor
        while t not in self.graph_outputs:
            cons = self.consumers.get(t, [])
            rank = self.rank.get(t, 4)
            if len(cons) == 1:
                n = cons[0]
                if n.op_type in PER_CHANNEL_UNARY and n.input[0] == t \
                        and t not in list(n.input[1:]):
                    walked.append(n.name)
                    t = n.output[0]
                    continue
                if n.op_type in PER_CHANNEL_BINARY and len(n.input) == 2 \
                        and list(n.input).count(t) == 1:
                    other = n.input[1] if n.input[0] == t else n.input[0]
                    if self._per_channel_constant(n.op_type, other, channels, rank):
                        walked.append(n.name)
                        t = n.output[0]
                        continue
                break
            if len(cons) == 2:
                gates = [n for n in cons if n.op_type in GATES and n.input[0] == t]
                muls = [n for n in cons if n.op_type == "Mul"]
                if len(gates) == 1 and len(muls) == 1:
                    g, m = gates[0], muls[0]
                    gout = g.output[0]
                    if sorted(m.input) == sorted([t, gout]) and gout not in self.graph_outputs \
                            and [x.name for x in self.consumers.get(gout, [])] == [m.name]:
                        walked += [g.name, m.name]
                        t = m.output[0]
                        continue
            break
        return t, walked


# ----------------------------------------------------------------------------------------------
# Graph editing and running


def load(path: Path) -> onnx.ModelProto:
    return onnx.load(str(path))  # external data (resnet18_bn.data*) is pulled in memory


def with_masks(model: onnx.ModelProto, view: GraphView,
               masks: list[tuple[str, int, list[int]]]) -> onnx.ModelProto:
    """Copy of `model` where each (tensor, channels, zeroed) entry's tensor is multiplied by a
    (1,C,1..1) mask with zeros at `zeroed`, seen by every reader of the tensor."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for k, (tensor, channels, zeroed) in enumerate(masks):
        rank = view.rank.get(tensor)
        if rank is None:
            raise ValueError(f"no rank for {tensor}")
        shape = [1, channels] + [1] * (rank - 2)
        mask = np.ones(channels, dtype=np.float32)
        mask[list(zeroed)] = 0.0
        mask_name = f"__ablation_mask_{k}"
        raw = f"{tensor}__unmasked_{k}"
        g.initializer.append(numpy_helper.from_array(mask.reshape(shape), mask_name))
        index = None
        for i, n in enumerate(g.node):
            for j, o in enumerate(n.output):
                if o == tensor:
                    n.output[j] = raw
                    index = i
        if index is None:
            raise ValueError(f"{tensor} has no producing node")
        mul = onnx.helper.make_node("Mul", [raw, mask_name], [tensor],
                                    name=f"__ablation_mul_{k}")
        g.node.insert(index + 1, mul)
    return m


def with_zeroed_filters(model: onnx.ModelProto, node_name: str,
                        zeroed: list[int]) -> onnx.ModelProto:
    """Copy of `model` where output filters `zeroed` of Conv `node_name` (weight rows and bias
    entries) are 0."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    node = next(n for n in m.graph.node if n.name == node_name)
    names = list(node.input[1:3])
    for init in m.graph.initializer:
        if init.name in names:
            a = numpy_helper.to_array(init).copy()
            a[list(zeroed)] = 0
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    return m


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x})[0]


def metrics(base: np.ndarray, pert: np.ndarray) -> dict:
    b = base.astype(np.float64).reshape(base.shape[0], -1)
    p = pert.astype(np.float64).reshape(pert.shape[0], -1)

    def log_softmax(z):
        mx = z.max(axis=-1, keepdims=True)
        s = z - mx
        return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))

    lb, lp = log_softmax(b), log_softmax(p)
    kl = (np.exp(lb) * (lb - lp)).sum(axis=-1)
    mse = ((b - p) ** 2).mean(axis=-1)
    top1 = (b.argmax(axis=-1) != p.argmax(axis=-1)).astype(np.float64)
    return {"kl": float(kl.mean()), "mse": float(mse.mean()), "top1": float(top1.mean()),
            "perInput": {"kl": [float(v) for v in kl], "mse": [float(v) for v in mse],
                         "top1": [float(v) for v in top1]}}


def close(a: dict, b: dict, what: str, tol: float = 1e-9) -> None:
    for key in ("kl", "mse"):
        x, y = a[key], b[key]
        if abs(x - y) > tol + 1e-5 * max(abs(x), abs(y)):
            raise AssertionError(f"{what}: {key} {x} vs {y}")
    if a["top1"] != b["top1"]:
        raise AssertionError(f"{what}: top1 {a['top1']} vs {b['top1']}")


# ----------------------------------------------------------------------------------------------
# Cases


def choose(rng: np.random.Generator, channels: int, count: int) -> list[int]:
    return sorted(int(c) for c in rng.choice(channels, size=count, replace=False))


def single_channel_cases(model, view, x, base, plan, seed, modes, tails_log):
    """plan: list of (producer node name, number of channels)."""
    rng = np.random.default_rng(seed)
    cases = []
    for name, count in plan:
        node = view.nodes_by_name[name]
        channels = view.producer_channels(node)
        if channels is None:
            raise ValueError(f"{name} is not a producer")
        out = node.output[0]
        end, walked = view.tail(out, channels)
        tails_log.append((name, end, walked))
        for c in choose(rng, channels, count):
            results = {}
            for mode in modes:
                target = end if mode == "structural" else out
                results[mode] = metrics(base, run(with_masks(model, view, [(target, channels, [c])]), x))
                cases.append({"producer": name, "producerOutput": out, "tailEnd": end,
                              "tailNodes": walked, "channels": channels, "channel": c,
                              "mode": mode, **results[mode]})
            if "output" in results and end == out:
                close(results["structural"], results["output"], f"{name} c={c} empty tail")
    return cases


def stream_groups(model, view, x, base, seed_adds, seed, count):
    """Residual-stream groups: the stream grown from `seed_adds` (Add node names) through
    further Adds and per-channel tails; members = producers whose tail end is an input of a
    stream Add."""
    producers = view.producers()
    tail_of = {}
    for n, ch in producers:
        end, _ = view.tail(n.output[0], ch)
        tail_of.setdefault(end, []).append((n, ch))
    rng = np.random.default_rng(seed)
    groups = []
    for seed_add in seed_adds:
        adds, stream, queue = [], [], [view.nodes_by_name[seed_add]]
        while queue:
            add = queue.pop(0)
            if add.name in [a.name for a in adds]:
                continue
            adds.append(add)
            t = add.output[0]
            chain = [t]
            end, walked = view.tail(t, view.dim1[t])
            for w in walked:
                chain.append(view.nodes_by_name[w].output[0])
            for tensor in chain:
                if tensor not in stream:
                    stream.append(tensor)
                for n in view.consumers.get(tensor, []):
                    if n.op_type == "Add" and not any(i in view.constants for i in n.input):
                        queue.append(n)
        members, starts = [], []
        for a in adds:
            for i in a.input:
                if i in stream:
                    continue
                if i not in tail_of:
                    raise ValueError(f"{a.name} input {i} is no producer's tail end")
                for n, ch in tail_of[i]:
                    members.append((n, ch, i))
                readers = [n for n in view.consumers.get(i, []) if n.name not in
                           {b.name for b in adds}]
                if readers and i not in starts:
                    starts.append(i)
        stream_tensors = starts + stream
        channels = {ch for _, ch, _ in members}
        if len(channels) != 1:
            raise ValueError(f"stream {seed_add}: channel counts {channels}")
        width = channels.pop()
        for c in choose(rng, width, count):
            via_producers = metrics(base, run(with_masks(
                model, view, [(end, width, [c]) for _, _, end in members]), x))
            via_stream = metrics(base, run(with_masks(
                model, view, [(t, width, [c]) for t in stream_tensors]), x))
            close(via_producers, via_stream, f"stream {seed_add} c={c}")
            groups.append({
                "adds": [a.name for a in adds], "streamTensors": stream_tensors,
                "channels": width, "channel": c,
                "members": [{"producer": n.name, "producerOutput": n.output[0], "tailEnd": e}
                            for n, _, e in members],
                "viaProducers": via_producers, "viaStream": via_stream})
    return groups


def prune_sweeps(model, view, x, base, convs, levels):
    sweeps = []
    for name in convs:
        node = view.nodes_by_name[name]
        channels = view.producer_channels(node)
        w = view.constants[node.input[1]].astype(np.float64)
        l1 = np.abs(w.reshape(channels, -1)).sum(axis=1)
        order = sorted(range(channels), key=lambda i: (l1[i], i))
        out = node.output[0]
        end, walked = view.tail(out, channels)
        for s in levels:
            k = int(s * channels)
            zeroed = sorted(order[:k])
            weights = metrics(base, run(with_zeroed_filters(model, name, zeroed), x))
            at_output = metrics(base, run(with_masks(model, view, [(out, channels, zeroed)]), x))
            close(weights, at_output, f"sweep {name} s={s}")
            tail = metrics(base, run(with_masks(model, view, [(end, channels, zeroed)]), x))
            sweeps.append({"producer": name, "producerOutput": out, "tailEnd": end,
                           "tailNodes": walked, "channels": channels, "sparsity": s,
                           "count": k, "zeroed": zeroed, "l1": [float(v) for v in l1],
                           "weights": weights, "tailMasked": tail})
    return sweeps


# ----------------------------------------------------------------------------------------------
# Synthetic model exercising every tail rule (the real models only use BN/Relu/Clip tails)


def build_tail_rules_model() -> onnx.ModelProto:
    """A small (N,3,8,8) -> (N,10) graph whose producers hit each rule of the tail walk:

    A: Conv -> Mul (8,1,1) -> Add (1,8,1,1) -> LeakyRelu -> {Sigmoid, Mul} gate -> HardSwish,
       then three readers: tail end = HardSwish output.
    B: Conv -> Add of a scalar: scalar Add is not per-channel: tail end = B's raw output.
    C: Conv -> Div by a scalar -> Sub (8,1,1) -> Clip, whose output is a graph output ("aux")
       read by a Relu: stops at the graph output.
    D: depthwise Conv -> {HardSigmoid, Mul} whose gate output is also read by an Add: the gate
       rule fails: tail end = D's raw output.
    E: Conv -> Mul by a spatial (1,1,8,8) constant: not per-channel: tail end = E's raw output.
    F: MatMul with a constant (8,10) weight -> Add of a (10,) bias on a 2-D tensor -> logits
       (graph output 0).
    """
    rng = np.random.default_rng(123)
    h = onnx.helper
    inits = []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def weight(name, shape, fan_in):
        return const(name, rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape))

    nodes = [
        h.make_node("Conv", ["input", weight("wA", (8, 3, 3, 3), 27), const("bA", rng.normal(0, 0.1, 8))],
                    ["a0"], name="convA", pads=[1, 1, 1, 1]),
        h.make_node("Mul", ["a0", const("kA", rng.uniform(0.5, 1.5, (8, 1, 1)))], ["a1"], name="mulA"),
        h.make_node("Add", [const("sA", rng.normal(0, 0.2, (1, 8, 1, 1))), "a1"], ["a2"], name="addA"),
        h.make_node("LeakyRelu", ["a2"], ["a3"], name="leakyA", alpha=0.1),
        h.make_node("Sigmoid", ["a3"], ["aG"], name="sigmoidA"),
        h.make_node("Mul", ["aG", "a3"], ["a4"], name="gateA"),
        h.make_node("HardSwish", ["a4"], ["a5"], name="hardswishA"),
        h.make_node("Conv", ["a5", weight("wB", (8, 8, 1, 1), 8)], ["b0"], name="convB"),
        h.make_node("Add", ["b0", const("scalarB", 0.5)], ["b1"], name="addScalarB"),
        h.make_node("Relu", ["b1"], ["b2"], name="reluB"),
        h.make_node("Conv", ["a5", weight("wC", (8, 8, 3, 3), 72)], ["c0"], name="convC",
                    pads=[1, 1, 1, 1]),
        h.make_node("Div", ["c0", const("scalarC", [2.0])], ["c1"], name="divC"),
        h.make_node("Sub", ["c1", const("shiftC", rng.normal(0, 0.2, (8, 1, 1)))], ["c2"], name="subC"),
        h.make_node("Clip", ["c2", const("lo", 0.0), const("hi", 6.0)], ["aux"], name="clipC"),
        h.make_node("Relu", ["aux"], ["c4"], name="reluC"),
        h.make_node("Conv", ["a5", weight("wD", (8, 1, 3, 3), 9)], ["d0"], name="convD",
                    pads=[1, 1, 1, 1], group=8),
        h.make_node("HardSigmoid", ["d0"], ["dG"], name="hardsigmoidD"),
        h.make_node("Mul", ["d0", "dG"], ["d1"], name="gateD"),
        h.make_node("Conv", ["a5", weight("wE", (8, 8, 1, 1), 8)], ["e0"], name="convE"),
        h.make_node("Mul", ["e0", const("spatialE", rng.uniform(0.5, 1.5, (1, 1, 8, 8)))], ["e1"],
                    name="mulSpatialE"),
        h.make_node("Add", ["b2", "c4"], ["s1"], name="merge1"),
        h.make_node("Add", ["s1", "d1"], ["s2"], name="merge2"),
        h.make_node("Add", ["s2", "dG"], ["s3"], name="merge3"),
        h.make_node("Add", ["s3", "e1"], ["s4"], name="merge4"),
        h.make_node("GlobalAveragePool", ["s4"], ["pooled"], name="pool"),
        h.make_node("Flatten", ["pooled"], ["flat"], name="flatten"),
        h.make_node("MatMul", ["flat", weight("wF", (8, 10), 8)], ["f0"], name="matmulF"),
        h.make_node("Add", ["f0", const("bF", rng.normal(0, 0.1, 10))], ["logits"], name="biasF"),
    ]
    graph = h.make_graph(
        nodes, "tail_rules",
        [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 3, 8, 8])],
        [h.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["N", 10]),
         h.make_tensor_value_info("aux", onnx.TensorProto.FLOAT, ["N", 8, 8, 8])],
        inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)],
                         producer_name="make_ablation_fixtures.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


TAIL_RULES_EXPECTED = {"convA": "a5", "convB": "b0", "convC": "aux", "convD": "d0",
                       "convE": "e0", "matmulF": "logits"}


# ----------------------------------------------------------------------------------------------


def write(name: str, doc: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1) + "\n"
    (OUT / f"{name}.json").write_text(text)


def kl_range(cases):
    kls = [c["kl"] for c in cases]
    return f"{len(cases)} cases, kl min {min(kls):.3e} max {max(kls):.3e}"


def main() -> None:
    both = ["structural", "output"]
    specs = [
        ("resnet18_bn", "models/resnet18_bn.onnx", "models/resnet18_bn.input.npy", 18, [
            ("/conv1/Conv", 4),
            ("/layer1/layer1.0/conv1/Conv", 4),
            ("/layer2/layer2.1/conv2/Conv", 4),
            ("/layer3/layer3.0/downsample/downsample.0/Conv", 4),
            ("/layer4/layer4.1/conv2/Conv", 4),
            ("/fc/Gemm", 4)]),
        ("mobilenet_v2", "models/mobilenet_v2.onnx", "models/mobilenet_v2.input.npy", 2, [
            ("/features/features.0/features.0.0/Conv", 3),
            ("/features/features.2/conv/conv.0/conv.0.0/Conv", 3),
            ("/features/features.4/conv/conv.1/conv.1.0/Conv", 3),
            ("/features/features.3/conv/conv.2/Conv", 3),
            ("/features/features.7/conv/conv.2/Conv", 3),
            ("/features/features.13/conv/conv.1/conv.1.0/Conv", 3),
            ("/features/features.18/features.18.0/Conv", 3),
            ("/classifier/classifier.1/Gemm", 3)]),
        ("efficientnet_lite0", "demo/efficientnet_lite0.onnx", "demo/images.input.npy", 0, [
            ("/_conv_stem/Conv", 3),
            ("/_blocks.1/_depthwise_conv/Conv", 3),
            ("/_blocks.13/_depthwise_conv/Conv", 3),
            ("/_blocks.5/_expand_conv/Conv", 2),
            ("/_blocks.2/_project_conv/Conv", 3),
            ("/_blocks.14/_project_conv/Conv", 3),
            ("/_blocks.15/_project_conv/Conv", 2),
            ("/_conv_head/Conv", 3),
            ("/_fc/Gemm", 2)]),
    ]
    summary = []
    tails: dict[str, list] = {}
    for key, model_path, input_path, seed, plan in specs:
        model = load(FIXTURES / model_path)
        view = GraphView(model)
        x = np.load(FIXTURES / input_path)
        base = run(model, x)
        tails[key] = []
        cases = single_channel_cases(model, view, x, base, plan, seed, both, tails[key])
        if key == "mobilenet_v2":
            # BN folded and ReLU6 (Clip 0..6): zeroing before or after the Clip is the same.
            by = {}
            for c in cases:
                by.setdefault((c["producer"], c["channel"]), {})[c["mode"]] = c
            for (p, ch), pair in by.items():
                close(pair["structural"], pair["output"], f"mobilenet {p} c={ch}")
        write(key, {"model": model_path, "inputs": input_path,
                    "baseTop1": [int(v) for v in base.argmax(axis=-1)], "cases": cases})
        summary.append(f"{key}: {kl_range(cases)}")

    # tiny_resnet: single channels of every producer, residual-stream groups, prune sweeps.
    model_path, input_path = "models/tiny_resnet.onnx", "models/tiny_resnet.input.npy"
    model = load(FIXTURES / model_path)
    view = GraphView(model)
    x = np.load(FIXTURES / input_path)
    base = run(model, x)
    tails["tiny_resnet"] = []
    plan = [(n.name, 2) for n, _ in view.producers()]
    cases = single_channel_cases(model, view, x, base, plan, 7, both, tails["tiny_resnet"])
    groups = stream_groups(model, view, x, base, ["/layer1/Add", "/layer2/Add"], 11, 3)
    sweeps = prune_sweeps(model, view, x, base,
                          ["/layer1/conv1/conv1.0/Conv", "/layer2/conv2/conv2.0/Conv"],
                          [0.25, 0.5, 0.75])
    write("tiny_resnet", {"model": model_path, "inputs": input_path,
                          "baseTop1": [int(v) for v in base.argmax(axis=-1)],
                          "cases": cases, "groups": groups, "sweeps": sweeps})
    summary.append(f"tiny_resnet: {kl_range(cases)}; {len(groups)} groups, kl "
                   f"{min(g['viaProducers']['kl'] for g in groups):.3e}.."
                   f"{max(g['viaProducers']['kl'] for g in groups):.3e}; {len(sweeps)} sweep "
                   f"points, weights kl {min(s['weights']['kl'] for s in sweeps):.3e}.."
                   f"{max(s['weights']['kl'] for s in sweeps):.3e}")

    # Synthetic tail-rule model: written next to its references.
    model = build_tail_rules_model()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tail_rules.onnx").write_bytes(model.SerializeToString())
    x = np.random.default_rng(5).normal(0.0, 1.0, (4, 3, 8, 8)).astype(np.float32)
    np.save(OUT / "tail_rules.input.npy", x)
    view = GraphView(model)
    base = run(model, x)
    tails["tail_rules"] = []
    plan = [(n.name, 3) for n, _ in view.producers()]
    cases = single_channel_cases(model, view, x, base, plan, 3, both, tails["tail_rules"])
    for name, end, _ in tails["tail_rules"]:
        if TAIL_RULES_EXPECTED[name] != end:
            raise AssertionError(f"tail_rules {name}: tail end {end}")
    write("tail_rules", {"model": "ablation/tail_rules.onnx",
                         "inputs": "ablation/tail_rules.input.npy",
                         "baseTop1": [int(v) for v in base.argmax(axis=-1)], "cases": cases})
    summary.append(f"tail_rules: {kl_range(cases)}")

    for key, log in tails.items():
        print(f"[{key}] tail ends")
        for name, end, walked in log:
            print(f"  {name} -> {end}  via {[view_name.split('/')[-1] for view_name in walked]}")
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
