"""Small whole-model fixtures with the architectures of classic CNNs and the quirks of other
exporters (issue 15): Fixtures/classic/<name>.onnx, <name>.input.npy (4 scikit-image photographs),
<name>.output.npy (ONNX Runtime's output) and Fixtures/classic/manifest.json.

Each network keeps its architecture's distinctive operators and topology at reduced width and
input size (every file well under 2 MB, a profile in seconds):

  alexnet, zfnet        LRN, large-stride first conv, Dropout nodes, Gemm classifier (opset 9)
  vgg19                 16 convs + 3 Gemm (opset 9)
  googlenet             LRN, inception Concat, MaxPool ceil_mode (opset 9)
  inception_v2          BatchNormalization kept, avg-pool branches, double 3x3 (opset 9)
  resnet50_caffe2       bottlenecks joined by variadic Sum, BatchNormalization-7 `spatial`
                        (opset 8, rewritten from a torch export with onnx APIs)
  shufflenet_v1         grouped 1x1 convs, channel shuffle Reshape→Transpose→Reshape, depthwise,
                        Sum for the residual (opset 9)
  squeezenet1_0         fire modules, graph ends in Softmax(axis=1) over N×10×1×1 (opset 9
                        legacy 2-D coercion: an ordinary softmax over the classes)
  densenet121_opset9    dense Concat growth, BatchNormalization before Conv (not foldable)
  mtcnn_prelu           per-channel PRelu after every Conv and the first Gemm (opset 9)
  resnet_nhwc_tf2onnx   NHWC input, one Transpose, BN folded into the Convs (opset 13)
  resnet_nhwc_torch     the SAME function exported by PyTorch from an NHWC module: a Transpose
                        on each side of every Conv, BatchNormalization decomposed into
                        Sub/Div/Mul/Add by (C) constants on the NHWC tensor, residual Adds and
                        ReduceMean in NHWC (opset 13)
  keras_softmax         NHWC input, Dense as MatMul + Add, graph ends in Softmax (opset 13)
  paddle_constants      every weight in a Constant node (an 8×8×1×1 Conv weight among them)

Weights follow Fixtures/README.md "Random weights made useful" (fixture_common.py): Kaiming-normal
convolutions, distinct BatchNorm affines, BatchNorm statistics recalibrated on augmented crops of
the photographs, classifier centred and scaled to logit std 3. Networks without BatchNorm get
per-layer rescaling on the calibration crops instead (each conv's output scaled to unit RMS), so
activations neither vanish nor explode through LRN.

Manifest fields per model: name, model, input, output (paths relative to Fixtures/), layout
(NCHW|NHWC), inputShape, opset, outputKind (logits|probs), params (float weights the graph
holds: every float initializer or Constant-node tensor read by a node, BatchNormalization running
mean/variance excluded, each tensor once), torchParams (torch's parameter count where every
parameter survives export unchanged, else null), ops (op_type counts), ortMaxAbs (max |output|),
and `needs`: the operators/features, beyond an NCHW Conv/Gemm network at opset 13, the model
exercises.

Seeded and re-runnable: a second run reproduces every file byte for byte.
    python3 Fixtures/scripts/make_classic_models.py [name ...]
"""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper

import fixture_common as fc

OUT = fc.FIXTURES / "classic"
PHOTOS = ["chelsea", "coffee", "astronaut", "rocket"]
CLASSES = 10


# ---------------------------------------------------------------- weights

@torch.no_grad()
def kaiming(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.normal_(m.bias, std=0.05)
        elif isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.05)


