#!/usr/bin/env python3
"""Measured-influence plans against L1-magnitude baselines on EfficientNet-Lite0, judged on held-out images.

Usage:
  python3 Tests/Benchmarks/compare_plan_criteria.py [--model Fixtures/demo/efficientnet_lite0.onnx]
          [--weakspot PATH] [--threads 2] [--profile-count 48] [--heldout-count 192]
          [--budgets 0.97,0.95,0.9,0.75,0.5] [--adaptive] [--work DIR] [--reuse]
          [--out /tmp/plan_criteria.json] [--plot docs/images/plan-criteria.png]

Two disjoint image sets are cut from DIFFERENT real photographs (scikit-image's bundled samples,
the same photographs as Fixtures/demo/images): a PROFILE set, on which `weakspot profile` measures
every prunable dependency group and `weakspot plan` verifies its plan, and a HELD-OUT set, on which
the pruned models are judged. Each image is a seeded random crop (area 25-100% of the photograph,
aspect 3/4-4/3), a horizontal flip with probability 1/2 and a mild brightness/contrast change,
resized to 224x224 with Pillow's bilinear filter and scaled as the `inception` preset does
((x/255 - 0.5) / 0.5), saved as float32 NCHW .npy so that weakspot and ONNX Runtime see exactly the
same tensors.

For each budget F and each criterion:
  measured  `weakspot plan MODEL groups.json --target macs=F --data PROFILE.npy`
  l1-global `... --criterion l1`            (one ranking of all channels by mean |w|)
  l1-uniform`... --criterion l1 --uniform`  (Li et al. 2017: the same fraction of every layer)
then `weakspot prune`, `weakspot count --format json`, and ONNX Runtime on the HELD-OUT set:
top-1 agreement with the original model (fraction of images with the same arg-max class), mean
KL(original || pruned) of the softmax outputs (natural log), and the MACs kept.

Prints a table, writes every figure and command as JSON to --out, and draws held-out top-1
agreement and mean KL against MACs kept for the three criteria as a PNG (drawn with Pillow: no
plotting library needed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_MODEL = os.path.join(REPO, "Fixtures", "demo", "efficientnet_lite0.onnx")
DEFAULT_BINARY = os.path.join(REPO, ".build", "release", "weakspot")

# Real photographs only (no synthetic patterns), split so no photograph feeds both sets. The
# profile set gets 7 photographs, the held-out set the other 10; colour and grey ones in both.
PROFILE_PHOTOS = ["coffee", "rocket", "hubble_deep_field", "retina", "camera", "coins", "gravel"]
HELDOUT_PHOTOS = ["chelsea", "astronaut", "stereo_motorcycle", "immunohistochemistry", "brick",
                  "cell", "clock", "grass", "moon", "page"]
CRITERIA = [("measured", []), ("l1-global", ["--criterion", "l1"]),
            ("l1-uniform", ["--criterion", "l1", "--uniform"])]
COLOURS = {"measured": (214, 39, 40), "l1-global": (31, 119, 180), "l1-uniform": (44, 160, 44)}


# ---------------------------------------------------------------------------------------------
# Image sets


def load_photo(name: str) -> Image.Image:
    import skimage.data as data

    array = getattr(data, name)()
    if isinstance(array, tuple):  # stereo_motorcycle: (left, right, disparity)
        array = array[0]
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise SystemExit(f"scikit-image sample {name!r} is not 8-bit")
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return Image.fromarray(np.ascontiguousarray(array[..., :3]), mode="RGB")


def random_view(photo: Image.Image, rng: np.random.Generator, size: int = 224) -> np.ndarray:
    """A random resized crop (area 25-100%, aspect 3/4-4/3), flip, mild jitter; CHW float32 in [-1, 1]."""
    width, height = photo.size
    for _ in range(20):
        area = width * height * rng.uniform(0.25, 1.0)
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        w = int(round(np.sqrt(area * aspect)))
        h = int(round(np.sqrt(area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            break
    else:
        w = h = min(width, height)
    left = int(rng.integers(0, width - w + 1))
    top = int(rng.integers(0, height - h + 1))
    view = photo.crop((left, top, left + w, top + h)).resize((size, size), Image.BILINEAR)
    if rng.random() < 0.5:
        view = view.transpose(Image.FLIP_LEFT_RIGHT)
    view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.8, 1.2))
    view = ImageEnhance.Contrast(view).enhance(rng.uniform(0.8, 1.2))
    x = np.asarray(view, dtype=np.float32) / 255.0
    x = (x - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def build_set(names: list[str], count: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """`count` views spread evenly over the photographs (round robin), seeded."""
    rng = np.random.default_rng(seed)
    photos = [load_photo(n) for n in names]
    views, sources = [], []
    for i in range(count):
        k = i % len(photos)
        views.append(random_view(photos[k], rng))
        sources.append(names[k])
    return np.stack(views).astype(np.float32), sources


# ---------------------------------------------------------------------------------------------
# weakspot


def find_binary(explicit: str | None) -> str:
    if explicit:
        found = explicit if os.path.exists(explicit) else shutil.which(explicit)
    else:
        found = DEFAULT_BINARY if os.path.exists(DEFAULT_BINARY) else shutil.which("weakspot")
    if not found:
        raise SystemExit("no weakspot binary: build with `swift build -c release --product weakspot` or pass --weakspot")
    return found


def run(command: list[str], log: list[dict]) -> float:
    """Runs a command, stops the script when it fails; returns its wall seconds."""
    start = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.time() - start
    log.append({"command": command, "exit": done.returncode, "seconds": round(seconds, 2),
                "stderrTail": done.stderr[-2000:]})
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return seconds


def count_macs(binary: str, model: str) -> tuple[int, int]:
    done = subprocess.run([binary, "count", model, "--format", "json"], capture_output=True, text=True, check=True)
    totals = json.loads(done.stdout)["totals"]
    return int(totals["macs"]), int(totals["params"])


# ---------------------------------------------------------------------------------------------
# ONNX Runtime evaluation


def logits_of(model: str, inputs: np.ndarray, threads: int, batch: int = 32) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    parts = [session.run(None, {name: inputs[i:i + batch]})[0] for i in range(0, len(inputs), batch)]
    return np.concatenate(parts).astype(np.float64)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def compare(original: np.ndarray, pruned: np.ndarray) -> dict:
    """Top-1 agreement and mean KL(original || pruned), per image then averaged."""
    agree = original.argmax(axis=1) == pruned.argmax(axis=1)
    lp, lq = log_softmax(original), log_softmax(pruned)
    kl = (np.exp(lp) * (lp - lq)).sum(axis=1)
    n = len(agree)
    # A 95% Wilson interval for the agreement: the held-out set is small.
    p, z = agree.mean(), 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"top1Agreement": float(p), "top1Agreement95": [float(centre - half), float(centre + half)],
            "meanKL": float(kl.mean()), "medianKL": float(np.median(kl)), "images": int(n)}


# ---------------------------------------------------------------------------------------------
# The plot


def font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def write_plot(path: str, rows: list[dict], original_macs: int, model_name: str) -> None:
    """Two panels against MACs kept, one line per criterion: held-out top-1 agreement (with 95%
    bars) and held-out mean KL (log scale). A PNG drawn with Pillow at twice the size and scaled
    down (smooth lines, no plotting library)."""
    s = 2  # supersampling
    panel_w, panel_h, left, gap, legend, top, bottom = 330, 330, 64, 78, 140, 48, 58
    width = left + panel_w + gap + panel_w + legend
    height = top + panel_h + bottom
    x_lo = min(0.4, np.floor(min(r["macsKept"] for r in rows) * 10) / 10)
    x_hi = 1.0
    kls = [max(r["meanKL"], 1e-4) for r in rows]
    k_lo, k_hi = np.floor(np.log10(min(kls))), np.ceil(np.log10(max(kls)))
    if k_hi <= k_lo:
        k_hi = k_lo + 1
    canvas = ChartCanvas(width, height, s, panel_h, top)
    draw, small, normal, text, vertical_label = canvas.draw, canvas.small, canvas.normal, canvas.text, canvas.vertical_label
    panels = [
        (left, "top-1 agreement with the original", lambda r: r["top1Agreement"], (0.0, 1.0),
         [(0.1 * i, f"{0.1 * i:.1f}") for i in range(11)], True),
        (left + panel_w + gap, "mean KL(original || pruned)", lambda r: np.log10(max(r["meanKL"], 1e-4)), (k_lo, k_hi),
         [(e, f"1e{int(e)}") for e in np.arange(k_lo, k_hi + 0.5)], False),
    ]
    text((width / 2, 12), f"{model_name}, pruned without fine-tuning, judged on held-out images", normal, "mt")
    for x0, name, value, (y_lo, y_hi), ticks, bars in panels:
        def px(x: float) -> float:
            return s * (x0 + (x - x_lo) / (x_hi - x_lo) * panel_w)

        def py(y: float) -> float:
            return s * (top + (y_hi - y) / (y_hi - y_lo) * panel_h)

        for i in range(int(round((x_hi - x_lo) / 0.1)) + 1):
            x = x_lo + 0.1 * i
            draw.line([(px(x), s * top), (px(x), s * (top + panel_h))], fill="#dddddd", width=s)
            text((px(x) / s, top + panel_h + 8), f"{x:.1f}", small, "mt")
        for y, tick in ticks:
            draw.line([(s * x0, py(y)), (s * (x0 + panel_w), py(y))], fill="#dddddd", width=s)
            text((x0 - 6, py(y) / s), tick, small, "rm")
        draw.rectangle([s * x0, s * top, s * (x0 + panel_w), s * (top + panel_h)], outline="#333333", width=s)
        text((x0 + panel_w / 2, top + panel_h + 30), f"MACs kept (fraction of {original_macs / 1e6:.0f} M)", small, "mt")
        vertical_label(name, x0 - (62 if bars else 60))
        for criterion, _ in CRITERIA:
            mine = sorted((r for r in rows if r["criterion"] == criterion), key=lambda r: r["macsKept"])
            colour = COLOURS[criterion]
            points = [(px(r["macsKept"]), py(value(r))) for r in mine]
            if len(points) > 1:
                draw.line(points, fill=colour, width=2 * s, joint="curve")
            for r, (x, y) in zip(mine, points):
                if bars:
                    lo, hi = r["top1Agreement95"]
                    draw.line([(x, py(lo)), (x, py(hi))], fill=colour, width=s)
                draw.ellipse([x - 4 * s, y - 4 * s, x + 4 * s, y + 4 * s], fill=colour)
    lx = left + panel_w + gap + panel_w + 14
    for k, (criterion, _) in enumerate(CRITERIA):
        ly = top + 14 + 22 * k
        draw.line([(s * lx, s * ly), (s * (lx + 24), s * ly)], fill=COLOURS[criterion], width=2 * s)
        text((lx + 30, ly), criterion, small, "lm")
    text((lx, top + 90), "bars: 95% Wilson", small, "lm", fill="#555555")
    text((lx, top + 106), "interval", small, "lm", fill="#555555")
    canvas.save(path)


class ChartCanvas:
    """A white chart drawn at `scale` times its size (smooth lines once scaled down), with the
    two fonts and text helpers both benchmark charts use (this one and finetune_experiment's).
    `panel_h` and `top` place rotated axis labels beside panels of that height."""

    def __init__(self, width: int, height: int, scale: int, panel_h: float, top: float) -> None:
        self.width, self.height, self.scale, self.panel_h, self.top = width, height, scale, panel_h, top
        self.image = Image.new("RGB", (width * scale, height * scale), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.small, self.normal = font(12 * scale), font(14 * scale)

    def text(self, xy, string, f, anchor, fill="black") -> None:
        self.draw.text((xy[0] * self.scale, xy[1] * self.scale), string, font=f, anchor=anchor, fill=fill)

    def vertical_label(self, string: str, x: float) -> None:
        s = self.scale
        label = Image.new("RGB", (self.panel_h * s, 18 * s), "white")
        ImageDraw.Draw(label).text((self.panel_h * s / 2, 9 * s), string, font=self.small, anchor="mm", fill="black")
        self.image.paste(label.rotate(90, expand=True), (int(x * s), self.top * s))

    def save(self, path: str) -> None:
        """Downsamples to the chart's size, 64 colours, written atomically."""
        image = self.image.resize((self.width, self.height), Image.LANCZOS).quantize(colors=64)
        image.save(path + ".tmp.png", format="PNG", optimize=True)
        os.replace(path + ".tmp.png", path)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--weakspot", default=None, help="the weakspot binary (default: .build/release/weakspot, then PATH)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile-count", type=int, default=48)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--budgets", default="0.97,0.95,0.9,0.75,0.5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adaptive", action="store_true", help="profile with --adaptive (faster, less exact)")
    parser.add_argument("--plan-args", default="", help="extra arguments for every `weakspot plan` (space-separated)")
    parser.add_argument("--work", default=None, help="folder for the image sets, report, plans and pruned models")
    parser.add_argument("--reuse", action="store_true", help="reuse image sets and groups.json already in --work")
    parser.add_argument("--out", default="/tmp/plan_criteria.json")
    parser.add_argument("--plot", default=None, help="PNG to draw (default: next to --out)")
    args = parser.parse_args()

    binary = find_binary(args.weakspot)
    work = args.work or tempfile.mkdtemp(prefix="plan_criteria_")
    os.makedirs(work, exist_ok=True)
    log: list[dict] = []
    profile_npy = os.path.join(work, "profile.npy")
    heldout_npy = os.path.join(work, "heldout.npy")
    report = os.path.join(work, "groups.json")

    if not (args.reuse and os.path.exists(profile_npy) and os.path.exists(heldout_npy)):
        profile, profile_sources = build_set(PROFILE_PHOTOS, args.profile_count, args.seed)
        heldout, heldout_sources = build_set(HELDOUT_PHOTOS, args.heldout_count, args.seed + 1)
        np.save(profile_npy, profile)
        np.save(heldout_npy, heldout)
    profile, heldout = np.load(profile_npy), np.load(heldout_npy)
    print(f"profile set: {len(profile)} views of {len(PROFILE_PHOTOS)} photographs; "
          f"held-out set: {len(heldout)} views of {len(HELDOUT_PHOTOS)} other photographs ({work})", flush=True)

    profile_seconds = None
    if not (args.reuse and os.path.exists(report)):
        command = [binary, "profile", args.model, "--data", profile_npy, "--items", "groups",
                   "--threads", str(args.threads), "--quiet", "-o", report]
        if args.adaptive:
            command.append("--adaptive")
        profile_seconds = run(command, log)
        print(f"profiled groups in {profile_seconds:.0f} s{' (--adaptive)' if args.adaptive else ''}", flush=True)

    original_macs, original_params = count_macs(binary, args.model)
    original_logits = logits_of(args.model, heldout, args.threads)
    original_profile_logits = logits_of(args.model, profile, args.threads)
    classes_heldout = len(set(original_logits.argmax(axis=1).tolist()))

    rows: list[dict] = []
    extra = args.plan_args.split() if args.plan_args else []
    for budget in [float(b) for b in args.budgets.split(",")]:
        for criterion, flags in CRITERIA:
            stem = os.path.join(work, f"{criterion}_{budget:g}")
            plan_seconds = run([binary, "plan", args.model, report, "--target", f"macs={budget:g}", "--data", profile_npy,
                                "--threads", str(args.threads), "--quiet", "-o", stem + ".plan.json", *flags, *extra], log)
            run([binary, "prune", args.model, stem + ".plan.json", "-o", stem + ".onnx"], log)
            macs, params = count_macs(binary, stem + ".onnx")
            with open(stem + ".plan.json") as f:
                plan = json.load(f)
            removed = sum(len(g.get("removed", [])) for g in plan.get("groups", []))
            row = {"budget": budget, "criterion": criterion, "macs": macs, "macsKept": macs / original_macs,
                   "params": params, "paramsKept": params / original_params, "channelsRemoved": removed,
                   "planSeconds": round(plan_seconds, 1), "planMeasuredOnProfile": plan.get("measured"),
                   "planPredicted": plan.get("predicted"),
                   # Where the plan cut: channels kept per Conv/Gemm, for reading why a plan fails.
                   "channelsKept": {l["name"]: [l["channelsAfter"], l["channelsBefore"]] for l in plan.get("layers", [])
                                    if l.get("op") in ("Conv", "Gemm", "MatMul")},
                   **compare(original_logits, logits_of(stem + ".onnx", heldout, args.threads))}
            row["profileSet"] = compare(original_profile_logits, logits_of(stem + ".onnx", profile, args.threads))
            rows.append(row)
            print(f"  F={budget:<5g} {criterion:<10} MACs kept {row['macsKept']:.3f}  "
                  f"held-out top-1 agreement {row['top1Agreement']:.3f}  KL {row['meanKL']:.4f}", flush=True)

    print()
    print(f"| budget | criterion | MACs kept | held-out top-1 agreement (95%) | held-out mean KL | profile-set top-1 |")
    print(f"|---|---|---:|---:|---:|---:|")
    for r in rows:
        lo, hi = r["top1Agreement95"]
        print(f"| {r['budget']:g} | {r['criterion']} | {r['macsKept']:.3f} | {r['top1Agreement']:.3f} ({lo:.2f}-{hi:.2f}) "
              f"| {r['meanKL']:.4f} | {r['profileSet']['top1Agreement']:.3f} |")

    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    name = os.path.splitext(os.path.basename(args.model))[0]
    write_plot(plot, rows, original_macs, "EfficientNet-Lite0" if name == "efficientnet_lite0" else name)
    result = {"model": os.path.relpath(args.model, REPO) if args.model.startswith(REPO) else args.model,
              "originalMacs": original_macs, "originalParams": original_params,
              "profilePhotos": PROFILE_PHOTOS, "heldoutPhotos": HELDOUT_PHOTOS,
              "profileImages": int(len(profile)), "heldoutImages": int(len(heldout)),
              "heldoutDistinctOriginalClasses": classes_heldout,
              "adaptive": args.adaptive, "profileSeconds": profile_seconds, "seed": args.seed,
              "rows": rows, "commands": log, "plot": plot}
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(args.out + ".tmp", args.out)
    print(f"\nwrote {args.out} and {plot}")


if __name__ == "__main__":
    main()
