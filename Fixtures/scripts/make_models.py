#!/usr/bin/env python3
"""Generates WeakSpot's reference models and ONNX Runtime reference outputs.

Usage: python3 Fixtures/scripts/make_models.py [parity] [keras] [tiny] [ops] [demo]
(no argument = all parts). Deterministic (fixed seeds) and re-runnable; every output is
overwritten. CI never runs this; its outputs are committed under Fixtures/.

Parts:
  parity  Fixtures/models/: torchvision resnet18 (BN folded and BN kept), mobilenet_v2,
          mobilenet_v3_small, squeezenet1_1 with BatchNorm re-estimated on real photographs;
          4 preprocessed photographs and ORT logits; counts.json.
  keras   Fixtures/models/keras_nhwc_cnn.onnx: a small NHWC-input CNN (see make_keras.py).
  tiny    Fixtures/models/tiny_*.onnx: small models for the profiler and planner.
  ops     Fixtures/ops/<case>/: single-operator models (see make_ops.py).
  demo    Fixtures/demo/: pretrained EfficientNet-Lite0 and photographs (see make_demo.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402

MODELS = fc.FIXTURES / "models"
COUNTS = MODELS / "counts.json"
PARITY_IMAGES = ["chelsea", "coffee", "astronaut", "rocket"]
MAX_FILE_BYTES = 30_000_000


def classifier_of(name: str, model: torch.nn.Module) -> torch.nn.Module:
    if name.startswith("resnet"):
        return model.fc
    if name == "mobilenet_v2":
        return model.classifier[1]
    if name == "mobilenet_v3_small":
        return model.classifier[3]
    if name == "squeezenet1_1":
        return model.classifier[1]
    raise ValueError(name)


def record_counts(key: str, model: torch.nn.Module, path: Path, input_shape=(1, 3, 224, 224)) -> dict:
    proto = onnx.load(str(path), load_external_data=False)
    entry = {
        "params": int(sum(p.numel() for p in model.parameters())),
        "initializerTotal": fc.initializer_total(proto),
        "batchNormStatistics": fc.batchnorm_statistics_total(proto),
        "macs": fc.macs(path, input_shape),
        "macsInputShape": list(input_shape),
        "file": path.name,
    }
    fc.update_json(COUNTS, key, entry)
    return entry


def finish_model(key: str, model: torch.nn.Module, path: Path, inputs: np.ndarray,
                 keep_batchnorm: bool, input_shape=(1, 3, 224, 224)) -> None:
    """Export checks, optional weight split, ORT outputs, counts, and a one-line summary."""
    bn_count = fc.check_batchnorm(path, keep_batchnorm)
    if path.stat().st_size > MAX_FILE_BYTES:
        fc.split_external_data(path, parts=2)
        for extra in path.parent.glob(path.stem + ".data*"):
            assert extra.stat().st_size <= MAX_FILE_BYTES, extra
    logits = fc.run_ort(path, {"input": inputs})[0]
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(inputs)).numpy()
    fc.save_npy(MODELS / f"{key}.input.npy", inputs)
    fc.save_npy(MODELS / f"{key}.logits.npy", logits)
    counts = record_counts(key, model, path, input_shape)
    classes = logits.reshape(logits.shape[0], -1).argmax(axis=1)
    print(f"{key}: BN nodes {bn_count}, max|logit| {np.abs(logits).max():.3f}, "
          f"logit std {logits.std(axis=1).mean():.3f}, argmax {classes.tolist()} "
          f"({len(set(classes.tolist()))} distinct), ORT vs torch max diff "
          f"{np.abs(logits - torch_logits).max():.2e}, params {counts['params']:,}, "
          f"initializers {counts['initializerTotal']:,}, MACs {counts['macs']:,}", flush=True)


def parity() -> None:
    fc.seed_everything(0)
    batch = fc.calibration_batch(64, 224, seed=1)
    inputs = fc.preprocess([fc.sample_image(n) for n in PARITY_IMAGES])
    example = torch.from_numpy(inputs[:1])
    for name in ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1"]:
        fc.seed_everything(0)
        model = getattr(torchvision.models, name)(weights=None)
        fc.randomize_batchnorm_affine(model)
        fc.calibrate_batchnorm(model, batch)
        factor = fc.rescale_classifier(model, classifier_of(name, model), batch, target_std=3.0)
        print(f"{name}: classifier scaled by {factor:.4g}", flush=True)
        exports = [(name, False)]
        if name == "resnet18":
            exports.append(("resnet18_bn", True))
        for key, keep in exports:
            path = MODELS / f"{key}.onnx"
            fc.export(model, example, path, keep_batchnorm=keep)
            finish_model(key, model, path, inputs, keep)
    entry = __import__("json").loads(COUNTS.read_text())
    assert entry["resnet18_bn"]["params"] == 11_689_512, entry["resnet18_bn"]
    assert entry["resnet18"]["macs"] == 1_814_073_344, entry["resnet18"]["macs"]
    bn = entry["resnet18_bn"]
    assert bn["initializerTotal"] - bn["batchNormStatistics"] == 11_689_512, bn


def main(argv: list[str]) -> None:
    parts = argv or ["parity", "keras", "tiny", "ops", "demo"]
    for part in parts:
        if part == "parity":
            parity()
        elif part == "keras":
            import make_keras
            make_keras.main()
        elif part == "tiny":
            import make_tiny
            make_tiny.main()
        elif part == "ops":
            import make_ops
            make_ops.main()
        elif part == "demo":
            import make_demo
            make_demo.main()
        else:
            raise SystemExit(f"unknown part {part!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