@torch.no_grad()
def normalise_convs(model: nn.Module, batch: torch.Tensor) -> None:
    """For networks without BatchNorm: scales each conv (in forward order) so its output has unit
    RMS on the calibration batch, which keeps LRN in its non-trivial range."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    for conv in convs:
        seen = []
        hook = conv.register_forward_hook(lambda _m, _i, out: seen.append(out))
        model(batch)
        hook.remove()
        rms = float(seen[0].pow(2).mean().sqrt())
        conv.weight.div_(max(rms, 1e-6))
        if conv.bias is not None:
            conv.bias.div_(max(rms, 1e-6))


def make_useful(model: nn.Module, classifier: nn.Module, size: int, has_bn: bool) -> float:
    kaiming(model)
    batch = fc.calibration_batch(count=64, size=size)
    if has_bn:
        fc.randomize_batchnorm_affine(model)
        fc.calibrate_batchnorm(model, batch)
    else:
        model.eval()
        normalise_convs(model, batch)
    model.eval()
    return fc.rescale_classifier(model, classifier, batch)


def photo_batch(size: int) -> np.ndarray:
    images = [fc.sample_image(n) for n in PHOTOS]
    return fc.preprocess(images, resize=size * 8 // 7, crop=size)


# ---------------------------------------------------------------- counting and saving

def constant_tensors(model: onnx.ModelProto) -> dict:
    found = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    found[node.output[0]] = numpy_helper.to_array(a.t)
    return found


def onnx_params(model: onnx.ModelProto) -> int:
    """Float weights read by nodes, each tensor once, BatchNormalization mean/variance excluded."""
    constants = constant_tensors(model)
    counted, total = set(), 0
    for node in model.graph.node:
        for position, name in enumerate(node.input):
            if name not in constants or name in counted or constants[name].dtype.kind != "f":
                continue
            if node.op_type == "BatchNormalization" and position >= 3:
                continue
            counted.add(name)
            total += int(constants[name].size)
    return total


def save(name: str, model: onnx.ModelProto, x: np.ndarray, layout: str, needs: list[str],
         torch_params: int | None, output_kind: str = "logits", reference: np.ndarray | None = None) -> dict:
    onnx.checker.check_model(model, full_check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.onnx"
    onnx.save_model(model, str(path))
    feeds = {model.graph.input[0].name: x}
    y = fc.run_ort(path, feeds)[0]
    if reference is not None:
        error = float(np.abs(y - reference).max())
        assert error <= 1e-4 * max(1.0, float(np.abs(reference).max())), f"{name}: ORT vs torch {error}"
    fc.save_npy(OUT / f"{name}.input.npy", x)
    fc.save_npy(OUT / f"{name}.output.npy", y)
    size = path.stat().st_size
    assert size <= 2_000_000, f"{name}: {size} bytes"
    distinct = len(set(np.argmax(y.reshape(y.shape[0], -1), axis=1).tolist()))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    entry = {
        "name": name, "model": fc.relative(path), "input": fc.relative(OUT / f"{name}.input.npy"),
        "output": fc.relative(OUT / f"{name}.output.npy"), "layout": layout, "inputShape": list(x.shape),
        "opset": opset, "outputKind": output_kind, "params": onnx_params(model), "torchParams": torch_params,
        "ops": fc.op_counts(model), "ortMaxAbs": round(float(np.abs(y).max()), 6), "distinctTop1": distinct,
        "bytes": size, "needs": needs,
    }
    print(f"{name:22s} opset {opset:2d} {size/1e6:5.2f} MB params {entry['params']:>8,} "
          f"max|y| {entry['ortMaxAbs']:.3f} top1 classes {distinct}")
    return entry


def torch_export(model: nn.Module, x: np.ndarray, opset: int, keep_batchnorm: bool = False) -> onnx.ModelProto:
    path = OUT / "_export.onnx"
    fc.export(model, torch.from_numpy(x), path, keep_batchnorm=keep_batchnorm, opset=opset)
    loaded = onnx.load(str(path))
    path.unlink()
    loaded.producer_name = "WeakSpot make_classic_models.py (torch.onnx.export)"
    return loaded


def torch_reference(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def insert_before(model: onnx.ModelProto, op_type: str, target_op: str, **attrs) -> None:
    """Puts an `op_type` node on the first input of every `target_op` node."""
    nodes = []
    for node in model.graph.node:
        if node.op_type == target_op:
            out = f"{node.name or node.output[0]}/{op_type.lower()}_in"
            nodes.append(helper.make_node(op_type, [node.input[0]], [out], name=out, **attrs))
            node.input[0] = out
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def binary_adds_to_sum(model: onnx.ModelProto) -> int:
    """Rewrites every Add of two activations as a variadic Sum (what Caffe2 exported)."""
    constants = constant_tensors(model)
    count = 0
    for node in model.graph.node:
        if node.op_type == "Add" and not any(i in constants for i in node.input):
            node.op_type = "Sum"
            count += 1
    assert count > 0
    return count


def set_opset(model: onnx.ModelProto, version: int) -> None:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = version


# ---------------------------------------------------------------- architectures

class _LRNFunction(torch.autograd.Function):
    """Exports as ONNX LRN (torch's own export decomposes LocalResponseNorm into pooling)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRN(nn.LocalResponseNorm):
    """nn.LocalResponseNorm that exports as one LRN node. Its window (size//2 channels before,
    (size−1)//2 after, squares averaged: alpha/size) is ONNX LRN's for odd sizes."""

    def forward(self, x):
        return _LRNFunction.apply(x, self.size, self.alpha, self.beta, self.k)


class AlexNetSmall(nn.Module):
    """AlexNet's layout: 11×11/4 stem (7×7/2 for ZFNet), LRN after the first two convs, three
    3×3 convs, overlapping max pools, Dropout–Linear–ReLU ×2, Linear."""

    def __init__(self, stem_kernel: int, stem_stride: int, stem_pad: int, widths=(16, 24, 32, 32, 24), hidden=64):
        super().__init__()
        a, b, c, d, e = widths
        self.features = nn.Sequential(
            nn.Conv2d(3, a, stem_kernel, stem_stride, stem_pad), nn.ReLU(), LRN(5, 1e-4, 0.75, 2.0),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(a, b, 5, 1, 2), nn.ReLU(), LRN(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
            nn.Conv2d(b, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, d, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(d, e, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(nn.Dropout(), nn.LazyLinear(hidden), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, CLASSES))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def vgg19_small() -> nn.Sequential:
    layers, cin = [], 3
    for width, repeat in [(8, 2), (16, 2), (24, 4), (32, 4), (32, 4)]:
        for _ in range(repeat):
            layers += [nn.Conv2d(cin, width, 3, 1, 1), nn.ReLU()]
            cin = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Dropout(),
                         nn.Linear(64, 64), nn.ReLU(), nn.Dropout(), nn.Linear(64, CLASSES))


class Inception(nn.Module):
    """Four branches joined by Concat: 1×1; 1×1→3×3; 1×1→5×5 (v1) or 1×1→3×3→3×3 (v2);
    pool→1×1 (max pool in v1, average pool in v2)."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool, bn=False):
        super().__init__()

        def conv(i, o, k):
            if bn:
                return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU())
            return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU())

        self.b1 = conv(cin, c1, 1)
        self.b2 = nn.Sequential(conv(cin, c3r, 1), conv(c3r, c3, 3))
        self.b3 = nn.Sequential(conv(cin, c5r, 1), conv(c5r, c5, 3), conv(c5, c5, 3)) if bn else \
            nn.Sequential(conv(cin, c5r, 1), conv(c5r, c5, 5))
        self.b4 = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False) if bn else nn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                conv(cin, pool, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), LRN(5, 1e-4, 0.75, 1.0),
            nn.Conv2d(16, 16, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), LRN(5, 1e-4, 0.75, 1.0),
            nn.MaxPool2d(3, 2, ceil_mode=True))
        self.i3a = Inception(32, 8, 12, 16, 4, 8, 8)
        self.i3b = Inception(40, 16, 16, 24, 4, 12, 12)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.i4a = Inception(64, 24, 12, 28, 4, 8, 12)
        self.drop = nn.Dropout(0.4)
        self.fc = nn.Linear(72, CLASSES)

    def forward(self, x):
        x = self.i4a(self.pool(self.i3b(self.i3a(self.stem(x)))))
        return self.fc(self.drop(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))


class InceptionV2Small(nn.Module):
    def __init__(self):
        super().__init__()

        def cbr(i, o, k, s=1):
            return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU())

        self.stem = nn.Sequential(cbr(3, 16, 7, 2), nn.MaxPool2d(3, 2, 1), cbr(16, 16, 1), cbr(16, 32, 3), nn.MaxPool2d(3, 2, 1))
        self.i3a = Inception(32, 12, 12, 16, 12, 16, 8, bn=True)
        self.i3b = Inception(52, 16, 16, 24, 16, 24, 16, bn=True)
        self.fc = nn.Linear(80, CLASSES)

    def forward(self, x):
        x = self.i3b(self.i3a(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.body(x) + (x if self.down is None else self.down(x)))


class ResNet50Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 16
        for mid, count, stride in [(8, 2, 1), (16, 2, 2), (24, 2, 2), (32, 2, 2)]:
            for i in range(count):
                blocks.append(Bottleneck(cin, mid, stride if i == 0 else 1))
                cin = mid * 4
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


class ShuffleUnit(nn.Module):
    """ShuffleNet v1 unit: grouped 1×1, channel shuffle, depthwise 3×3, grouped 1×1; a residual
    add (stride 1) or a Concat with a 3×3 average pool of the input (stride 2)."""

    def __init__(self, cin, cout, groups, stride, size):
        super().__init__()
        self.stride, self.groups, self.size = stride, groups, size
        mid = cout // 4
        branch = cout - cin if stride == 2 else cout
        first_groups = 1 if cin == 24 else groups
        self.g1 = nn.Sequential(nn.Conv2d(cin, mid, 1, groups=first_groups, bias=False), nn.BatchNorm2d(mid), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid))
        self.g2 = nn.Sequential(nn.Conv2d(mid, branch, 1, groups=groups, bias=False), nn.BatchNorm2d(branch))
        self.mid = mid

    def forward(self, x):
        y = self.g1(x)
        h = w = self.size
        y = y.reshape(-1, self.groups, self.mid // self.groups, h, w).transpose(1, 2).reshape(-1, self.mid, h, w)
        y = self.g2(self.dw(y))
        if self.stride == 2:
            return F.relu(torch.cat([F.avg_pool2d(x, 3, 2, 1), y], 1))
        return F.relu(x + y)


class ShuffleNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.units = nn.Sequential(ShuffleUnit(24, 48, 2, 2, 16), ShuffleUnit(48, 48, 2, 1, 8),
                                   ShuffleUnit(48, 96, 2, 2, 8), ShuffleUnit(96, 96, 2, 1, 4))
        self.fc = nn.Linear(96, CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.units(self.stem(x)), 1), 1))


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x):
        s = self.squeeze(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


class SqueezeNet10Small(nn.Module):
    """SqueezeNet 1.0: 7×7/2 stem, fire modules, ceil-mode max pools, Dropout, a 1×1 conv
    classifier, global average pool; the Softmax is appended to the ONNX graph."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 24, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(24, 8, 16), Fire(32, 8, 16), Fire(32, 12, 24), nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(48, 12, 24), Fire(48, 16, 32), nn.MaxPool2d(3, 2, ceil_mode=True), Fire(64, 16, 32))
        self.classifier = nn.Sequential(nn.Dropout(), nn.Conv2d(64, CLASSES, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.classifier(self.features(x))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 2 * growth, 1, bias=False),
                                  nn.BatchNorm2d(2 * growth), nn.ReLU(), nn.Conv2d(2 * growth, growth, 3, 1, 1, bias=False))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


class DenseNetSmall(nn.Module):
    def __init__(self, growth=8, blocks=(3, 4, 3)):
        super().__init__()
        layers, c = [nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 16
        for i, count in enumerate(blocks):
            for _ in range(count):
                layers.append(DenseLayer(c, growth))
                c += growth
            if i + 1 < len(blocks):
                layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class MTCNNStyle(nn.Module):
    """MTCNN's O-Net layout: Conv–PRelu–MaxPool stacks, a Linear–PRelu hidden layer."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3), nn.PReLU(16), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(16, 32, 3), nn.PReLU(32), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(32, 32, 3), nn.PReLU(32), nn.MaxPool2d(2, 2, ceil_mode=True),
            nn.Conv2d(32, 64, 2), nn.PReLU(64))
        self.hidden = nn.Sequential(nn.Linear(64 * 3 * 3, 128), nn.PReLU(128))
        self.fc = nn.Linear(128, CLASSES)

    def forward(self, x):
        return self.fc(self.hidden(torch.flatten(self.features(x), 1)))


@torch.no_grad()
def randomize_prelu(model: nn.Module) -> None:
    g = torch.Generator().manual_seed(3)
    for m in model.modules():
        if isinstance(m, nn.PReLU):
            m.weight.copy_(0.05 + 0.4 * torch.rand(m.weight.shape, generator=g))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Conv2d(cin, cout, 1, stride, bias=False)
            self.down_bn = nn.BatchNorm2d(cout)


class ResNetNHWC(nn.Module):
    """A small ResNet whose forward takes NHWC input in one of two styles that compute the same
    function: `tf2onnx` (one Transpose to NCHW, nn.BatchNorm2d, folded by the exporter) or
    `torch` (each Conv wrapped in permutes, every BatchNorm written out on the NHWC tensor as
    (x − mean) / sqrt(var + eps) · γ + β, residual adds and the final mean in NHWC)."""

    def __init__(self):
        super().__init__()
        self.stem, self.stem_bn = nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16)
        self.blocks = nn.ModuleList([BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 32, 1)])
        self.fc = nn.Linear(32, CLASSES)
        self.style = "tf2onnx"

    def conv(self, conv, x):
        if self.style == "tf2onnx":
            return conv(x)
        return conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)

    def bn(self, bn, x):
        if self.style == "tf2onnx":
            return bn(x)
        if self.training:
            # Calibration runs in NCHW through the module itself (statistics are layout-free).
            return bn(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias

    def forward(self, x):
        if self.style == "tf2onnx":
            x = x.permute(0, 3, 1, 2)
        x = F.relu(self.bn(self.stem_bn, self.conv(self.stem, x)))
        for b in self.blocks:
            y = F.relu(self.bn(b.bn1, self.conv(b.conv1, x)))
            y = self.bn(b.bn2, self.conv(b.conv2, y))
            s = x if b.down is None else self.bn(b.down_bn, self.conv(b.down, x))
            x = F.relu(y + s)
        x = x.mean(dim=(2, 3)) if self.style == "tf2onnx" else x.mean(dim=(1, 2))
        return self.fc(x)


class DenseMatMul(nn.Linear):
    """A Linear written as x @ Wᵀ + b, which the exporter writes as MatMul + Add (what tf2onnx
    makes of a Keras Dense layer) rather than Gemm."""

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class KerasStyle(nn.Module):
    """What tf2onnx makes of a Keras CNN: NHWC input and one Transpose, Conv+bias (BN folded),
    global average pool, Dense as MatMul + Add, and a final Softmax."""

    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                                   nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU())
        self.dense = DenseMatMul(32, CLASSES)
        self.softmax = True

    def forward(self, x):
        x = self.convs(x.permute(0, 3, 1, 2)).mean(dim=(2, 3))
        x = self.dense(x)
        return torch.softmax(x, dim=-1) if self.softmax else x


class PaddleStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.ReLU(), nn.Conv2d(8, 8, 1), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.body(x), 1), 1))


def initializers_to_constants(model: onnx.ModelProto) -> int:
    """Moves every initializer into a Constant node at the head of the graph (Paddle's layout)."""
    constants = [helper.make_node("Constant", [], [t.name], name=f"const/{t.name}", value=t) for t in model.graph.initializer]
    nodes = constants + list(model.graph.node)
    del model.graph.initializer[:]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return len(constants)


# ---------------------------------------------------------------- builders

def build_alexnet(name, kernel, stride, pad, size):
    model = AlexNetSmall(kernel, stride, pad)
    x = photo_batch(size)
    model(torch.from_numpy(x))  # materialise the lazy Linear
    make_useful(model, model.classifier[-1], size, has_bn=False)
    onnx_model = torch_export(model, x, opset=9)
    insert_before(onnx_model, "Dropout", "Gemm", ratio=0.5)
    assert fc.op_counts(onnx_model).get("LRN") == 2
    return save(name, onnx_model, x, "NCHW", ["LRN", "Dropout"], n_params(model), reference=torch_reference(model, x))


def build_vgg19():
    model, size = vgg19_small(), 64
    x = photo_batch(size)
    make_useful(model, model[-1], size, has_bn=False)
    onnx_model = torch_export(model, x, opset=9)
    insert_before(onnx_model, "Dropout", "Gemm", ratio=0.5)
    return save("vgg19", onnx_model, x, "NCHW", ["opset 9", "Dropout"], n_params(model), reference=torch_reference(model, x))


def build_googlenet():
    model, size = GoogLeNetSmall(), 96
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=False)
    onnx_model = torch_export(model, x, opset=9)
    return save("googlenet", onnx_model, x, "NCHW", ["LRN", "MaxPool ceil_mode", "opset 9"], n_params(model),
                reference=torch_reference(model, x))


def build_inception_v2():
    model, size = InceptionV2Small(), 96
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=True)
    onnx_model = torch_export(model, x, opset=9, keep_batchnorm=True)
    fc_bn = fc.op_counts(onnx_model).get("BatchNormalization", 0)
    assert fc_bn > 0
    return save("inception_v2", onnx_model, x, "NCHW", ["BatchNormalization opset 9", "AveragePool"], n_params(model),
                reference=torch_reference(model, x))


def build_resnet50_caffe2():
    model, size = ResNet50Small(), 64
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=True)
    onnx_model = torch_export(model, x, opset=9, keep_batchnorm=True)
    binary_adds_to_sum(onnx_model)
    set_opset(onnx_model, 8)
    for node in onnx_model.graph.node:
        if node.op_type == "BatchNormalization":
            node.attribute.append(helper.make_attribute("spatial", 1))
    onnx_model.ir_version = 4  # ONNX 1.3 (opset 8); IR 3 would list initializers as graph inputs
    onnx_model.producer_name = "WeakSpot make_classic_models.py (Caffe2-style: Sum, BatchNormalization-7 spatial)"
    return save("resnet50_caffe2", onnx_model, x, "NCHW", ["Sum", "BatchNormalization spatial (opset 7)", "opset 8"],
                n_params(model), reference=torch_reference(model, x))


def build_shufflenet_v1():
    model, size = ShuffleNetSmall(), 64
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=True)
    onnx_model = torch_export(model, x, opset=9, keep_batchnorm=True)
    binary_adds_to_sum(onnx_model)
    counts = fc.op_counts(onnx_model)
    assert counts.get("Transpose", 0) == 4 and counts.get("Reshape", 0) >= 8, counts
    return save("shufflenet_v1", onnx_model, x, "NCHW", ["Sum", "grouped Conv", "channel shuffle"], n_params(model),
                reference=torch_reference(model, x))


def build_squeezenet():
    model, size = SqueezeNet10Small(), 96
    x = photo_batch(size)
    make_useful(model, model.classifier[1], size, has_bn=False)
    onnx_model = torch_export(model, x, opset=9)
    graph = onnx_model.graph
    logits = graph.output[0].name
    graph.node[-1].output[0] = logits + "_pre_softmax"
    # Legacy Softmax: the input is coerced to 2-D at axis 1, (N, 10·1·1): a softmax over classes.
    graph.node.append(helper.make_node("Softmax", [logits + "_pre_softmax"], [logits], name="prob", axis=1))
    with torch.no_grad():
        reference = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    return save("squeezenet1_0", onnx_model, x, "NCHW", ["Softmax opset<13 on rank 4", "Softmax-ended output", "opset 9"],
                n_params(model), output_kind="probs", reference=reference)


def build_densenet():
    model, size = DenseNetSmall(), 64
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=True)
    onnx_model = torch_export(model, x, opset=9, keep_batchnorm=True)
    return save("densenet121_opset9", onnx_model, x, "NCHW", ["opset 9", "BatchNormalization before Conv"], n_params(model),
                reference=torch_reference(model, x))


