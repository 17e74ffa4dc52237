#!/usr/bin/env python3
"""How the cost of an exact profile grows: `weakspot profile MODEL --items channels` timed

  1. against the number of images (8, 16, 32, 64) for one model,
  2. against the model's size (MACs from `weakspot count`) at a fixed number of images,
  3. as 4 shards (`--shard I/4`, one after another) against one run: their total CPU time.

Each point is the median of --repeats runs (wall seconds and CPU seconds, user + sys of the
child, from wait4); models of 50 M MACs or more run once each. One thread by default, so that CPU ≈ wall on a quiet machine and the CPU time
stays meaningful on a shared one. The data is `synthetic:N:0` (no decoding in the figures).
Writes the figures as JSON and draws one PNG with three panels (Pillow, no plotting library).

Usage: python3 Tests/Benchmarks/cost_growth.py [--weakspot BINARY] [--threads 1] [--repeats 3]
          [--image-model tiny_mobilenet] [--images 8,16,32,64]
          [--size-models tiny_concat,tiny_mobilenet,tiny_resnet,mobilenet_v3_small,mobilenet_v2,
                         squeezenet1_1,resnet18]
          [--size-images 2] [--shard-model tiny_mobilenet] [--shard-images 32]
          [--out /tmp/cost_growth.json] [--plot docs/images/cost-growth.png] [--replot]
The figures are written after each part (images, shards, model size), so a stopped run keeps
what it measured; --replot draws the PNG again from --out.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_weakspot(given: str | None) -> str:
    for candidate in (given, os.path.join(ROOT, ".build/release/weakspot"), shutil.which("weakspot")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("no weakspot binary: swift build -c release --product weakspot, or --weakspot PATH")


def model_path(name: str) -> str:
    path = os.path.join(ROOT, "Fixtures/models", name + ".onnx")
    if not os.path.exists(path):
        sys.exit(f"no model {path}")
    return path


def timed(command: list[str]) -> tuple[float, float]:
    """Runs `command`; returns (wall seconds, CPU seconds user + sys). Fails loudly."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"failed ({process.returncode}): {' '.join(command)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def profile(weakspot: str, model: str, images: int, threads: int, out: str, shard: str | None = None) -> tuple[float, float]:
    command = [weakspot, "profile", model_path(model), "--data", f"synthetic:{images}:0", "--items", "channels",
               "--threads", str(threads), "--quiet", "-o", out]
    if shard:
        command += ["--shard", shard]
    return timed(command)


def medians(runs: list[tuple[float, float]]) -> dict:
    return {"wall": statistics.median(r[0] for r in runs), "cpu": statistics.median(r[1] for r in runs),
            "runs": [{"wall": round(w, 3), "cpu": round(c, 3)} for w, c in runs]}


def count(weakspot: str, model: str) -> dict:
    out = subprocess.run([weakspot, "count", model_path(model), "--format", "json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["totals"]


def items_in(report: str) -> int:
    with open(report) as f:
        return len(json.load(f)["items"])


def save(path: str, result: dict) -> None:
    """Writes the figures so far (a long run stopped midway keeps what it measured)."""
    with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(path + ".tmp", path)


def measure(args, weakspot: str, work: str) -> dict:
    result = {"threads": args.threads, "repeats": args.repeats, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "load": os.getloadavg()[0]}
    report = os.path.join(work, "r.json")

    series = []
    for n in args.images:
        runs = [profile(weakspot, args.image_model, n, args.threads, report) for _ in range(args.repeats)]
        series.append({"images": n, "items": items_in(report), **medians(runs)})
        print(f"images {n:3d}: {args.image_model}, {series[-1]['items']} items, median wall {series[-1]['wall']:.2f} s, cpu {series[-1]['cpu']:.2f} s", flush=True)
    result["images"] = {"model": args.image_model, "macs": count(weakspot, args.image_model)["macs"], "points": series}
    save(args.out, result)

    whole, sharded = [], []
    for _ in range(args.repeats):
        whole.append(profile(weakspot, args.shard_model, args.shard_images, args.threads, report))
        parts = [profile(weakspot, args.shard_model, args.shard_images, args.threads, os.path.join(work, f"s{i}.json"), f"{i}/4")
                 for i in range(1, 5)]
        sharded.append((sum(p[0] for p in parts), sum(p[1] for p in parts), [p[1] for p in parts]))
    cpu_whole = statistics.median(c for _, c in whole)
    cpu_shards = statistics.median(c for _, c, _ in sharded)
    per_shard = [statistics.median(s[2][i] for s in sharded) for i in range(4)]
    result["shards"] = {"model": args.shard_model, "images": args.shard_images, "whole": medians(whole),
                        "shards": {"wall": statistics.median(w for w, _, _ in sharded), "cpu": cpu_shards,
                                   "perShardCPU": per_shard, "runs": [{"wall": round(w, 3), "cpu": round(c, 3)} for w, c, _ in sharded]},
                        "ratio": cpu_shards / cpu_whole}
    print(f"shards: {args.shard_model} on {args.shard_images} images: one run cpu {cpu_whole:.2f} s, 4 shards cpu {cpu_shards:.2f} s "
          f"(per shard {', '.join(f'{c:.2f}' for c in per_shard)}), ratio {cpu_shards / cpu_whole:.3f}", flush=True)
    save(args.out, result)
    sizes = []
    for model in args.size_models:
        totals = count(weakspot, model)
        repeats = args.repeats if totals["macs"] < 50e6 else 1   # the 224×224 models: one run each
        runs = [profile(weakspot, model, args.size_images, args.threads, report) for _ in range(repeats)]
        sizes.append({"model": model, "macs": totals["macs"], "params": totals["params"], "items": items_in(report),
                      "images": args.size_images, **medians(runs)})
        s = sizes[-1]
        save(args.out, result | {"size": sizes})
        print(f"model {model}: {s['macs'] / 1e6:.1f} M MACs, {s['items']} items, {args.size_images} images, "
              f"median wall {s['wall']:.2f} s, cpu {s['cpu']:.2f} s ({repeats} runs)", flush=True)
    result["size"] = sizes

    result["loadAfter"] = os.getloadavg()[0]
    return result


# ---------------------------------------------------------------------------------------------
# The plot


def font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 2) if first + i * step <= hi + 1e-9]


def fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}" if abs(v) >= 1 else f"{v:g}"


