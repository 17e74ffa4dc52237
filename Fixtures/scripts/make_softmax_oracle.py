"""Models with the inputs and outputs people bring, and an ablation oracle on probabilities.

Writes Fixtures/io/ (no WeakSpot code involved; ONNX Runtime computes every reference):

* softmax_cnn.onnx — a small Keras-style classifier whose graph ends in Softmax (torch export,
  opset 17, BatchNormalization folded): Conv 3→8 + BN + ReLU, Conv 8→12 stride 2 + ReLU,
  global average pool, Flatten, Linear 12→6, Softmax. Trained (Adam, 150 steps, seeded) to tell
  which of six scikit-image photographs a random crop comes from, with label smoothing 0.3 so
  that its probabilities are neither one-hot nor uniform. Inputs: softmax_cnn.input.npy, centre crops (16×16) of eight
  photographs, ImageNet mean/std.
* softmax_cnn.oracle.json — for every output channel of each Conv and the Linear (26 channels),
  the exact structural ablation by graph edit (make_ablation_fixtures.with_masks: the channel
  multiplied by 0 at its per-channel tail end), run in ORT, and the metrics on the
  **probabilities** the model outputs, per input and averaged (p, q = the output rows divided
  by their float64 sums, which only removes the float32 rounding of the Softmax's total mass):
    kl   = max(0, Σ_k p_k (log max(p_k, f) − log max(q_k, f))), f = float32's smallest normal
           (1.1754944e-38; the documented clamp, so q = 0 never gives inf or NaN),
    mse  = mean over classes of (p − q)² on the output values as they are,
    top1 = 1 when argmax q ≠ argmax p (numpy's first maximum).
  Beside each case, `klIfReadAsLogits`: the KL a profiler that took a log-softmax of the
  probabilities again would report (the bug this oracle guards against).
* softmax_flatten.onnx (opset 13, onnx.helper) — a 1×1-conv head giving (N,5,1,1), Softmax over
  axis 1, then Flatten: a Softmax followed by a reshape. Outputs in .output.npy.
* logsoftmax_cnn.onnx (opset 13, onnx.helper) — Gemm head then LogSoftmax (log-probabilities).
* two_inputs.onnx — image input `image` (N,3,8,8) and a second input `bias` (1,4,1,1) added
  after the first Conv; two_inputs.bias.npy is the value to feed, .logits.npy ORT's output.
* two_outputs.onnx — outputs `features` (pooled, (N,4)) then `logits` (N,3); ORT's outputs in
  .features.npy and .logits.npy.
* symbolic_hw.onnx — input `image` shaped (batch, 3, height, width) with symbolic height and
  width; symbolic_hw.input.npy is (2,3,12,12), .logits.npy ORT's output for it.

Usage: python3 Fixtures/scripts/make_softmax_oracle.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_common import (COLOUR_SAMPLES, GREY_SAMPLES, export, preprocess,  # noqa: E402
                            sample_image, save_npy, seed_everything)
from make_ablation_fixtures import GraphView, run, with_masks  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent
OUT = FIXTURES / "io"
FLOOR = float(np.finfo(np.float32).tiny)


class SoftmaxCNN(nn.Module):
    def __init__(self, classes: int = 6):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 12, 3, stride=2, padding=1)
        self.fc = nn.Linear(12, classes)

    def logits(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def training_crops(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` random resized crops (16×16) of the first six colour photographs, labelled by
    the photograph they come from."""
    from torchvision import transforms

    torch.manual_seed(seed)
    augment = transforms.Compose([
        transforms.RandomResizedCrop(16, scale=(0.3, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    photos = [sample_image(n) for n in COLOUR_SAMPLES[:6]]
    labels = torch.arange(count) % len(photos)
    return torch.stack([augment(photos[int(i)]) for i in labels]), labels


def make_softmax_cnn() -> dict:
    seed_everything(0)
    model = SoftmaxCNN()
    x, y = training_crops(384, seed=3)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for step in range(150):
        batch = torch.arange(step * 32, step * 32 + 32) % len(x)
        loss = nn.functional.cross_entropy(model.logits(x[batch]), y[batch], label_smoothing=0.3)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    path = OUT / "softmax_cnn.onnx"
    inputs = preprocess([sample_image(n) for n in COLOUR_SAMPLES[:6] + GREY_SAMPLES[:2]], resize=18, crop=16)
    export(model, torch.from_numpy(inputs[:1]), path, keep_batchnorm=False, output_name="probabilities")
    save_npy(OUT / "softmax_cnn.input.npy", inputs)
    onnx_model = onnx.load(str(path))
    if onnx_model.graph.node[-1].op_type != "Softmax":
        raise AssertionError("the export must end in Softmax")
    base = run(onnx_model, inputs)
    with torch.no_grad():
        torch_probabilities = model(torch.from_numpy(inputs)).numpy()
    if np.abs(base - torch_probabilities).max() > 1e-5:
        raise AssertionError("ORT and PyTorch disagree")
    peak = base.max(axis=1)
    if not (0.3 < peak.min() and peak.max() < 0.9999 and len(set(base.argmax(axis=1))) >= 3):
        raise AssertionError(f"degenerate probabilities: peaks {peak}, classes {set(base.argmax(axis=1))}")
    save_npy(OUT / "softmax_cnn.output.npy", base)
    return oracle(onnx_model, inputs, base, float(loss.detach()))


def metrics_on_probabilities(p: np.ndarray, q: np.ndarray) -> dict:
    p = p.astype(np.float64)
    q = q.astype(np.float64)
    mse = ((p - q) ** 2).mean(axis=1)
    # float32 Softmax rows sum to 1 only up to rounding; the distributions are the rows divided by
    # their sums (in float64), so rounding of the total mass does not enter the KL.
    p = p / p.sum(axis=1, keepdims=True)
    q = q / q.sum(axis=1, keepdims=True)
    kl = np.maximum(0.0, (p * (np.log(np.maximum(p, FLOOR)) - np.log(np.maximum(q, FLOOR)))).sum(axis=1))
    top1 = (p.argmax(axis=1) != q.argmax(axis=1)).astype(np.float64)
    return {"kl": float(kl.mean()), "mse": float(mse.mean()), "top1": float(top1.mean()),
            "perInput": {"kl": [float(v) for v in kl], "mse": [float(v) for v in mse],
                         "top1": [float(v) for v in top1]}}


def kl_read_as_logits(p: np.ndarray, q: np.ndarray) -> float:
    """The wrong reading: a log-softmax of probabilities taken as if they were logits."""
    def log_softmax(z):
        z = z.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    lp, lq = log_softmax(p), log_softmax(q)
    return float((np.exp(lp) * (lp - lq)).sum(axis=1).mean())


def oracle(model: onnx.ModelProto, inputs: np.ndarray, base: np.ndarray, final_loss: float) -> dict:
    view = GraphView(model)
    cases = []
    for node, channels in view.producers():
        end, walked = view.tail(node.output[0], channels)
        for c in range(channels):
            pert = run(with_masks(model, view, [(end, channels, [c])]), inputs)
            cases.append({"producer": node.name, "tailEnd": end, "channel": c,
                          **metrics_on_probabilities(base, pert),
                          "klIfReadAsLogits": kl_read_as_logits(base, pert)})
    ratios = [c["kl"] / c["klIfReadAsLogits"] for c in cases if c["klIfReadAsLogits"] > 0]
    document = {"model": "io/softmax_cnn.onnx", "inputs": "io/softmax_cnn.input.npy",
                "probabilityFloor": FLOOR, "baseTop1": [int(v) for v in base.argmax(axis=1)],
                "trainingLoss": round(final_loss, 4), "cases": cases}
    print(f"softmax_cnn: {len(cases)} channels, kl {min(c['kl'] for c in cases):.3e}.."
          f"{max(c['kl'] for c in cases):.3e}; read as logits the KL is {np.median(ratios):.1f}× smaller "
          f"(median), peaks {base.max(axis=1).min():.3f}..{base.max(axis=1).max():.3f}")
    return document


def save_model(model: onnx.ModelProto, name: str) -> Path:
    onnx.checker.check_model(model, full_check=True)
    path = OUT / name
    onnx.save_model(model, str(path))
    return path


def weight(rng: np.random.Generator, name: str, shape, scale: float = 0.5) -> onnx.TensorProto:
    return numpy_helper.from_array(rng.normal(0.0, scale, shape).astype(np.float32), name)


def image_input(name: str = "image", dims=("N", 3, 8, 8)) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def make_softmax_flatten(rng: np.random.Generator) -> None:
    nodes = [helper.make_node("Conv", ["image", "w", "b"], ["conv"], name="head"),
             helper.make_node("GlobalAveragePool", ["conv"], ["pooled"], name="pool"),
             helper.make_node("Softmax", ["pooled"], ["soft"], name="softmax", axis=1),
             helper.make_node("Flatten", ["soft"], ["probabilities"], name="flatten", axis=1)]
    graph = helper.make_graph(nodes, "softmax_flatten", [image_input()],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 5])],
                              [weight(rng, "w", (5, 3, 1, 1), 2.0), weight(rng, "b", (5,))])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "softmax_flatten.onnx")
    x = rng.normal(0.0, 1.0, (3, 3, 8, 8)).astype(np.float32)
    save_npy(OUT / "softmax_flatten.input.npy", x)
    save_npy(OUT / "softmax_flatten.output.npy", run(onnx.load(str(path)), x))