def build_mtcnn():
    model, size = MTCNNStyle(), 48
    x = photo_batch(size)
    kaiming(model)
    randomize_prelu(model)
    batch = fc.calibration_batch(count=64, size=size)
    model.eval()
    normalise_convs(model, batch)
    fc.rescale_classifier(model, model.fc, batch)
    onnx_model = torch_export(model, x, opset=9)
    assert fc.op_counts(onnx_model).get("PRelu") == 5
    return save("mtcnn_prelu", onnx_model, x, "NCHW", ["PRelu"], n_params(model), reference=torch_reference(model, x))


def build_nhwc_pair():
    model, size = ResNetNHWC(), 64
    x = np.ascontiguousarray(photo_batch(size).transpose(0, 2, 3, 1))
    kaiming(model)
    fc.randomize_batchnorm_affine(model)
    batch = fc.calibration_batch(count=64, size=size).permute(0, 2, 3, 1).contiguous()
    fc.calibrate_batchnorm(model, batch)
    fc.rescale_classifier(model, model.fc, batch)
    entries = []
    reference = torch_reference(model, x)
    tf = torch_export(model, x, opset=13)
    assert fc.op_counts(tf).get("Transpose") == 1 and "BatchNormalization" not in fc.op_counts(tf)
    entries.append(save("resnet_nhwc_tf2onnx", tf, x, "NHWC", ["NHWC input"], None, reference=reference))
    model.style = "torch"
    torch_style = torch_export(model, x, opset=13)
    counts = fc.op_counts(torch_style)
    # 8 Convs, a Transpose on each side, less one: the downsample Conv and the next block's first
    # Conv read the same NHWC tensor, and the exporter shares that Transpose.
    assert counts.get("Transpose") == 2 * 8 - 1 and counts.get("Sub") == 8 and counts.get("Div") == 8, counts
    entries.append(save("resnet_nhwc_torch", torch_style, x, "NHWC",
                        ["NHWC input", "Transpose around every Conv", "BatchNormalization as Sub/Div/Mul/Add on NHWC"],
                        None, reference=torch_reference(model, x)))
    same = float(np.abs(np.load(fc.FIXTURES / entries[0]["output"]) - np.load(fc.FIXTURES / entries[1]["output"])).max())
    assert same <= 1e-4 * entries[0]["ortMaxAbs"], same
    entries[1]["sameAs"] = {"model": "resnet_nhwc_tf2onnx", "maxAbsDiff": float(f"{same:.3g}")}
    return entries


