"""Shared helpers for the fixture scripts: sample photographs, preprocessing, BatchNorm
calibration, ONNX export and verification, external-data splitting, parameter and MAC counts.

Everything here is deterministic: callers seed torch/numpy, and the photographs come from
scikit-image's bundled samples (no network).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from PIL import Image
from onnx import external_data_helper, numpy_helper, shape_inference

FIXTURES = Path(__file__).resolve().parent.parent

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Colour photographs bundled with scikit-image (no download needed), and grey ones
# that are converted to RGB. Used for BatchNorm calibration and as model inputs.
COLOUR_SAMPLES = ["chelsea", "coffee", "astronaut", "rocket", "stereo_motorcycle",
                  "hubble_deep_field", "immunohistochemistry", "retina"]
GREY_SAMPLES = ["camera", "coins", "moon", "clock", "grass", "gravel", "brick", "text"]


def seed_everything(seed: int = 0) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(2)


def sample_image(name: str) -> Image.Image:
    """One scikit-image sample photograph as an RGB Pillow image."""
    import skimage.data as data

    array = getattr(data, name)()
    if isinstance(array, tuple):  # stereo_motorcycle returns (left, right, disparity)
        array = array[0]
    array = np.asarray(array)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return Image.fromarray(array[..., :3], mode="RGB")


def imagenet_transform(resize: int = 256, crop: int = 224, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """torchvision's ImageNet evaluation transform (Resize, CenterCrop, ToTensor, Normalize)."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Resize(resize),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])


