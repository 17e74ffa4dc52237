#!/usr/bin/env python3
"""Follow-up to finetune_experiment.py: does distilling on mixed images transfer better?

Usage:
  python3 Tests/Benchmarks/finetune_mixup_followup.py --work /tmp/exp/work [--mixups 384 | --augment-mixup]
          [--epochs 6] [--weakspot PATH] [--threads 2] [--out FILE]

finetune_experiment.py found that distillation on 384 views of 7 photographs fits those
photographs and barely transfers to others. "Knowledge distillation: a good teacher is patient
and consistent" (Beyer et al., 2022) reports that distillation transfers better when the student
and teacher see mixup images: λ·a + (1−λ)·b, so that the student matches the teacher's function
between images, not only on them. `weakspot finetune` runs the teacher on exactly the student's
input, so a training set of mixed views is such "function matching", without new photographs.

One run, fixed beforehand: the measured start point (`measured_0.5.onnx` from the experiment's
--work), the settings the experiment chose on val (Adam, lr 3e-4, cosine, temperature 1, BN
frozen, batch 32, 6 epochs), and as --data the experiment's train.npy (384 views) followed by
--mixups images, each λ·a + (1−λ)·b of two views of two different training photographs, λ
uniform in [0, 1], seed 4 (views cut by compare_plan_criteria.random_view). The val and held-out
sets are the experiment's (val.npy, and the held-out set rebuilt with its seed). Judged as the
experiment judges: ONNX Runtime top-1 agreement with the original and mean KL, overall and per
held-out photograph.

--augment-mixup: instead of precomputed mixups, the 384 views alone with `weakspot finetune
--augment crop,flip,mixup`, which mixes every input with another one afresh each epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_plan_criteria import HELDOUT_PHOTOS, PROFILE_PHOTOS, build_set, compare, find_binary, load_photo, logits_of, random_view  # noqa: E402
from finetune_experiment import DEFAULT_MODEL, SEEDS, per_photo, settings_flags, timed  # noqa: E402

# The settings finetune_experiment.py chose on val (docs/finetune-experiment.md).
CHOSEN = {"lr": 3e-4, "temperature": 1.0, "bn": "frozen"}


def mixups(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    photos = [load_photo(n) for n in PROFILE_PHOTOS]
    out = []
    for _ in range(count):
        a, b = rng.choice(len(photos), size=2, replace=False)
        lam = rng.uniform(0.0, 1.0)
        out.append(lam * random_view(photos[a], rng) + (1 - lam) * random_view(photos[b], rng))
    return np.stack(out).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="finetune_experiment.py's --work folder")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--weakspot", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mixups", type=int, default=384)
    parser.add_argument("--augment-mixup", action="store_true", help="finetune --augment crop,flip,mixup on the plain views")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    binary = find_binary(args.weakspot)
    start = os.path.join(args.work, "measured_0.5.onnx")
    train = np.load(os.path.join(args.work, "train.npy"))
    if args.augment_mixup:
        data, data_path, augment = train, os.path.join(args.work, "train.npy"), "crop,flip,mixup"
        stem = os.path.join(args.work, f"measured_augment-mixup_e{args.epochs}")
    else:
        data = np.concatenate([train, mixups(args.mixups, seed=4)])
        data_path, augment = os.path.join(args.work, f"train_mixup{args.mixups}.npy"), "crop,flip"
        np.save(data_path, data)
        stem = os.path.join(args.work, f"measured_mixup{args.mixups}_e{args.epochs}")
    heldout, sources = build_set(HELDOUT_PHOTOS, args.heldout_count, SEEDS["heldout"])
    command = [binary, "finetune", start, "--data", data_path, "--teacher", args.model,
               "--val", os.path.join(args.work, "val.npy"), "--history", stem + ".history.json", "-o", stem + ".onnx",
               "--augment", augment, *settings_flags(CHOSEN, args.epochs, args.threads)]
    log: list[dict] = []
    print(f"training set: {len(data)} images; {' '.join(command)}", flush=True)
    seconds = timed(command, log)
    original = logits_of(args.model, heldout, args.threads)
    result = {"command": command, "seconds": round(seconds, 1), "cpuSeconds": log[-1].get("cpuSeconds"),
              "trainImages": len(data), "mixups": 0 if args.augment_mixup else args.mixups, "augment": augment,
              "epochs": args.epochs}
    for key, model in (("pruned", start), ("tuned", stem + ".onnx")):
        logits = logits_of(model, heldout, args.threads)
        result[key] = {**compare(original, logits), "perPhoto": per_photo(original, logits, sources)}
    with open(stem + ".history.json") as f:
        result["history"] = json.load(f)
    out = args.out or stem + ".json"
    with open(out + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(out + ".tmp", out)
    last = result["history"]["epochs"][-1]["validation"]
    print(f"{seconds:.0f} s wall; val agreement {result['history']['before']['agreement']:.3f} -> {last['agreement']:.3f}, "
          f"KL {result['history']['before']['kl']:.3f} -> {last['kl']:.3f}")
    for key in ("pruned", "tuned"):
        m = result[key]
        lo, hi = m["top1Agreement95"]
        cells = ", ".join(f"{n} {round(p['top1Agreement'] * p['images'])}/{p['images']} ({p['meanKL']:.2f})"
                          for n, p in m["perPhoto"].items())
        print(f"held-out {key}: top-1 agreement {m['top1Agreement']:.3f} ({lo:.2f}-{hi:.2f}), mean KL {m['meanKL']:.3f}; {cells}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