def build_keras():
    model, size = KerasStyle(), 64
    x = np.ascontiguousarray(photo_batch(size).transpose(0, 2, 3, 1))
    kaiming(model)
    batch = fc.calibration_batch(count=64, size=size).permute(0, 2, 3, 1).contiguous()
    model.eval()
    normalise_convs(model, batch)
    model.softmax = False
    fc.rescale_classifier(model, model.dense, batch)
    model.softmax = True
    onnx_model = torch_export(model, x, opset=13)
    counts = fc.op_counts(onnx_model)
    assert counts.get("MatMul") == 1 and counts.get("Softmax") == 1, counts
    return save("keras_softmax", onnx_model, x, "NHWC", ["NHWC input", "Softmax-ended output", "MatMul + Add Dense"],
                n_params(model), output_kind="probs", reference=torch_reference(model, x))


def build_paddle():
    model, size = PaddleStyle(), 64
    x = photo_batch(size)
    make_useful(model, model.fc, size, has_bn=False)
    onnx_model = torch_export(model, x, opset=11)
    moved = initializers_to_constants(onnx_model)
    assert moved >= 10
    onnx_model.producer_name = "WeakSpot make_classic_models.py (Paddle-style: weights in Constant nodes)"
    return save("paddle_constants", onnx_model, x, "NCHW", ["Constant-node weights"], n_params(model),
                reference=torch_reference(model, x))