def preprocess(images, resize=256, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> np.ndarray:
    t = imagenet_transform(resize, crop, mean, std)
    return np.ascontiguousarray(torch.stack([t(im) for im in images]).numpy().astype(np.float32))


def calibration_batch(count: int = 64, size: int = 224, seed: int = 1,
                      mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """`count` augmented crops (random resized crop, flip, colour jitter) of every sample photo."""
    from torchvision import transforms

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    augment = transforms.Compose([
        transforms.RandomResizedCrop(size, scale=(0.2, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.3, 0.3, 0.3),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
    pool = [sample_image(n) for n in COLOUR_SAMPLES + GREY_SAMPLES]
    order = torch.randperm(count * 4, generator=g) % len(pool)
    return torch.stack([augment(pool[int(i)]) for i in order[:count]])


@torch.no_grad()
def randomize_batchnorm_affine(model: torch.nn.Module, seed: int = 2) -> None:
    """Gives every BatchNorm a distinct scale (uniform 0.5..1.5) and shift (normal, std 0.1).
    Freshly initialised BatchNorms all have weight 1 and bias 0, and the ONNX exporter then
    merges equal initializers, so the exported parameter count would fall short of the
    model's; distinct values also make BatchNorm folding observable."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.affine:
            m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))


@torch.no_grad()
def calibrate_batchnorm(model: torch.nn.Module, batch: torch.Tensor, chunk: int = 16) -> None:
    """Re-estimates every BatchNorm's running statistics as a cumulative average over `batch`."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    for start in range(0, batch.shape[0], chunk):
        model(batch[start:start + chunk])
    model.eval()


@torch.no_grad()
def rescale_classifier(model: torch.nn.Module, linear: torch.nn.Module, batch: torch.Tensor,
                       target_std: float = 3.0) -> float:
    """Centres, then scales, the classifier `linear` (a Linear or a 1x1 Conv with bias):
    first its bias is shifted so each class's output averages zero over `batch` (random
    initialisation otherwise lets one class win for every image), then weight and bias are
    scaled so the logits on `batch` have standard deviation `target_std` (per image,
    averaged). Returns the scale factor."""
    model.eval()
    captured = []
    hook = linear.register_forward_hook(lambda _m, _i, out: captured.append(out))
    model(batch)
    hook.remove()
    out = captured[0]
    dims = [d for d in range(out.dim()) if d != 1]
    linear.bias.sub_(out.mean(dim=dims))
    logits = model(batch)
    current = float(logits.std(dim=1).mean())
    factor = target_std / max(current, 1e-12)
    linear.weight.mul_(factor)
    if linear.bias is not None:
        linear.bias.mul_(factor)
    return factor


def export(model: torch.nn.Module, example: torch.Tensor, path: Path, keep_batchnorm: bool,
           input_name: str = "input", output_name: str = "logits", opset: int = 17) -> None:
    """TorchScript-based export with a dynamic batch. `keep_batchnorm` exports with
    TrainingMode.PRESERVE on an eval-mode model: the exporter then skips its eval peephole
    pass (which folds BatchNormalization into the preceding Conv) and keeps inference-form
    BatchNormalization nodes."""
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = dict(dynamo=False, opset_version=opset, input_names=[input_name],
                  output_names=[output_name],
                  dynamic_axes={input_name: {0: "N"}, output_name: {0: "N"}})
    if keep_batchnorm:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, (example,), str(path), **kwargs)


def op_counts(model: onnx.ModelProto) -> dict:
    counts: dict = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def check_batchnorm(path: Path, expect_kept: bool) -> int:
    """Asserts the model has (or has no) BatchNormalization nodes, inference form (one output)."""
    model = onnx.load(str(path), load_external_data=False)
    bns = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    if expect_kept:
        assert bns, f"{path.name}: expected BatchNormalization nodes, found none"
        for n in bns:
            assert len(n.output) == 1, f"{path.name}: {n.name} has {len(n.output)} outputs"
            attrs = {a.name for a in n.attribute}
            assert "training_mode" not in attrs or onnx.helper.get_attribute_value(
                next(a for a in n.attribute if a.name == "training_mode")) == 0
    else:
        assert not bns, f"{path.name}: expected folded BatchNormalization, found {len(bns)}"
    return len(bns)


def split_external_data(path: Path, parts: int = 2, min_bytes: int = 1024) -> list[str]:
    """Moves the model's large initializers into `parts` external-data files next to it
    (`<stem>.data0`, `<stem>.data1`, ...), balanced by size, so no file exceeds the
    repository's per-file limit. Returns the data file names."""
    model = onnx.load(str(path))
    tensors = [t for t in model.graph.initializer]
    big = [t for t in tensors if len(t.raw_data) >= min_bytes or
           (not t.raw_data and numpy_helper.to_array(t).nbytes >= min_bytes)]
    total = sum(numpy_helper.to_array(t).nbytes for t in big)
    names = [f"{path.stem}.data{i}" for i in range(parts)]
    for n in names:
        (path.parent / n).unlink(missing_ok=True)
    running = 0
    for t in big:
        array = numpy_helper.to_array(t)
        part = min(parts - 1, int(running * parts // max(total, 1)))
        running += array.nbytes
        t.CopyFrom(numpy_helper.from_array(array, t.name))
        external_data_helper.set_external_data(t, location=names[part])
    onnx.save_model(model, str(path))
    for n in names:
        if (path.parent / n).exists():
            os.chmod(path.parent / n, 0o644)
    return names


def run_ort(path: Path, feeds: dict) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.dtype.kind == "f":
        array = array.astype("<f4")
    elif array.dtype.kind in "iu":
        array = array.astype("<i8")
    np.save(str(path), np.ascontiguousarray(array), allow_pickle=False)


def initializer_total(model: onnx.ModelProto) -> int:
    return int(sum(int(np.prod(t.dims)) if len(t.dims) else 1 for t in model.graph.initializer))


def batchnorm_statistics_total(model: onnx.ModelProto) -> int:
    """Elements of BatchNormalization running mean/variance initializers (not trainable)."""
    sizes = {t.name: int(np.prod(t.dims)) for t in model.graph.initializer}
    return sum(sizes.get(n.input[i], 0) for n in model.graph.node
               if n.op_type == "BatchNormalization" for i in (3, 4))


def macs(path: Path, input_shape: tuple) -> int:
    """Multiply-accumulates of Conv and Gemm/MatMul nodes at `input_shape` (bias not counted).
    Conv = N*Cout*Hout*Wout*(Cin/groups)*kh*kw; Gemm/MatMul = N*in*out."""
    model = onnx.load(str(path), load_external_data=False)
    graph_input = model.graph.input[0]
    dims = graph_input.type.tensor_type.shape.dim
    for d, size in zip(dims, input_shape):
        d.ClearField("dim_param")
        d.dim_value = size
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for t in model.graph.initializer:
        shapes[t.name] = list(t.dims)
    total = 0
    for node in inferred.graph.node:
        if node.op_type == "Conv":
            w = shapes[node.input[1]]
            out = shapes[node.output[0]]
            total += out[0] * out[1] * int(np.prod(out[2:])) * w[1] * int(np.prod(w[2:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes[node.input[0]]
            b = shapes[node.input[1]]
            trans_b = any(at.name == "transB" and at.i == 1 for at in node.attribute)
            trans_a = any(at.name == "transA" and at.i == 1 for at in node.attribute)
            rows = a[1] if trans_a else a[0]
            if node.op_type == "MatMul":
                rows = int(np.prod(a[:-1]))
            inner = b[1] if trans_b else b[0]
            outer = b[0] if trans_b else b[1]
            total += rows * inner * outer
    return int(total)


def update_json(path: Path, key: str, value) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def relative(path: Path) -> str:
    return os.path.relpath(path, FIXTURES)
