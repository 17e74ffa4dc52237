#!/usr/bin/env python3
"""Decode + preprocess throughput: Pillow/torchvision versus WeakSpot, one thread each.

    python3 Tests/Benchmarks/compare_pillow_preprocess.py DIR [--make N] [--weakspot PATH] [--repeat R]

Pillow side: for every .jpg/.jpeg in DIR (sorted), Image.open(path).convert("RGB"), then
torchvision's Resize(256), CenterCrop(224), ToTensor(), Normalize(ImageNet) — single process,
torch.set_num_threads(1). WeakSpot side: `WEAKSPOT bench --data DIR --threads 1 --format json`,
whose JSON has `imagesPerSecond`. Prints both rates and WeakSpot / Pillow.

--make N first writes N ~500x400 JPEGs (quality 90, crops of scikit-image's sample photographs)
into DIR. The best of R passes (default 3) is kept on each side.
If the binary or its --data option is missing, the script says so and prints the Pillow rate only.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def make_images(folder, count):
    import numpy as np
    import skimage.data
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee(),
              skimage.data.rocket(), skimage.data.hubble_deep_field()]
    rng = np.random.default_rng(0)
    for i in range(count):
        photo = photos[i % len(photos)]
        image = Image.fromarray(photo)
        if image.width < 500 or image.height < 400:
            image = image.resize((max(500, image.width), max(400, image.height)), Image.BICUBIC)
        x = int(rng.integers(0, image.width - 500 + 1))
        y = int(rng.integers(0, image.height - 400 + 1))
        image.crop((x, y, x + 500, y + 400)).save(os.path.join(folder, f"{i:04d}.jpg"), quality=90)


def pillow_rate(paths, repeat):
    import torch
    from PIL import Image
    from torchvision import transforms as T

    torch.set_num_threads(1)
    pipeline = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                          T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                pipeline(image.convert("RGB"))
        best = max(best, len(paths) / (time.perf_counter() - start))
    return best


def weakspot_rate(binary, folder, repeat):
    """imagesPerSecond from `weakspot bench --data`, or (None, why) when it cannot be had."""
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return None, f"weakspot binary not found at {binary} (build with `swift build -c release` or pass --weakspot)"
    best = None
    for _ in range(repeat):
        run = subprocess.run([binary, "bench", "--data", folder, "--threads", "1", "--format", "json"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            return None, f"`weakspot bench --data` failed (exit {run.returncode}): {run.stderr.strip()[:300]}"
        try:
            rate = float(json.loads(run.stdout)["imagesPerSecond"])
        except (ValueError, KeyError, TypeError):
            return None, f"`weakspot bench --data` printed no imagesPerSecond: {run.stdout.strip()[:300]}"
        best = rate if best is None else max(best, rate)
    return best, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--make", type=int, default=0, help="first write N ~500x400 JPEGs into DIR")
    parser.add_argument("--weakspot", default=os.environ.get("WEAKSPOT", ".build/release/weakspot"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if args.make:
        make_images(args.dir, args.make)
    paths = sorted(os.path.join(args.dir, f) for f in os.listdir(args.dir)
                   if f.lower().endswith((".jpg", ".jpeg")))
    if not paths:
        sys.exit(f"{args.dir}: no .jpg files (use --make N to create some)")

    pillow = pillow_rate(paths, args.repeat)
    print(f"pillow+torchvision: {pillow:8.1f} images/s  ({len(paths)} JPEGs, 1 thread)")
    weakspot, why = weakspot_rate(args.weakspot, args.dir, args.repeat)
    if weakspot is None:
        print(f"weakspot: unavailable — {why}")
        return
    print(f"weakspot:           {weakspot:8.1f} images/s")
    print(f"ratio weakspot/pillow: {weakspot / pillow:.2f}")


if __name__ == "__main__":
    main()
