"""Small models for the profiler and planner: Fixtures/models/tiny_{resnet,mobilenet,concat}.onnx.

Each is randomly initialised (seeded), its BatchNorm statistics re-estimated on 64 augmented
crops of the sample photographs, its classifier centred and scaled (logit std ~3), and exported
with BatchNormalization kept. Input: 4 photographs, Resize(73)/CenterCrop(64), ImageNet
normalisation -> <name>.input.npy (4,3,64,64); ORT outputs -> <name>.logits.npy (4,10).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import fixture_common as fc

MODELS = fc.FIXTURES / "models"
IMAGES = ["chelsea", "coffee", "astronaut", "rocket"]
CLASSES = 10


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride, act=nn.ReLU())
        self.conv2 = conv_bn(cout, cout, 3, 1)
        self.downsample = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.relu = nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


class TinyResNet(nn.Module):
    """Stem conv+BN+ReLU, a basic block (identity skip), a basic block with a 1x1 stride-2
    downsample, global average pool, flatten, linear."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2, act=nn.ReLU())
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class SqueezeExcite(nn.Module):
    def __init__(self, channels, squeezed):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))


class InvertedResidual(nn.Module):
    def __init__(self, cin, expanded, cout, stride, act, se=False):
        super().__init__()
        self.expand = conv_bn(cin, expanded, 1, act=act)
        self.depthwise = conv_bn(expanded, expanded, 3, stride, groups=expanded, act=act)
        self.se = SqueezeExcite(expanded, max(8, expanded // 4)) if se else nn.Identity()
        self.project = conv_bn(expanded, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


class TinyMobileNet(nn.Module):
    """conv+BN+ReLU6 stem; inverted residual (ReLU6, depthwise 3x3, residual Add); inverted
    residual with stride 2, squeeze-excite (pool, 1x1, ReLU, 1x1, HardSigmoid, Mul) and
    HardSwish; inverted residual with SE and residual Add; 1x1 head with HardSwish; pool; linear."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2, act=nn.ReLU6())
        self.block1 = InvertedResidual(16, 48, 16, 1, nn.ReLU6())
        self.block2 = InvertedResidual(16, 64, 24, 2, nn.Hardswish(), se=True)
        self.block3 = InvertedResidual(24, 72, 24, 1, nn.Hardswish(), se=True)
        self.head = conv_bn(24, 64, 1, act=nn.Hardswish())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, CLASSES)

    def forward(self, x):
        x = self.head(self.block3(self.block2(self.block1(self.stem(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


class TinyConcat(nn.Module):
    """SqueezeNet fire-style: stem conv, max pool, squeeze 1x1, two expand convs (1x1 and 3x3)
    concatenated on channels, a 3x3 conv over the concatenation, pool, linear. BN after convs."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2, act=nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.squeeze = conv_bn(16, 8, 1, act=nn.ReLU())
        self.expand1x1 = conv_bn(8, 16, 1, act=nn.ReLU())
        self.expand3x3 = conv_bn(8, 16, 3, act=nn.ReLU())
        self.conv = conv_bn(32, 32, 3, act=nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        s = self.squeeze(self.maxpool(self.stem(x)))
        x = torch.cat([self.expand1x1(s), self.expand3x3(s)], dim=1)
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))


def main() -> None:
    fc.seed_everything(0)
    batch = fc.calibration_batch(64, 64, seed=3)
    inputs = fc.preprocess([fc.sample_image(n) for n in IMAGES], resize=73, crop=64)
    import make_models

    for key, cls in [("tiny_resnet", TinyResNet), ("tiny_mobilenet", TinyMobileNet),
                     ("tiny_concat", TinyConcat)]:
        fc.seed_everything(0)
        model = cls()
        fc.randomize_batchnorm_affine(model)
        fc.calibrate_batchnorm(model, batch)
        factor = fc.rescale_classifier(model, model.fc, batch, target_std=3.0)
        path = MODELS / f"{key}.onnx"
        fc.export(model, torch.from_numpy(inputs[:1]), path, keep_batchnorm=True)
        print(f"{key}: classifier scaled by {factor:.4g}; ops {fc.op_counts(__import__('onnx').load(str(path)))}")
        make_models.finish_model(key, model, path, inputs, True, input_shape=(1, 3, 64, 64))
