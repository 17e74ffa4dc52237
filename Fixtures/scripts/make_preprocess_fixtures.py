#!/usr/bin/env python3
"""Reference fixtures for DataInput's NPY reader, preprocessing and dataset pipeline.

Every expected value here comes from an independent implementation — numpy's .npy writer,
Pillow's Image.resize and torchvision's transforms (PIL backend) — never from WeakSpot's code.

Run from the repository root:  python3 Fixtures/scripts/make_preprocess_fixtures.py
Writes Fixtures/preprocess/* and Fixtures/npy/* (about 2.7 MB in total). Deterministic.
"""
import io
import os

import numpy as np
import skimage.data
import torch
from PIL import Image
from torchvision import transforms as T

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PRE = os.path.join(ROOT, "preprocess")
NPY = os.path.join(ROOT, "npy")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def save(folder, name, array):
    np.save(os.path.join(folder, name), array, allow_pickle=False)


def torch_tensor(image, *steps):
    """torchvision's pipeline on a PIL image, as ImageFolder's loader gives it (convert("RGB"))."""
    pipeline = T.Compose(list(steps) + [T.ToTensor()])
    return pipeline(image.convert("RGB"))


def normalized(image, resize, crop, mean, std):
    steps = [T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(mean, std)]
    return T.Compose(steps)(image.convert("RGB")).numpy().astype(np.float32)


def write_images():
    """Small crops of real photographs: PNG (lossless, so any exact PNG decoder sees these pixels)
    plus the same pixels as raw uint8 .npy (HWC, or HW for grey) so that preprocessing can be
    tested without any decoder."""
    images = {
        # 280 wide x 210 tall, RGB: the main ImageNet-preset case (Resize(256) gives 341 x 256,
        # a mild upscale on both axes).
        "astronaut": Image.fromarray(skimage.data.astronaut()[40:250, 100:380]),
        # 240 x 180, RGB: inception preset and the non-square resize.
        "chelsea": Image.fromarray(skimage.data.chelsea()[50:230, 100:340]),
        # 200 wide x 260 tall, grey (mode L): grey -> RGB, a portrait orientation.
        "camera": Image.fromarray(skimage.data.camera()[100:360, 150:350]),
        # 30 x 20, RGB: the large upscale and the padding center crop.
        "tiny": Image.fromarray(skimage.data.coffee()[100:120, 200:230]),
        # 600 x 400 RGB photograph, downscaled by Pillow's own LANCZOS to a 240 x 160 source:
        # the strong-reduction case (Resize(32) from 160 rows is a 5x reduction).
        "coffee": Image.fromarray(skimage.data.coffee()).resize((240, 160), Image.LANCZOS),
    }
    for name, image in images.items():
        image.save(os.path.join(PRE, f"{name}.png"), optimize=True)
        save(PRE, f"{name}.pixels.npy", np.asarray(image))
    # A baseline JPEG for the end-to-end test (decode + preprocess), with Pillow's decoding as
    # the reference pixels.
    jpeg = io.BytesIO()
    images["chelsea"].save(jpeg, format="JPEG", quality=90)
    with open(os.path.join(PRE, "chelsea.jpg"), "wb") as f:
        f.write(jpeg.getvalue())
    return {name: Image.open(os.path.join(PRE, f"{name}.png")) for name in images}, Image.open(
        os.path.join(PRE, "chelsea.jpg"))


def write_resize_cases(images):
    """Pillow's resized uint8 images: byte-exact targets for the antialiased bilinear resize.
    Named resize_<image>_<width>x<height>.npy, HWC (HW for grey)."""
    cases = [
        ("astronaut", (140, 105)),  # exactly 2x reduction
        ("astronaut", (75, 57)),    # ~3.7x reduction, non-integer
        ("chelsea", (185, 139)),    # ~1.3x reduction
        ("chelsea", (240, 61)),     # vertical pass only (width unchanged)
        ("camera", (61, 79)),       # grey, ~3.3x reduction
        ("coffee", (48, 32)),       # 5x reduction
        ("tiny", (384, 256)),       # 30x20 -> Resize(256): large upscale
    ]
    for name, (w, h) in cases:
        resized = images[name].resize((w, h), Image.BILINEAR)
        save(PRE, f"resize_{name}_{w}x{h}.npy", np.asarray(resized))


