#!/usr/bin/env python3
"""PyTorch reference for WeakSpot's BatchNormalization recalibration (`--recalibrate`).

Usage: python3 Fixtures/scripts/make_recalibration_fixtures.py

Writes Fixtures/recalibration/:
- small_bn.onnx: a seeded conv-BN-ReLU ×3 + pooling + linear network, exported by
  torch.onnx.export (TorchScript exporter, no constant folding, so BatchNormalization stays a node
  with its running statistics as initializers named bn*.running_mean/var). Its running statistics
  are set far from the data's (means 0.7–0.9, variances 3–5) so recalibration has work to do.
- inputs.npy: 10 seeded inputs, 3×12×12, float32.
- expected.json: the running statistics after PyTorch's adaptive BatchNorm: every BN reset,
  momentum=None (cumulative average), model.train(), forward over the inputs in batches of 4
  (4, 4, 2), under torch.no_grad(). By initializer name; also the eval-mode logits after.

Deterministic; CI never runs this.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "recalibration")


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv3, self.bn3 = nn.Conv2d(8, 12, 1, bias=True), nn.BatchNorm2d(12)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.relu(self.bn3(self.conv3(x)))
        return self.fc(x.mean(dim=(2, 3)))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    model = Small()
    with torch.no_grad():
        for i, bn in enumerate((model.bn1, model.bn2, model.bn3)):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
            bn.running_mean.fill_(0.7 + 0.1 * i)  # distinct, or the exporter shares one initializer
            bn.running_var.fill_(3.0 + i)
    model.eval()
    inputs = torch.randn(10, 3, 12, 12, generator=torch.Generator().manual_seed(11)) * 1.5 + 0.2
    path = os.path.join(OUT, "small_bn.onnx")
    torch.onnx.export(model, inputs[:1], path, dynamo=False, do_constant_folding=False, opset_version=13,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    np.save(os.path.join(OUT, "inputs.npy"), inputs.numpy().astype(np.float32))

    for bn in (model.bn1, model.bn2, model.bn3):
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for start in range(0, 10, 4):
            model(inputs[start:start + 4])
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
    expected = {"batch": 4, "statistics": {}, "logits": [float(f"{v:.9g}") for v in logits.flatten().tolist()]}
    for name in ("bn1", "bn2", "bn3"):
        bn = getattr(model, name)
        expected["statistics"][f"{name}.running_mean"] = [float(f"{v:.9g}") for v in bn.running_mean.tolist()]
        expected["statistics"][f"{name}.running_var"] = [float(f"{v:.9g}") for v in bn.running_var.tolist()]
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