def make_logsoftmax(rng: np.random.Generator) -> None:
    nodes = [helper.make_node("Conv", ["image", "w"], ["conv"], name="conv"),
             helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
             helper.make_node("GlobalAveragePool", ["relu"], ["pooled"], name="pool"),
             helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
             helper.make_node("Gemm", ["flat", "fw", "fb"], ["scores"], name="fc", transB=1),
             helper.make_node("LogSoftmax", ["scores"], ["log_probabilities"], name="logsoftmax", axis=1)]
    graph = helper.make_graph(nodes, "logsoftmax_cnn", [image_input()],
                              [helper.make_tensor_value_info("log_probabilities", TensorProto.FLOAT, ["N", 4])],
                              [weight(rng, "w", (6, 3, 3, 3)), weight(rng, "fw", (4, 6), 2.0), weight(rng, "fb", (4,))])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "logsoftmax_cnn.onnx")
    x = rng.normal(0.0, 1.0, (3, 3, 8, 8)).astype(np.float32)
    save_npy(OUT / "logsoftmax_cnn.input.npy", x)
    save_npy(OUT / "logsoftmax_cnn.output.npy", run(onnx.load(str(path)), x))


def classifier_tail(source: str, channels: int, classes: int, rng: np.random.Generator, prefix: str = ""):
    """Relu, global pool, Flatten and Gemm after `source`: nodes, initializers, logits name."""
    nodes = [helper.make_node("Relu", [source], [prefix + "relu"], name=prefix + "relu"),
             helper.make_node("GlobalAveragePool", [prefix + "relu"], [prefix + "pooled"], name=prefix + "pool"),
             helper.make_node("Flatten", [prefix + "pooled"], ["features"], name=prefix + "flatten", axis=1),
             helper.make_node("Gemm", ["features", "fw", "fb"], ["logits"], name="fc", transB=1)]
    return nodes, [weight(rng, "fw", (classes, channels)), weight(rng, "fb", (classes,))]


