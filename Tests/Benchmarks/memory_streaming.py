#!/usr/bin/env python3
"""Peak memory of `profile --adaptive --hard-examples K` on a small and a large image folder.

Issue 18, item 6: memory must not grow with the data set. Before streaming, --adaptive and
--hard-examples read every input into one float array (and sliced a second copy) and ran the
whole set through the model as one batch. This script generates N JPEGs with Pillow (seeded
noise over colour gradients, so every file decodes to different pixels), profiles the first
`--small` of them and then all of them with the same options, and prints each run's peak
resident memory (the child's ru_maxrss from wait4, and the report's timing.peakMemoryBytes)
and the ratio large / small. Exit status 1 when the ratio exceeds --limit (1.2: the Done-when).

    python3 Tests/Benchmarks/memory_streaming.py [--weakspot PATH] [--count 2000] [--small 64]
            [--hard 256] [--model Fixtures/models/tiny_resnet.onnx] [--size 96] [--threads 2]
            [--folder /tmp/weakspot-memory-bench]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def find_weakspot(given):
    if given:
        return given
    built = os.path.join(ROOT, ".build", "release", "weakspot")
    if os.path.exists(built):
        return built
    found = shutil.which("weakspot")
    if not found:
        sys.exit("no weakspot binary: build with `swift build -c release --product weakspot` or pass --weakspot")
    return found


def make_images(folder, count, size, seed=0):
    """`count` JPEGs of size×size in `folder` (reused when already there with the same count)."""
    import numpy as np
    from PIL import Image
    marker = os.path.join(folder, ".complete")
    if os.path.exists(marker) and open(marker).read() == f"{count} {size} {seed}":
        return
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    ramp = (np.arange(size)[:, None] + np.arange(size)[None, :]) / (2 * size)
    for i in range(count):
        low, high = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        pixels = low + (high - low) * ramp[:, :, None] + rng.integers(-40, 41, (size, size, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(os.path.join(folder, f"img_{i:05d}.jpg"), quality=90)
    with open(marker, "w") as f:
        f.write(f"{count} {size} {seed}")


def subset(folder, target, count):
    """A folder holding the first `count` images of `folder` (symbolic links)."""
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".jpg"))[:count]:
        os.symlink(os.path.join(folder, name), os.path.join(target, name))


def profile(weakspot, model, data, hard, threads, out):
    """Runs one profile; returns (peak RSS bytes from wait4, report's timing, seconds)."""
    args = [weakspot, "profile", model, "--data", data, "--adaptive", "--hard-examples", str(hard),
            "--threads", str(threads), "--quiet", "-o", out]
    started = time.time()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.time() - started
    error = child.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"profile failed on {data}: {error}")
    with open(out) as f:
        timing = json.load(f).get("timing", {})
    return usage.ru_maxrss * 1024, timing, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weakspot")
    parser.add_argument("--model", default=os.path.join(ROOT, "Fixtures", "models", "tiny_resnet.onnx"))
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--small", type=int, default=64)
    parser.add_argument("--hard", type=int, default=256)
    parser.add_argument("--size", type=int, default=96, help="generated image side in pixels")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folder", default="/tmp/weakspot-memory-bench")
    parser.add_argument("--limit", type=float, default=1.2)
    a = parser.parse_args()
    weakspot = find_weakspot(a.weakspot)
    large = os.path.join(a.folder, f"images{a.count}")
    small = os.path.join(a.folder, f"images{a.small}")
    make_images(large, a.count, a.size)
    subset(large, small, a.small)
    rows = []
    for label, folder in [(a.small, small), (a.count, large)]:
        rss, timing, seconds = profile(weakspot, a.model, folder, a.hard, a.threads, os.path.join(a.folder, f"report{label}.json"))
        rows.append((label, rss, timing.get("peakMemoryBytes"), seconds))
        print(f"{label:>6} images: peak RSS {rss / 2**20:8.1f} MiB (report timing.peakMemoryBytes "
              f"{(timing.get('peakMemoryBytes') or 0) / 2**20:.1f} MiB), {seconds:.1f} s")
    ratio = rows[1][1] / rows[0][1]
    print(f"ratio {a.count}/{a.small}: {ratio:.3f} (limit {a.limit})")
    sys.exit(0 if ratio <= a.limit else 1)


if __name__ == "__main__":
    main()