def write_tensor_cases(images, jpeg):
    """torchvision tensors (C,H,W float32), PIL backend, from the PNG-decoded pixels."""
    imagenet = lambda im: normalized(im, 256, 224, IMAGENET_MEAN, IMAGENET_STD)
    save(PRE, "tensor_imagenet_astronaut.npy", imagenet(images["astronaut"]))
    # inception: same geometry, then scaled to [-1, 1] (Normalize(0.5, 0.5) after ToTensor).
    save(PRE, "tensor_inception_chelsea.npy",
         normalized(images["chelsea"], 256, 224, [0.5] * 3, [0.5] * 3))
    # explicit (h, w) resize and a non-square crop; smaller than the 200x300 / 180x240
    # example to keep the fixture small, same code paths.
    save(PRE, "tensor_nonsquare_chelsea.npy",
         normalized(images["chelsea"], (100, 150), (90, 120), IMAGENET_MEAN, IMAGENET_STD))
    # grey source, converted to RGB as torchvision's loader does.
    save(PRE, "tensor_small_camera.npy",
         normalized(images["camera"], 64, 56, IMAGENET_MEAN, IMAGENET_STD))
    # strong reduction
    save(PRE, "tensor_small_coffee.npy",
         normalized(images["coffee"], 32, 28, IMAGENET_MEAN, IMAGENET_STD))
    # crop larger than the image: torchvision pads with zeros before cropping. Resize(20) leaves
    # the 30x20 image unchanged; the crop is taller and wider (odd and even padding).
    save(PRE, "tensor_padded_tiny.npy",
         normalized(images["tiny"], 20, (25, 36), IMAGENET_MEAN, IMAGENET_STD))
    # decode + preprocess end to end, with Pillow's JPEG decoding as the reference.
    save(PRE, "tensor_jpeg_chelsea.npy", normalized(jpeg, 80, 64, IMAGENET_MEAN, IMAGENET_STD))
    # one output channel: convert("L") of a colour image, then the usual transforms.
    grey = T.Compose([T.Resize(64), T.CenterCrop(56), T.ToTensor(), T.Normalize([0.5], [0.5])])
    save(PRE, "tensor_luminance_chelsea.npy", grey(images["chelsea"].convert("L")).numpy().astype(np.float32))
    # raw preset: ToTensor only (values in [0, 1]), no resize, no crop.
    save(PRE, "tensor_raw_tiny.npy", torch_tensor(images["tiny"]).numpy().astype(np.float32))


def synthetic_reference(count, shape, seed):
    """The synthetic:N:SEED generator, written independently in numpy/Python (docs/data.md):
    SplitMix64 value i (i = 0, 1, ...) is mix(seed + (i + 1) * 0x9E3779B97F4A7C15); element k of
    the flattened N x prod(shape) stream uses values 2*(k//2) (u1) and 2*(k//2)+1 (u2):
    r = sqrt(-2 ln((top53(u1) + 1) / 2^53)), theta = 2 pi top53(u2) / 2^53,
    element = float32(r cos theta) when k is even, float32(r sin theta) when k is odd."""
    import math
    mask = (1 << 64) - 1

    def mix(z):
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & mask
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & mask
        return z ^ (z >> 31)

    def value(i):
        return mix((seed + (i + 1) * 0x9E3779B97F4A7C15) & mask)

    total = count * int(np.prod(shape))
    out = np.empty(total, dtype=np.float32)
    for k in range(total):
        j = k // 2
        u1 = ((value(2 * j) >> 11) + 1) / 2.0 ** 53
        u2 = (value(2 * j + 1) >> 11) / 2.0 ** 53
        r = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        out[k] = r * math.cos(theta) if k % 2 == 0 else r * math.sin(theta)
    return out.reshape((count,) + tuple(shape))


def write_synthetic():
    save(PRE, "synthetic_4x3x3x3_seed7.npy", synthetic_reference(4, (3, 3, 3), 7))
    save(PRE, "synthetic_2x2x4x4_seed0.npy", synthetic_reference(2, (2, 4, 4), 0))


def write_npy():
    """numpy's own .npy files: every supported dtype, each header version, and hostile ones."""
    rng = np.random.default_rng(3)
    save(NPY, "f32_2x3.npy", np.array([[1.5, -2.25, 3e-8], [np.inf, -0.0, 65504.0]], np.float32))
    save(NPY, "f64_4.npy", np.array([1.0 / 3, -1e300, 2.5, np.pi], np.float64))
    save(NPY, "i64_2x2x2.npy", np.array([[[0, -1], [2**40, -(2**62)]], [[7, 8], [9, 10]]], np.int64))
    save(NPY, "i32_5.npy", np.array([0, -1, 2**31 - 1, -(2**31), 42], np.int32))
    save(NPY, "u8_3x4x3.npy", rng.integers(0, 256, (3, 4, 3)).astype(np.uint8))
    save(NPY, "f32_scalar.npy", np.array(2.5, np.float32))
    save(NPY, "f32_empty_0x3.npy", np.zeros((0, 3), np.float32))
    big_endian = np.array([[1.0, -2.0, 3.5]], dtype=">f4")
    save(NPY, "f32_big_endian_1x3.npy", big_endian)
    save(NPY, "i64_big_endian_3.npy", np.array([1, -2, 2**50], dtype=">i8"))
    save(NPY, "f32_fortran_2x3.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(os.path.join(NPY, f"f32_3x4_v{version[0]}.npy"), "wb") as f:
            np.lib.format.write_array(f, values, version=version)
    # labels for the dataset tests
    save(NPY, "labels_i64_5.npy", np.array([3, 1, 4, 1, 5], np.int64))
    with open(os.path.join(NPY, "labels_5.txt"), "w") as f:
        f.write("3\n1\n4\n1\n5\n")


def main():
    os.makedirs(PRE, exist_ok=True)
    os.makedirs(NPY, exist_ok=True)
    torch.set_num_threads(1)
    images, jpeg = write_images()
    write_resize_cases(images)
    write_tensor_cases(images, jpeg)
    write_synthetic()
    write_npy()
    total = sum(os.path.getsize(os.path.join(d, f)) for d in (PRE, NPY) for f in os.listdir(d))
    print(f"wrote {len(os.listdir(PRE))} + {len(os.listdir(NPY))} files, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