def make_two_inputs(rng: np.random.Generator) -> None:
    tail, weights = classifier_tail("shifted", 4, 3, rng)
    nodes = [helper.make_node("Conv", ["image", "w"], ["conv"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["conv", "bias"], ["shifted"], name="add_bias")] + tail
    graph = helper.make_graph(nodes, "two_inputs",
                              [image_input(), helper.make_tensor_value_info("bias", TensorProto.FLOAT, [1, 4, 1, 1])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
                              [weight(rng, "w", (4, 3, 3, 3))] + weights)
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "two_inputs.onnx")
    x = rng.normal(0.0, 1.0, (3, 3, 8, 8)).astype(np.float32)
    bias = rng.normal(0.0, 1.0, (1, 4, 1, 1)).astype(np.float32)
    save_npy(OUT / "two_inputs.input.npy", x)
    save_npy(OUT / "two_inputs.bias.npy", bias)
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    save_npy(OUT / "two_inputs.logits.npy", session.run(None, {"image": x, "bias": bias})[0])


def make_two_outputs(rng: np.random.Generator) -> None:
    tail, weights = classifier_tail("conv", 4, 3, rng)
    nodes = [helper.make_node("Conv", ["image", "w"], ["conv"], name="conv", pads=[1, 1, 1, 1])] + tail
    graph = helper.make_graph(nodes, "two_outputs", [image_input()],
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 4]),
                               helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
                              [weight(rng, "w", (4, 3, 3, 3))] + weights)
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "two_outputs.onnx")
    x = rng.normal(0.0, 1.0, (3, 3, 8, 8)).astype(np.float32)
    save_npy(OUT / "two_outputs.input.npy", x)
    import onnxruntime as ort
    features, logits = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    save_npy(OUT / "two_outputs.features.npy", features)
    save_npy(OUT / "two_outputs.logits.npy", logits)


def make_symbolic_hw(rng: np.random.Generator) -> None:
    tail, weights = classifier_tail("conv", 4, 3, rng)
    nodes = [helper.make_node("Conv", ["image", "w"], ["conv"], name="conv", pads=[1, 1, 1, 1])] + tail
    graph = helper.make_graph(nodes, "symbolic_hw", [image_input(dims=("batch", 3, "height", "width"))],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
                              [weight(rng, "w", (4, 3, 3, 3))] + weights)
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "symbolic_hw.onnx")
    x = rng.normal(0.0, 1.0, (2, 3, 12, 12)).astype(np.float32)
    save_npy(OUT / "symbolic_hw.input.npy", x)
    save_npy(OUT / "symbolic_hw.logits.npy", run(onnx.load(str(path)), x))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    document = make_softmax_cnn()
    (OUT / "softmax_cnn.oracle.json").write_text(json.dumps(document, indent=1) + "\n")
    rng = np.random.default_rng(15)
    make_softmax_flatten(rng)
    make_logsoftmax(rng)
    make_two_inputs(rng)
    make_two_outputs(rng)
    make_symbolic_hw(rng)


if __name__ == "__main__":
    main()
