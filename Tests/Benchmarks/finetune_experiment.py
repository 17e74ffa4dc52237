#!/usr/bin/env python3
"""Does `weakspot finetune` (distillation from the original) win back what pruning to 50% MACs lost?

Usage:
  python3 Tests/Benchmarks/finetune_experiment.py [--model Fixtures/demo/efficientnet_lite0.onnx]
          [--weakspot PATH] [--threads 2] [--budget 0.5] [--profile-count 48] [--train-count 384]
          [--val-count 64]
          [--heldout-count 192] [--epochs 6] [--adaptive] [--work DIR] [--reuse]
          [--out /tmp/finetune_experiment.json] [--plot docs/images/finetune-agreement.png]

Four seeded image sets, cut with compare_plan_criteria.py's code (random crops, flips and mild
brightness/contrast changes of scikit-image photographs, CHW float32 in [-1, 1], so weakspot and
ONNX Runtime read the same tensors and no preprocessing options are passed):

  profile   48 views of PROFILE_PHOTOS, seed 0 (compare_plan_criteria's profile set)
  train     --train-count views of PROFILE_PHOTOS, seed 2
  val       --val-count views of PROFILE_PHOTOS, seed 3 (finetune --val: the only figures that
            choose settings)
  held-out  --heldout-count views of HELDOUT_PHOTOS, seed 1 (compare_plan_criteria's held-out
            set: the judge, never used to choose anything)

No photograph is on both the training side (profile, train, val) and the held-out side.

Pipeline: `weakspot profile --items groups` on the profile set; for two start points, the
measured plan (`plan --target macs=F --data profile.npy`) and the global L1 plan (`--criterion
l1`), `weakspot prune`; held-out top-1 agreement with the ORIGINAL model and mean KL(original ||
model), computed here with ONNX Runtime; then `weakspot finetune PRUNED --data train.npy --teacher
ORIGINAL --val val.npy` and the same held-out figures for the tuned model.

Settings are searched on the measured start point only, by the finetune's own --val figures
(last epoch: highest top-1 agreement with the teacher, then lowest KL), in stages: learning rate
1e-3 against 3e-4 (Adam, cosine schedule, BatchNormalization in train mode, temperature 1), then
temperature 4 at the better rate, then BatchNormalization frozen with the best so far. The winner
is the measured model's result; the L1 start point is tuned once with the same settings. Held-out
figures are computed for every run and written out, but never read by the selection.

With --reuse, a groups.json in --work is reused when the profile.npy beside it equals the profile
set built here, and a finished finetune run is reused when its command and the SHA-256 of the
files it read (pruned model, train.npy, val.npy, teacher) are unchanged; its wall and CPU seconds
are those of the sitting that trained it. Held-out figures are always recomputed.

Writes every run's figures (held-out ones also per source photograph), histories and commands
(with wall and CPU seconds) as JSON to --out, prints tables, and draws held-out top-1 agreement and KL before/after fine-tuning, and the val
agreement per epoch of every run, as a PNG (Pillow only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_plan_criteria import (HELDOUT_PHOTOS, PROFILE_PHOTOS, REPO, ChartCanvas, build_set, compare,  # noqa: E402
                                   count_macs, find_binary, logits_of, run)

DEFAULT_MODEL = os.path.join(REPO, "Fixtures", "demo", "efficientnet_lite0.onnx")
SEEDS = {"profile": 0, "heldout": 1, "train": 2, "val": 3}
START_POINTS = [("measured", []), ("l1", ["--criterion", "l1"])]
COLOURS = {"measured": (214, 39, 40), "l1": (31, 119, 180)}


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], log: list[dict]) -> float:
    """compare_plan_criteria.run plus the child's CPU seconds in the log entry; returns wall seconds."""
    before = child_cpu()
    seconds = run(command, log)
    log[-1]["cpuSeconds"] = round(child_cpu() - before, 1)
    return seconds


def selection_key(history: dict) -> tuple[float, float]:
    """Larger is better: last-epoch val top-1 agreement with the teacher, then lower val KL."""
    last = history["epochs"][-1]["validation"]
    return (last["agreement"], -last["kl"])


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def per_photo(original: np.ndarray, model: np.ndarray, sources: list[str]) -> dict:
    """Held-out top-1 agreement and mean KL per source photograph: is a gain spread or one photo's?"""
    out = {}
    for name in dict.fromkeys(sources):
        rows = [i for i, s in enumerate(sources) if s == name]
        figures = compare(original[rows], model[rows])
        out[name] = {"top1Agreement": figures["top1Agreement"], "meanKL": figures["meanKL"], "images": len(rows)}
    return out


