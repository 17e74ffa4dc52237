#!/usr/bin/env python3
"""PyTorch reference gradients for WeakSpot's Gradients module.

Usage: python3 Fixtures/scripts/make_gradient_fixtures.py [MODEL_KEY ...]

For Fixtures/models/resnet18_bn.onnx (BatchNormalization kept), Fixtures/models/mobilenet_v2.onnx
(BatchNormalization folded into the convolutions by the exporter),
Fixtures/demo/efficientnet_lite0.onnx (BatchNormalization kept), and the trained
Fixtures/models/mobilenet_v2_trained.onnx and resnet18_trained.onnx (make_distilled_models.py,
BatchNormalization kept, loaded by state-dict name like resnet18_bn):

1. the torch model is rebuilt with every weight read back from the ONNX initializers
   (resnet18_bn and EfficientNet-Lite0 through make_torch_pruning_fixtures, which asserts full
   coverage and forward agreement; mobilenet_v2 here: torchvision's architecture with each
   BatchNorm2d replaced by the identity and each Conv2d given a bias, loaded from the ONNX Conv
   nodes in order), in eval mode;
2. on the first BATCH committed inputs of the model, with fixed integer labels, the mean softmax
   cross-entropy is back-propagated in float32 (the reference) and in float64; PyTorch's own
   float32 error against float64 is recorded per tensor (`torchFloat32Error`, max |diff| / max |ref|):
   on mobilenet_v2 a few ReLU6 inputs lie within float32 rounding of 0 or 6, so float32 flips
   their masks and no float32 implementation can match the exact gradient to 1e-3 there;
   `resnet18_bn_train.json` repeats resnet18_bn with the model in training mode (BatchNorm with
   batch statistics);
3. written to Fixtures/gradients/<model>.json: the loss; for the input gradient a central crop
   (CROP x CROP of every sample and channel) in full plus per-(sample, channel) sum, L1 and L2
   norm of the whole plane; for EVERY parameter (keyed by its ONNX initializer name) the sum,
   L1 and L2 norm and max |g| (and the float64 sum and norms); the full gradient of a few
   parameters (FULL_PARAMETERS) in float32 and float64; the float64 input crop.

Also Fixtures/gradients/losses.json: PyTorch's cross-entropy and distillation loss
(T^2 * kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean')) with their logit gradients
on small seeded logits.

Floats as decimal with 9 significant digits (float32 round-trip). Deterministic; CI never runs this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402
import make_torch_pruning_fixtures as tpf  # noqa: E402

OUT = fc.FIXTURES / "gradients"
BATCH = 2
LABELS = [3, 417]
CROP = 32
MAX_FILE_BYTES = 1_500_000


def r9(values) -> list:
    return [float(f"{float(v):.9g}") for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def mobilenet_v2():
    path = fc.FIXTURES / "models" / "mobilenet_v2.onnx"
    proto = onnx.load(str(path))
    inits = tpf.onnx_initializers(proto)
    model = torchvision.models.mobilenet_v2(weights=None)
    convs = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, child_name, nn.Identity())
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            module.bias = nn.Parameter(torch.zeros(module.out_channels))
            convs.append((name, module))
    nodes = [n for n in proto.graph.node if n.op_type == "Conv"]
    assert len(nodes) == len(convs), (len(nodes), len(convs))
    names = {}
    used = set()
    for node, (name, module) in zip(nodes, convs):
        w, b = inits[node.input[1]], inits[node.input[2]]
        assert tuple(w.shape) == tuple(module.weight.shape), (node.name, w.shape, module.weight.shape)
        module.weight.data = torch.from_numpy(w.copy())
        module.bias.data = torch.from_numpy(b.copy())
        names[f"{name}.weight"], names[f"{name}.bias"] = node.input[1], node.input[2]
        used.update(node.input[1:3])
    gemm = next(n for n in proto.graph.node if n.op_type == "Gemm")
    model.classifier[1].weight.data = torch.from_numpy(inits[gemm.input[1]].copy())
    model.classifier[1].bias.data = torch.from_numpy(inits[gemm.input[2]].copy())
    names["classifier.1.weight"], names["classifier.1.bias"] = gemm.input[1], gemm.input[2]
    used.update(gemm.input[1:3])
    assert used == set(inits), sorted(set(inits) - used)
    model.eval()
    forward = tpf.forward_check(model, fc.FIXTURES / "models" / "mobilenet_v2.input.npy",
                                fc.FIXTURES / "models" / "mobilenet_v2.logits.npy")
    return model, names, "models/mobilenet_v2.input.npy", forward


def trained(arch: str):
    """A model of make_distilled_models.py (BatchNormalization kept), by state-dict name."""
    model, _, _, report = tpf.trained(arch)
    return model, with_state_names(model), f"models/{arch}_trained.input.npy", report["forwardMaxAbsDiff"]


def with_state_names(model: nn.Module) -> dict:
    return {n: n for n, _ in model.named_parameters()}


def resnet18_bn():
    model, _, _, report = tpf.resnet18_bn(False)
    return model, with_state_names(model), "models/resnet18_bn.input.npy", report["forwardMaxAbsDiff"]


def efficientnet_lite0():
    model, _, _, report = tpf.efficientnet_lite0(False)
    return model, with_state_names(model), "demo/images.input.npy", report["forwardMaxAbsDiff"]


FULL_PARAMETERS = {
    "resnet18_bn": ["conv1.weight", "bn1.weight", "bn1.bias", "layer2.0.downsample.0.weight",
                    "layer4.1.bn2.weight", "layer4.1.bn2.bias", "fc.bias"],
    "mobilenet_v2": ["features.0.0.weight", "features.0.0.bias", "features.2.conv.1.0.weight",
                     "features.2.conv.1.0.bias", "features.3.conv.2.weight", "features.16.conv.1.0.weight", "classifier.1.bias"],
    "resnet18_trained": ["conv1.weight", "bn1.weight", "bn1.bias", "layer2.0.downsample.0.weight",
                         "layer4.1.bn2.weight", "layer4.1.bn2.bias", "fc.bias"],
    "mobilenet_v2_trained": ["features.0.0.weight", "features.0.1.weight", "features.0.1.bias", "features.2.conv.1.0.weight",
                             "features.3.conv.2.weight", "features.16.conv.1.0.weight", "features.18.1.weight",
                             "classifier.1.bias"],
    "efficientnet_lite0": ["_conv_stem.weight", "_bn0.weight", "_bn0.bias", "_blocks.1._depthwise_conv.weight",
                           "_blocks.2._project_conv.weight", "_blocks.15._depthwise_conv.weight", "_bn1.weight", "_fc.bias"],
}


def backward(model: nn.Module, x: np.ndarray, dtype) -> tuple:
    model.to(dtype)
    model.zero_grad()
    xt = torch.from_numpy(x.copy()).to(dtype).requires_grad_(True)
    logits = model(xt)
    loss = F.cross_entropy(logits, torch.tensor(LABELS[:BATCH]))
    loss.backward()
    params = {n: p.grad.double().numpy().copy() for n, p in model.named_parameters()}
    return float(loss.detach()), logits.detach().double().numpy(), xt.grad.double().numpy(), params


def peak_error(a: np.ndarray, b: np.ndarray) -> float:
    peak = float(np.abs(b).max())
    return float(np.abs(a - b).max()) / peak if peak > 0 else float(np.abs(a - b).max())


def statistics(g: np.ndarray) -> dict:
    return {"sum": r9([g.sum()])[0], "l1": r9([np.abs(g).sum()])[0], "l2": r9([np.sqrt((g * g).sum())])[0]}


def gradients(key: str, build, train: bool = False) -> dict:
    fc.seed_everything(0)
    model, names, inputs, forward_diff = build()
    # Training mode: BatchNorm normalises with the batch statistics (ResNet has no dropout).
    model.train(train)
    x = np.load(fc.FIXTURES / inputs)[:BATCH]
    loss, logits, gx, params = backward(model, x, torch.float32)
    loss64, _, gx64, params64 = backward(model, x, torch.float64)
    n, c, h, w = gx.shape
    top, left = (h - CROP) // 2, (w - CROP) // 2
    planes = gx.reshape(n * c, -1)
    parameters = {}
    full, full64 = {}, {}
    for name, g in params.items():
        onnx_name = names[name]
        parameters[onnx_name] = {"module": name, "shape": list(g.shape), **statistics(g),
                                 "maxAbs": r9([np.abs(g).max()])[0],
                                 "float64": statistics(params64[name]),
                                 "torchFloat32Error": peak_error(g, params64[name])}
        if name in FULL_PARAMETERS[key.removesuffix("_train")]:
            full[onnx_name] = r9(g)
            full64[onnx_name] = r9(params64[name])
    crop = (slice(None), slice(None), slice(top, top + CROP), slice(left, left + CROP))
    return {
        "model": key,
        "batchNorm": "training (batch statistics)" if train else "eval (running statistics)",
        "torchVersion": torch.__version__.split("+")[0],
        "reference": "float32 CPU; float64 entries: the same computation with model and input cast to double; "
                     "torchFloat32Error = max|float32 - float64| / max|float64| over the whole tensor",
        "inputs": inputs, "batch": BATCH, "labels": LABELS[:BATCH],
        "loss": loss, "lossFloat64": loss64,
        "logits": r9(logits),
        "forwardMaxAbsDiffVsCommittedLogits": forward_diff,
        "input": {"shape": [n, c, h, w], "crop": {"top": top, "left": left, "size": CROP},
                  "cropGradient": r9(gx[crop]), "cropGradientFloat64": r9(gx64[crop]),
                  "planeSum": r9(planes.sum(axis=1)), "planeL1": r9(np.abs(planes).sum(axis=1)),
                  "planeL2": r9(np.sqrt((planes * planes).sum(axis=1))),
                  "torchFloat32Error": peak_error(gx, gx64)},
        "parameters": parameters,
        "fullGradients": full,
        "fullGradientsFloat64": full64,
    }


def losses() -> dict:
    g = torch.Generator().manual_seed(5)
    student = (torch.randn(3, 7, generator=g) * 2).requires_grad_(True)
    teacher = torch.randn(3, 7, generator=g) * 2
    labels = torch.tensor([0, 6, 2])
    ce = F.cross_entropy(student, labels)
    (ce_grad,) = torch.autograd.grad(ce, student)
    temperature = 2.0
    kd = F.kl_div(F.log_softmax(student / temperature, dim=1), F.softmax(teacher / temperature, dim=1),
                  reduction="batchmean") * temperature ** 2
    (kd_grad,) = torch.autograd.grad(kd, student)
    return {"student": r9(student.detach()), "teacher": r9(teacher), "shape": [3, 7], "labels": labels.tolist(),
            "temperature": temperature,
            "crossEntropy": {"loss": float(ce.detach()), "gradient": r9(ce_grad)},
            "distillation": {"loss": float(kd.detach()), "gradient": r9(kd_grad)}}


def main(argv: list[str]) -> None:
    """With model keys as arguments, only those fixtures are rewritten."""
    OUT.mkdir(parents=True, exist_ok=True)
    if not argv:
        (OUT / "losses.json").write_text(json.dumps(losses(), separators=(",", ":")) + "\n")
    for key, build, train in (("resnet18_bn", resnet18_bn, False), ("mobilenet_v2", mobilenet_v2, False),
                              ("efficientnet_lite0", efficientnet_lite0, False), ("resnet18_bn_train", resnet18_bn, True),
                              ("mobilenet_v2_trained", lambda: trained("mobilenet_v2"), False),
                              ("resnet18_trained", lambda: trained("resnet18"), False)):
        if argv and key not in argv:
            continue
        data = gradients(key, build, train)
        path = OUT / f"{key}.json"
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        size = path.stat().st_size
        assert size <= MAX_FILE_BYTES, (path, size)
        worst32 = max([data["input"]["torchFloat32Error"]] + [p["torchFloat32Error"] for p in data["parameters"].values()])
        print(f"{key}: torch float32 vs float64 worst {worst32:.2e}; loss {data['loss']:.6f}, forward diff {data['forwardMaxAbsDiffVsCommittedLogits']:.2e}, "
              f"{len(data['parameters'])} parameters, {len(data['fullGradients'])} in full; "
              f"wrote {fc.relative(path)} ({size:,} bytes)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