BUILDERS = {
    "alexnet": lambda: build_alexnet("alexnet", 11, 4, 2, 112),
    "zfnet": lambda: build_alexnet("zfnet", 7, 2, 1, 96),
    "vgg19": build_vgg19,
    "googlenet": build_googlenet,
    "inception_v2": build_inception_v2,
    "resnet50_caffe2": build_resnet50_caffe2,
    "shufflenet_v1": build_shufflenet_v1,
    "squeezenet1_0": build_squeezenet,
    "densenet121_opset9": build_densenet,
    "mtcnn_prelu": build_mtcnn,
    "resnet_nhwc": build_nhwc_pair,
    "keras_softmax": build_keras,
    "paddle_constants": build_paddle,
}


def main(selected: list[str]) -> None:
    manifest_path = OUT / "manifest.json"
    previous = {m["name"]: m for m in json.loads(manifest_path.read_text())["models"]} if manifest_path.exists() else {}
    for key, build in BUILDERS.items():
        if selected and key not in selected:
            continue
        fc.seed_everything(0)
        made = build()
        for entry in made if isinstance(made, list) else [made]:
            previous[entry["name"]] = entry
    order = [n for k in BUILDERS for n in ([k] if k != "resnet_nhwc" else ["resnet_nhwc_tf2onnx", "resnet_nhwc_torch"])]
    models = [previous[n] for n in order if n in previous]
    manifest_path.write_text(json.dumps({"schema": "weakspot.classic-models/1", "count": len(models), "models": models},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