def settings_flags(s: dict, epochs: int, threads: int) -> list[str]:
    return ["--optimizer", "adam", "--lr", f"{s['lr']:g}", "--schedule", "cosine", "--bn", s["bn"],
            "--temperature", f"{s['temperature']:g}", "--epochs", str(epochs), "--batch", "32",
            "--seed", "0", "--threads", str(threads), "--quiet"]


def name_of(s: dict) -> str:
    return f"lr{s['lr']:g}_T{s['temperature']:g}_bn-{s['bn']}"


# ---------------------------------------------------------------------------------------------
# The plot


def write_plot(path: str, result: dict) -> None:
    """Three panels: held-out top-1 agreement before/after per start point (95% bars), held-out
    mean KL before/after (log scale), and val top-1 agreement per epoch of every finetune run.
    Drawn with Pillow at twice the size and scaled down, as compare_plan_criteria's chart."""
    s = 2
    panel_w, panel_h, left, gap, top, bottom, legend = 230, 300, 64, 80, 48, 66, 290
    width = left + 2 * panel_w + 330 + 2 * gap + legend
    height = top + panel_h + bottom
    canvas = ChartCanvas(width, height, s, panel_h, top)
    draw, small, normal, text, vertical_label = canvas.draw, canvas.small, canvas.normal, canvas.text, canvas.vertical_label

    def frame(x0: float, w: float, ticks: list[tuple[float, str]], py) -> None:
        for y, tick in ticks:
            draw.line([(s * x0, py(y)), (s * (x0 + w), py(y))], fill="#dddddd", width=s)
            text((x0 - 6, py(y) / s), tick, small, "rm")
        draw.rectangle([s * x0, s * top, s * (x0 + w), s * (top + panel_h)], outline="#333333", width=s)

    rows = result["startPoints"]
    text((width / 2, 12), f"{result['modelName']} pruned to {result['budget']:g} of its MACs, then distilled "
         f"from the original on {result['trainImages']} images", normal, "mt")

    # Panels 1 and 2: grouped bars, one group per start point, "pruned" then "fine-tuned".
    kls = [max(r[k]["meanKL"], 1e-3) for r in rows for k in ("before", "after")]
    k_lo, k_hi = np.floor(np.log10(min(kls))), np.ceil(np.log10(max(kls)))
    if k_hi <= k_lo:
        k_hi = k_lo + 1
    bar_panels = [
        (left, "held-out top-1 agreement with the original", lambda m: m["top1Agreement"], (0.0, 1.0),
         [(0.1 * i, f"{0.1 * i:.1f}") for i in range(11)], True),
        (left + panel_w + gap, "held-out mean KL(original || model)", lambda m: np.log10(max(m["meanKL"], 1e-3)),
         (k_lo, k_hi), [(e, f"1e{int(e)}") for e in np.arange(k_lo, k_hi + 0.5)], False),
    ]
    for x0, label, value, (y_lo, y_hi), ticks, bars in bar_panels:
        def py(y: float, y_lo=y_lo, y_hi=y_hi) -> float:
            return s * (top + (y_hi - y) / (y_hi - y_lo) * panel_h)

        frame(x0, panel_w, ticks, py)
        vertical_label(label, x0 - 60)
        group_w = panel_w / len(rows)
        for g, r in enumerate(rows):
            colour = COLOURS[r["criterion"]]
            light = tuple(int(c + (255 - c) * 0.6) for c in colour)
            for b, (key, fill) in enumerate((("before", light), ("after", colour))):
                bx0 = x0 + g * group_w + 14 + b * (group_w - 28) / 2
                bx1 = bx0 + (group_w - 28) / 2 - 4
                m = r[key]
                draw.rectangle([s * bx0, py(value(m)), s * bx1, py(y_lo)], fill=fill, outline=colour, width=s)
                if bars:
                    lo, hi = m["top1Agreement95"]
                    cx = s * (bx0 + bx1) / 2
                    draw.line([(cx, py(lo)), (cx, py(hi))], fill="#333333", width=s)
                text(((bx0 + bx1) / 2, top + panel_h + 6), "pruned" if key == "before" else "tuned", small, "mt")
            text((x0 + (g + 0.5) * group_w, top + panel_h + 24), r["criterion"] + " plan", small, "mt")

    # Panel 3: val top-1 agreement per epoch (epoch 0 = before training), one line per run.
    x0 = left + 2 * panel_w + 2 * gap
    w3 = 330
    runs = result["runs"]
    epochs = max(len(r["history"]["epochs"]) for r in runs)

    def px(e: float) -> float:
        return s * (x0 + e / epochs * w3)

    def py3(y: float) -> float:
        return s * (top + (1.0 - y) * panel_h)

    frame(x0, w3, [(0.1 * i, f"{0.1 * i:.1f}") for i in range(11)], py3)
    for e in range(epochs + 1):
        text((px(e) / s, top + panel_h + 6), str(e), small, "mt")
    text((x0 + w3 / 2, top + panel_h + 24), "epoch (val set, as finetune reports it)", small, "mt")
    vertical_label("val top-1 agreement with the teacher", x0 - 60)
    palette = [(214, 39, 40), (255, 127, 14), (148, 103, 189), (140, 86, 75), (31, 119, 180), (44, 160, 44)]
    for k, r in enumerate(runs):
        h = r["history"]
        ys = [h["before"]["agreement"]] + [e["validation"]["agreement"] for e in h["epochs"]]
        colour = palette[k % len(palette)]
        points = [(px(e), py3(y)) for e, y in enumerate(ys)]
        draw.line(points, fill=colour, width=(3 if r.get("chosen") else 1) * s, joint="curve")
        ly = top + 10 + 20 * k
        lx = x0 + w3 + 14
        draw.line([(s * lx, s * ly), (s * (lx + 20), s * ly)], fill=colour, width=(3 if r.get("chosen") else 1) * s)
        st = r["settings"]
        text((lx + 26, ly), f"{r['startPoint']}: lr {st['lr']:g}, T {st['temperature']:g}, BN {st['bn']}", small, "lm")
    text((x0 + w3 + 14, top + 16 + 20 * len(runs)), "thick: chosen on val", small, "lm", fill="#555555")
    canvas.save(path)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--weakspot", default=None, help="the weakspot binary (default: .build/release/weakspot, then PATH)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget", type=float, default=0.5, help="MACs kept by the plans")
    parser.add_argument("--profile-count", type=int, default=48)
    parser.add_argument("--train-count", type=int, default=384)
    parser.add_argument("--val-count", type=int, default=64)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--adaptive", action="store_true", help="profile with --adaptive (faster, less exact)")
    parser.add_argument("--work", default=None, help="folder for the image sets, report, plans and models")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse groups.json in --work when profile.npy there equals the profile set built here, and "
                             "finished finetune runs whose command and input files are unchanged (held-out figures are recomputed)")
    parser.add_argument("--out", default="/tmp/finetune_experiment.json")
    parser.add_argument("--plot", default=None, help="PNG to draw (default: next to --out)")
    args = parser.parse_args()

    assert not set(PROFILE_PHOTOS) & set(HELDOUT_PHOTOS), "a photograph on both sides"
    started, cpu0, child0 = time.time(), self_cpu(), child_cpu()
    binary = find_binary(args.weakspot)
    work = args.work or tempfile.mkdtemp(prefix="finetune_experiment_")
    os.makedirs(work, exist_ok=True)
    log: list[dict] = []
    path = {k: os.path.join(work, f"{k}.npy") for k in SEEDS}
    counts = {"profile": args.profile_count, "train": args.train_count, "val": args.val_count,
              "heldout": args.heldout_count}
    sets, sources = {}, {}
    for key, seed in SEEDS.items():
        photos = HELDOUT_PHOTOS if key == "heldout" else PROFILE_PHOTOS
        sets[key], sources[key] = build_set(photos, counts[key], seed)
    report = os.path.join(work, "groups.json")
    reused = (args.reuse and os.path.exists(report) and os.path.exists(path["profile"])
              and np.array_equal(np.load(path["profile"]), sets["profile"]))
    for key in SEEDS:
        np.save(path[key], sets[key])
    print("sets: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()) + f" ({work})", flush=True)

    if reused:
        print(f"reusing {report} (its profile set equals the one built here)", flush=True)
    else:
        command = [binary, "profile", args.model, "--data", path["profile"], "--items", "groups",
                   "--threads", str(args.threads), "--quiet", "-o", report]
        if args.adaptive:
            command.append("--adaptive")
        seconds = timed(command, log)
        print(f"profiled groups in {seconds:.0f} s", flush=True)
    with open(report) as f:
        meta = json.load(f)
    profile_info = {"reused": reused, "adaptive": meta["settings"].get("adaptive"),
                    "seconds": meta.get("timing", {}).get("seconds"), "items": meta.get("groupCount")}

    original_macs, original_params = count_macs(binary, args.model)
    original = {k: logits_of(args.model, sets[k], args.threads) for k in ("heldout", "val")}

    def judge(model: str) -> dict:
        figures = compare(original["heldout"], logits_of(model, sets["heldout"], args.threads))
        figures["val"] = compare(original["val"], logits_of(model, sets["val"], args.threads))
        figures["perPhoto"] = per_photo(original["heldout"], logits_of(model, sets["heldout"], args.threads),
                                        sources["heldout"])
        return figures

    starts = {}
    for criterion, flags in START_POINTS:
        stem = os.path.join(work, f"{criterion}_{args.budget:g}")
        timed([binary, "plan", args.model, report, "--target", f"macs={args.budget:g}", "--data", path["profile"],
               "--threads", str(args.threads), "--quiet", "-o", stem + ".plan.json", *flags], log)
        timed([binary, "prune", args.model, stem + ".plan.json", "-o", stem + ".onnx"], log)
        macs, params = count_macs(binary, stem + ".onnx")
        starts[criterion] = {"criterion": criterion, "model": stem + ".onnx", "macsKept": macs / original_macs,
                             "paramsKept": params / original_params, "before": judge(stem + ".onnx")}
        b = starts[criterion]["before"]
        print(f"{criterion} plan: MACs kept {macs / original_macs:.3f}; held-out top-1 agreement "
              f"{b['top1Agreement']:.3f}, KL {b['meanKL']:.3f}", flush=True)

    runs: list[dict] = []

    def finetune(criterion: str, settings: dict) -> dict:
        stem = os.path.join(work, f"{criterion}_{name_of(settings)}")
        command = [binary, "finetune", starts[criterion]["model"], "--data", path["train"], "--teacher", args.model,
                   "--val", path["val"], "--history", stem + ".history.json", "-o", stem + ".onnx",
                   *settings_flags(settings, args.epochs, args.threads)]
        # What the run read, so that --reuse takes a finished run only when nothing it depends on changed.
        inputs = {os.path.basename(p): sha256(p) for p in (starts[criterion]["model"], path["train"], path["val"], args.model)}
        sidecar = stem + ".run.json"
        previous = None
        if args.reuse and all(os.path.exists(p) for p in (sidecar, stem + ".onnx", stem + ".history.json")):
            with open(sidecar) as f:
                previous = json.load(f)
            if previous.get("command") != command or previous.get("inputs") != inputs:
                previous = None
        if previous:
            seconds, cpu = previous["seconds"], previous["cpuSeconds"]
        else:
            if os.path.exists(stem + ".onnx.checkpoint"):
                os.remove(stem + ".onnx.checkpoint")
            seconds = round(timed(command, log), 1)
            cpu = log[-1]["cpuSeconds"]
            with open(sidecar + ".tmp", "w") as f:
                json.dump({"command": command, "inputs": inputs, "seconds": seconds, "cpuSeconds": cpu}, f, indent=2)
            os.replace(sidecar + ".tmp", sidecar)
        with open(stem + ".history.json") as f:
            history = json.load(f)
        entry = {"startPoint": criterion, "name": name_of(settings), "settings": settings, "model": stem + ".onnx",
                 "reused": previous is not None, "seconds": seconds, "cpuSeconds": cpu, "history": history,
                 "heldout": judge(stem + ".onnx")}
        runs.append(entry)
        last = history["epochs"][-1]["validation"]
        print(f"  finetune {criterion} {entry['name']}{' (reused)' if previous else ''}: {seconds:.0f} s wall, {entry['cpuSeconds']:.0f} s CPU; "
              f"val agreement {history['before']['agreement']:.3f} -> {last['agreement']:.3f}, "
              f"KL {history['before']['kl']:.3f} -> {last['kl']:.3f}", flush=True)
        return entry

    # The search, on the measured start point, by val figures only.
    base = {"lr": 1e-3, "temperature": 1.0, "bn": "train"}
    stage1 = [finetune("measured", base), finetune("measured", {**base, "lr": 3e-4})]
    best = max(stage1, key=lambda r: selection_key(r["history"]))
    candidate = finetune("measured", {**best["settings"], "temperature": 4.0})
    best = max([best, candidate], key=lambda r: selection_key(r["history"]))
    candidate = finetune("measured", {**best["settings"], "bn": "frozen"})
    best = max([best, candidate], key=lambda r: selection_key(r["history"]))
    best["chosen"] = True
    chosen = best["settings"]
    print(f"chosen on val: {name_of(chosen)}", flush=True)
    l1_run = finetune("l1", chosen)
    l1_run["chosen"] = True
    for criterion, tuned in (("measured", best), ("l1", l1_run)):
        starts[criterion]["after"] = tuned["heldout"]
        starts[criterion]["tunedWith"] = tuned["name"]
        starts[criterion]["finetuneSeconds"] = tuned["seconds"]
        starts[criterion]["finetuneCpuSeconds"] = tuned["cpuSeconds"]

    print()
    print("| plan | MACs kept | model | held-out top-1 agreement (95%) | held-out mean KL | val top-1 (ORT) | val KL (ORT) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for r in starts.values():
        for key, label in (("before", "pruned"), ("after", f"+ finetune ({r['tunedWith']})")):
            m = r[key]
            lo, hi = m["top1Agreement95"]
            print(f"| {r['criterion']} | {r['macsKept']:.3f} | {label} | {m['top1Agreement']:.3f} ({lo:.2f}-{hi:.2f}) "
                  f"| {m['meanKL']:.3f} | {m['val']['top1Agreement']:.3f} | {m['val']['meanKL']:.3f} |")
    print()
    print("| held-out photograph | images | " + " | ".join(f"{c} pruned | {c} tuned" for c in starts) + " |")
    print("|---|---:|" + "---:|" * (2 * len(starts)))
    for name in HELDOUT_PHOTOS:
        cells = []
        for r in starts.values():
            for key in ("before", "after"):
                m = r[key]["perPhoto"][name]
                cells.append(f"{round(m['top1Agreement'] * m['images'])} ({m['meanKL']:.2f})")
        images = next(iter(starts.values()))["before"]["perPhoto"][name]["images"]
        print(f"| {name} | {images} | " + " | ".join(cells) + " |")
    print("(cells: images whose top-1 class is the original's, and mean KL)")
    print()
    print("| run | wall s | CPU s | val top-1 before -> last | val KL before -> last | held-out top-1 | held-out KL |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        h, last = r["history"], r["history"]["epochs"][-1]["validation"]
        print(f"| {r['startPoint']} {r['name']}{' (chosen)' if r.get('chosen') else ''} | {r['seconds']:.0f} | "
              f"{r['cpuSeconds']:.0f} | {h['before']['agreement']:.3f} -> {last['agreement']:.3f} | "
              f"{h['before']['kl']:.3f} -> {last['kl']:.3f} | {r['heldout']['top1Agreement']:.3f} | {r['heldout']['meanKL']:.3f} |")

    name = os.path.splitext(os.path.basename(args.model))[0]
    result = {"model": os.path.relpath(args.model, REPO) if args.model.startswith(REPO) else args.model,
              "modelName": "EfficientNet-Lite0" if name == "efficientnet_lite0" else name,
              "budget": args.budget, "originalMacs": original_macs, "originalParams": original_params,
              "profilePhotos": PROFILE_PHOTOS, "heldoutPhotos": HELDOUT_PHOTOS, "seeds": SEEDS,
              "profileImages": counts["profile"], "trainImages": counts["train"], "valImages": counts["val"],
              "heldoutImages": counts["heldout"], "epochs": args.epochs, "profile": profile_info,
              "heldoutDistinctOriginalClasses": len(set(original["heldout"].argmax(axis=1).tolist())),
              "chosenSettings": chosen, "startPoints": list(starts.values()), "runs": runs, "commands": log,
              "wallSeconds": round(time.time() - started, 1),
              "cpuSeconds": {"script": round(self_cpu() - cpu0, 1), "children": round(child_cpu() - child0, 1)},
              # Reused runs keep the figures of the sitting that trained them.
              "finetuneSeconds": round(sum(r["seconds"] for r in runs), 1),
              "finetuneCpuSeconds": round(sum(r["cpuSeconds"] for r in runs), 1)}
    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    write_plot(plot, result)
    result["plot"] = plot
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(args.out + ".tmp", args.out)
    print(f"\nfinetune runs: {result['finetuneSeconds']:.0f} s wall, {result['finetuneCpuSeconds']:.0f} s CPU "
          f"({sum(r['reused'] for r in runs)} of {len(runs)} reused from an earlier sitting)")
    print(f"{result['wallSeconds']:.0f} s wall; CPU {result['cpuSeconds']['script']:.0f} s (this script, ONNX Runtime) "
          f"+ {result['cpuSeconds']['children']:.0f} s (weakspot); wrote {args.out} and {plot}")


if __name__ == "__main__":
    main()