def write_plot(path: str, r: dict) -> None:
    s = 2
    pw, ph, left, gap, top, bottom = 300, 260, 62, 84, 56, 64
    width, height = left + 3 * pw + 2 * gap + 20, top + ph + bottom
    image = Image.new("RGB", (width * s, height * s), "white")
    draw = ImageDraw.Draw(image)
    small, normal = font(11 * s), font(13 * s)

    def text(xy, string, f, anchor, fill="black"):
        draw.text((xy[0] * s, xy[1] * s), string, font=f, anchor=anchor, fill=fill)

    def vertical(string, x, y0):
        label = Image.new("RGB", (ph * s, 16 * s), "white")
        ImageDraw.Draw(label).text((ph * s / 2, 8 * s), string, font=small, anchor="mm", fill="black")
        image.paste(label.rotate(90, expand=True), (int(x * s), int(y0 * s)))

    text((width / 2, 10), f"Cost of an exact channel profile (weakspot profile --items channels, {r['threads']} thread{'s' if r['threads'] > 1 else ''}, medians of CPU time)", normal, "mt")

    def panel(i, title, xlabel, ylabel, xs, ys, x_range, y_range, log_x=False, log_y=False, labels=None, fit=None, colour="#1f77b4"):
        x0 = left + i * (pw + gap)
        tx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
        ty = (lambda v: math.log10(v)) if log_y else (lambda v: v)
        (xl, xh), (yl, yh) = (tx(x_range[0]), tx(x_range[1])), (ty(y_range[0]), ty(y_range[1]))
        px = lambda v: s * (x0 + (tx(v) - xl) / (xh - xl) * pw)
        py = lambda v: s * (top + (yh - ty(v)) / (yh - yl) * ph)
        xticks = [10 ** e for e in range(math.ceil(xl), math.floor(xh) + 1)] if log_x else nice_ticks(*x_range)
        yticks = [10 ** e for e in range(math.ceil(yl), math.floor(yh) + 1)] if log_y else nice_ticks(*y_range)
        for v in xticks:
            draw.line([(px(v), s * top), (px(v), s * (top + ph))], fill="#dddddd", width=s)
            text((px(v) / s, top + ph + 6), (f"1e{int(round(math.log10(v)))}" if log_x else fmt(v)), small, "mt")
        for v in yticks:
            draw.line([(s * x0, py(v)), (s * (x0 + pw), py(v))], fill="#dddddd", width=s)
            text((x0 - 5, py(v) / s), (f"1e{int(round(math.log10(v)))}" if log_y else fmt(v)), small, "rm")
        draw.rectangle([s * x0, s * top, s * (x0 + pw), s * (top + ph)], outline="#333333", width=s)
        text((x0 + pw / 2, top - 16), title, small, "mt")
        text((x0 + pw / 2, top + ph + 24), xlabel, small, "mt")
        vertical(ylabel, x0 - 58, top)
        if fit:
            a, b = fit
            pts = [(px(x), py(a + b * x)) for x in (x_range[0], x_range[1]) if a + b * x > 0]
            if len(pts) == 2:
                draw.line(pts, fill="#999999", width=s)
        points = [(px(x), py(y)) for x, y in zip(xs, ys)]
        if len(points) > 1 and not labels:
            draw.line(points, fill=colour, width=2 * s)
        taken = []   # label boxes already placed (chart units)
        for k, (x, y) in enumerate(points):
            draw.ellipse([x - 4 * s, y - 4 * s, x + 4 * s, y + 4 * s], fill=colour)
            if labels:
                w, h = draw.textlength(labels[k], font=small) / s, 12
                cx, cy = x / s, y / s
                # The first of eight places around the point that stays inside the panel and
                # clear of the labels already drawn.
                places = [(cx - w / 2, cy - 7 - h), (cx - w / 2, cy + 7), (cx + 6, cy - 2 - h), (cx + 6, cy + 2),
                          (cx - 6 - w, cy - 2 - h), (cx - 6 - w, cy + 2), (cx + 6, cy - h / 2), (cx - 6 - w, cy - h / 2)]
                def free(b):
                    inside = b[0] >= x0 + 2 and b[2] <= x0 + pw - 2 and b[1] >= top + 2 and b[3] <= top + ph - 2
                    return inside and all(b[2] < t[0] or b[0] > t[2] or b[3] < t[1] or b[1] > t[3] for t in taken)
                box = next((b for b in ((px_, py_, px_ + w, py_ + h) for px_, py_ in places) if free(b)),
                           (places[0][0], places[0][1], places[0][0] + w, places[0][1] + h))
                taken.append(box)
                text((box[0], box[1]), labels[k], small, "lt", fill="#333333")
        return x0

    # 1. images
    pts = r["images"]["points"]
    xs, ys = [p["images"] for p in pts], [p["cpu"] for p in pts]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    a = my - b * mx
    panel(0, f"{r['images']['model']} ({pts[0]['items']} items): against images", "images", "CPU seconds",
          xs, ys, (0, max(xs) * 1.05), (0, max(ys) * 1.15), fit=(a, b))
    text((left + 8, top + 8), f"fit: {a:.2f} s + {b * 1000:.0f} ms × images", small, "lt", fill="#555555")

    # 2. model size
    sz = r["size"]
    xs, ys = [m["macs"] for m in sz], [m["cpu"] / m["images"] for m in sz]
    panel(1, f"against model size ({sz[0]['images']} images)", "MACs per image (log)", "CPU seconds per image (log)",
          xs, ys, (10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))),
          (10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys) * 3))), log_x=True, log_y=True,
          labels=[m["model"] for m in sz])

    # 3. shards: bars
    sh = r["shards"]
    x0 = left + 2 * (pw + gap)
    total = max(sh["shards"]["cpu"], sh["whole"]["cpu"]) * 1.2
    py = lambda v: s * (top + (1 - v / total) * ph)
    for v in nice_ticks(0, total):
        draw.line([(s * x0, py(v)), (s * (x0 + pw), py(v))], fill="#dddddd", width=s)
        text((x0 - 5, py(v) / s), fmt(v), small, "rm")
    draw.rectangle([s * x0, s * top, s * (x0 + pw), s * (top + ph)], outline="#333333", width=s)
    text((x0 + pw / 2, top - 16), f"{sh['model']}, {sh['images']} images: one run vs 4 shards", small, "mt")
    vertical("CPU seconds (user + sys)", x0 - 58, top)
    bw = 70
    bx = x0 + pw / 4 - bw / 2
    draw.rectangle([s * bx, py(sh["whole"]["cpu"]), s * (bx + bw), py(0)], fill="#1f77b4")
    text((bx + bw / 2, top + ph + 6), "one run", small, "mt")
    text((bx + bw / 2, py(sh["whole"]["cpu"]) / s - 4), f"{sh['whole']['cpu']:.2f} s", small, "mb")
    bx = x0 + 3 * pw / 4 - bw / 2
    base = 0.0
    shades = ["#ff7f0e", "#ffa54f", "#ff7f0e", "#ffa54f"]
    for k, c in enumerate(sh["shards"]["perShardCPU"]):
        draw.rectangle([s * bx, py(base + c), s * (bx + bw), py(base)], fill=shades[k], outline="white", width=s)
        text((bx + bw / 2, (py(base) + py(base + c)) / 2 / s), f"{k + 1}/4", small, "mm", fill="white")
        base += c
    text((bx + bw / 2, top + ph + 6), "4 shards, summed", small, "mt")
    text((bx + bw / 2, py(sh["shards"]["cpu"]) / s - 4), f"{sh['shards']['cpu']:.2f} s (×{sh['ratio']:.2f})", small, "mb")

    out = image.resize((width, height), Image.LANCZOS).quantize(colors=64)
    out.save(path + ".tmp.png", format="PNG", optimize=True)
    os.replace(path + ".tmp.png", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weakspot", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--image-model", default="tiny_mobilenet")
    parser.add_argument("--images", default="8,16,32,64")
    parser.add_argument("--size-models", default="tiny_concat,tiny_mobilenet,tiny_resnet,mobilenet_v3_small,mobilenet_v2,squeezenet1_1,resnet18")
    parser.add_argument("--size-images", type=int, default=2)
    parser.add_argument("--shard-model", default="tiny_mobilenet")
    parser.add_argument("--shard-images", type=int, default=32)
    parser.add_argument("--out", default="/tmp/cost_growth.json")
    parser.add_argument("--plot", default=None, help="PNG to draw (default: next to --out)")
    parser.add_argument("--replot", action="store_true", help="only draw the PNG from an existing --out")
    args = parser.parse_args()
    args.images = [int(x) for x in args.images.split(",")]
    args.size_models = args.size_models.split(",")
    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    if args.replot:
        with open(args.out) as f:
            write_plot(plot, json.load(f))
        print(f"plot: {plot}")
        return
    weakspot = find_weakspot(args.weakspot)
    with tempfile.TemporaryDirectory(prefix="ws-cost-") as work:
        result = measure(args, weakspot, work)
    save(args.out, result)
    write_plot(plot, result)
    print(f"figures: {args.out}\nplot: {plot}")


if __name__ == "__main__":
    main()
