#!/usr/bin/env python3
"""Does re-estimating BatchNormalization statistics after pruning (`weakspot prune --recalibrate N`)
keep pretrained models closer to the original than the raw pruned model, before any fine-tuning?

Usage:
  python3 Tests/Benchmarks/recalibration_experiment.py [--weakspot PATH]
          [--models Fixtures/demo/efficientnet_lite0.onnx,Fixtures/models/mobilenet_v2_trained.onnx]
          [--budgets 0.75,0.5] [--plans l1,l2,bn,l1-uniform] [--recalibrate 64,16]
          [--calib-count 64] [--heldout-count 192] [--same-count 64] [--profile-count 8] [--measured]
          [--question-budgets 0.75,0.5] [--recal-batch B] [--adaptive]
          [--threads 2] [--work DIR] [--reuse] [--out /tmp/recalibration.json]
          [--plot docs/images/recalibration-agreement.png]

Image sets are cut with compare_plan_criteria.py's code (seeded random crops, flips and mild
brightness/contrast changes of scikit-image photographs, 224x224, CHW float32 scaled as
(x/255 - 0.5) / 0.5, which is both models' preprocessing, so no preprocessing options are passed):

  calib     --calib-count views of PROFILE_PHOTOS, seed 0 (its first 48 are compare_plan_criteria's
            profile set). `prune --recalibrate N` reads its first N views; the planner's groups
            report is profiled on its first --profile-count views.
  held-out  --heldout-count views of HELDOUT_PHOTOS, seed 1 (compare_plan_criteria's held-out set):
            the judge. No photograph is in both sets (asserted).

For every model, budget (macs=F) and plan (`weakspot plan MODEL groups.json --target macs=F` with
--criterion l1 / l2 / bn, l1 with --uniform, and with --measured the measured criterion), the plan
is pruned twice or more: raw (`weakspot prune MODEL PLAN -o raw.onnx`) and recalibrated
(`weakspot prune MODEL PLAN -o recalN.onnx --recalibrate N --data calib.npy`) for each N in
--recalibrate. ONNX Runtime then runs the original and every pruned model on the held-out set:
top-1 agreement with the original and mean KL(original || pruned) (natural log), per pair of the
same plan, and the paired difference recalibrated - raw. Over the (model, budget, plan) pairs:
the count of pairs where recalibration wins / loses / ties, an exact two-sided sign test, and a
95% bootstrap interval of the mean difference (pairs resampled, 20,000 draws, seed 0). Within a
pair, a 95% bootstrap interval over held-out images of the agreement difference shows whether
that pair's difference exceeds held-out sampling noise. Control: each model UNPRUNED (a plan with
no groups) recalibrated the same way, judged against itself: what the recalibration alone costs.
Every model is also judged on --same-count NEW views (seed 5) of the calibration photographs: the
distribution the recalibration saw, as opposed to the held-out photographs.

The planner's groups report only supplies the candidate groups for the estimator criteria (their
order comes from the weights), so it is profiled on a few inputs; it is cached in --work per
model and reused with --reuse when the profile inputs are unchanged.

Writes every figure and command (with wall seconds) as JSON to --out, prints tables in Markdown,
and draws recalibrated against raw held-out agreement and KL (one point per pair) as a PNG
(Pillow only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_plan_criteria import (HELDOUT_PHOTOS, PROFILE_PHOTOS, REPO, ChartCanvas, build_set, compare,  # noqa: E402
                                   count_macs, find_binary, log_softmax, logits_of, run)

DEFAULT_MODELS = [os.path.join(REPO, "Fixtures", "demo", "efficientnet_lite0.onnx"),
                  os.path.join(REPO, "Fixtures", "models", "mobilenet_v2_trained.onnx")]
SEEDS = {"calib": 0, "heldout": 1, "samePhotos": 5}
PLANS = {"l1": ["--criterion", "l1"], "l2": ["--criterion", "l2"], "bn": ["--criterion", "bn"],
         "l1-uniform": ["--criterion", "l1", "--uniform"], "measured": ["--criterion", "measured"],
         "taylor": ["--criterion", "taylor"]}
DATA_PLANS = {"measured", "taylor"}  # criteria that read `plan --data` (the profile views)
MODEL_COLOURS = [(214, 39, 40), (31, 119, 180), (44, 160, 44), (148, 103, 189)]


def sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def per_image(original: np.ndarray, pruned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per held-out image: same top-1 class (bool) and KL(original || pruned)."""
    agree = original.argmax(axis=1) == pruned.argmax(axis=1)
    lp, lq = log_softmax(original), log_softmax(pruned)
    return agree, (np.exp(lp) * (lp - lq)).sum(axis=1)


def sign_test(differences: list[float], tolerance: float = 0.0) -> dict:
    """Exact two-sided sign test (ties dropped)."""
    wins = sum(d > tolerance for d in differences)
    losses = sum(d < -tolerance for d in differences)
    n = wins + losses
    k = min(wins, losses)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
    return {"wins": wins, "losses": losses, "ties": len(differences) - n, "p": p}


def bootstrap_mean(values: np.ndarray, draws: int = 20000, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=np.float64)
    means = values[rng.integers(0, len(values), size=(draws, len(values)))].mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def cached_run(command: list[str], output: str, key: dict, reuse: bool, log: list[dict]) -> tuple[float, bool]:
    """Runs `command` unless --reuse and `output` was written by the same command from the same
    inputs (`key`: hashes of what it read), as recorded in `output`.run.json. Returns (wall seconds
    of the run that wrote it, reused)."""
    sidecar = output + ".run.json"
    record = {"command": command, "key": key}
    if reuse and os.path.exists(output) and os.path.exists(sidecar):
        with open(sidecar) as f:
            previous = json.load(f)
        if {k: previous.get(k) for k in record} == record:
            return previous["seconds"], True
    seconds = round(run(command, log), 1)
    with open(sidecar + ".tmp", "w") as f:
        json.dump({**record, "seconds": seconds}, f, indent=2)
    os.replace(sidecar + ".tmp", sidecar)
    return seconds, False


def summarise(rows: list[dict], n: str) -> dict:
    """Paired differences over (model, budget, plan) pairs, recalibrated on n against raw."""
    d_agree = [r["recalibrated"][n]["top1Agreement"] - r["raw"]["top1Agreement"] for r in rows]
    d_kl = [r["raw"]["meanKL"] - r["recalibrated"][n]["meanKL"] for r in rows]  # positive: recalibrated better
    d_logkl = [math.log(r["raw"]["meanKL"] / r["recalibrated"][n]["meanKL"]) for r in rows]
    d_same = [r["recalibrated"][n]["samePhotos"]["top1Agreement"] - r["raw"]["samePhotos"]["top1Agreement"] for r in rows]
    return {
        "pairs": len(rows),
        "agreement": {"meanDiff": float(np.mean(d_agree)), "bootstrap95": bootstrap_mean(np.array(d_agree)),
                      "signTest": sign_test(d_agree)},
        "kl": {"meanReduction": float(np.mean(d_kl)), "bootstrap95": bootstrap_mean(np.array(d_kl)),
               "signTest": sign_test(d_kl)},
        "klRatio": {"geometricMeanRawOverRecal": float(np.exp(np.mean(d_logkl))),
                    "bootstrap95": [float(np.exp(v)) for v in bootstrap_mean(np.array(d_logkl))]},
        "samePhotosAgreement": {"meanDiff": float(np.mean(d_same)), "bootstrap95": bootstrap_mean(np.array(d_same)),
                                "signTest": sign_test(d_same)},
    }


def groups_report(binary: str, model: str, profile_npy: str, profile_views: np.ndarray, mwork: str, adaptive: bool,
                  threads: int, reuse: bool, log: list[dict], measure: bool = True) -> tuple[str, dict, float | None]:
    """`weakspot profile MODEL --data PROFILE --items groups` into MWORK/groups.json, reused with
    --reuse when the model, the profile views and --adaptive are unchanged (MWORK/groups.json.key.json).
    With measure=False, `--measure none --estimators l1`: the groups and their L1 scores only, in
    seconds, enough for the estimator criteria (l1, l2, bn, taylor) but not for `measured`.
    Returns (report path, key, profile wall seconds or None when reused)."""
    report = os.path.join(mwork, "groups.json")
    key = {"model": sha256_file(model), "profile": sha256_array(profile_views), "adaptive": adaptive}
    if not measure:
        key["measure"] = "none"
    keyfile = report + ".key.json"
    if reuse and os.path.exists(report) and os.path.exists(keyfile):
        with open(keyfile) as f:
            if json.load(f) == key:
                print(f"{os.path.basename(mwork)}: reusing {report}", flush=True)
                return report, key, None
    command = [binary, "profile", model, "--data", profile_npy, "--items", "groups",
               "--threads", str(threads), "--quiet", "-o", report]
    if adaptive:
        command.append("--adaptive")
    if not measure:
        command += ["--measure", "none", "--estimators", "l1"]
    seconds = round(run(command, log), 1)
    with open(keyfile, "w") as f:
        json.dump(key, f)
    print(f"{os.path.basename(mwork)}: profiled groups on {len(profile_views)} inputs in {seconds:.0f} s", flush=True)
    return report, key, seconds


def make_plan(binary: str, model: str, report: str, budget: float, plan_name: str, profile_npy: str, stem: str,
              plan_key: dict, threads: int, reuse: bool, log: list[dict]) -> float:
    """`weakspot plan MODEL REPORT --target macs=BUDGET` with PLANS[plan_name] into STEM.plan.json
    (cached by cached_run); the measured and taylor criteria read the profile views as --data."""
    command = [binary, "plan", model, report, "--target", f"macs={budget:g}",
               "--threads", str(threads), "--quiet", "-o", stem + ".plan.json", *PLANS[plan_name]]
    if plan_name in DATA_PLANS:
        command += ["--data", profile_npy]
    seconds, _ = cached_run(command, stem + ".plan.json", plan_key, reuse, log)
    return seconds


def prune_and_judge(binary, model, plan, out, extra, log, original, heldout, threads, macs0, key, reuse, same=None):
    seconds, _ = cached_run([binary, "prune", model, plan, "-o", out, *extra], out, {**key, "plan": sha256_file(plan)},
                            reuse, log)
    macs, params = count_macs(binary, out)
    logits = logits_of(out, heldout, threads)
    agree, kl = per_image(original, logits)
    figures = compare(original, logits)
    figures.update({"macsKept": macs / macs0, "pruneSeconds": round(seconds, 1)})
    if same is not None:  # (original logits, inputs): new views of the calibration photographs
        figures["samePhotos"] = compare(same[0], logits_of(out, same[1], threads))
    return figures, agree, kl


# ---------------------------------------------------------------------------------------------
# The plot


def write_plot(path: str, rows: list[dict], models: list[str], budgets: list[float], n_main: int) -> None:
    """Two scatter panels, one point per (model, budget, plan): recalibrated (y) against raw (x)
    held-out top-1 agreement, and the same for mean KL (log axes). Points above the diagonal of
    the left panel / below the diagonal of the right one are pairs where recalibration helped.
    Colour: model; marker: budget (filled circle, hollow square, hollow triangle in --budgets order)."""
    s = 2
    panel, left, gap, top, bottom, legend = 300, 66, 86, 48, 62, 250
    width = left + panel + gap + panel + legend
    height = top + panel + bottom
    canvas = ChartCanvas(width, height, s, panel, top)
    draw, small, normal, text = canvas.draw, canvas.small, canvas.normal, canvas.text
    text((width / 2, 12), f"Pruned without fine-tuning: raw vs BN-recalibrated on {n_main} calibration images "
         f"(held-out images)", normal, "mt")
    kls = [max(r[k]["meanKL"], 1e-3) for r in rows for k in ("raw", "recal")]
    k_lo, k_hi = math.floor(math.log10(min(kls))), math.ceil(math.log10(max(kls)))
    if k_hi <= k_lo:
        k_hi = k_lo + 1
    a_lo = max(0.0, min(0.9, math.floor((min(min(r["raw"]["top1Agreement"], r["recal"]["top1Agreement"]) for r in rows) - 0.02) * 10) / 10))
    panels = [
        (left, "top-1 agreement", lambda m: m["top1Agreement"], (a_lo, 1.0),
         [(a_lo + 0.1 * i, f"{a_lo + 0.1 * i:.1f}") for i in range(int(round((1.0 - a_lo) * 10)) + 1)]),
        (left + panel + gap, "mean KL(original || pruned)", lambda m: math.log10(max(m["meanKL"], 1e-3)),
         (k_lo, k_hi), [(e, f"1e{e}") for e in range(k_lo, k_hi + 1)]),
    ]
    def marker(kind: int, x: float, y: float, colour) -> None:
        rr = 4.5 * s
        if kind == 0:
            draw.ellipse([x - rr, y - rr, x + rr, y + rr], fill=colour)
        elif kind == 1:
            draw.rectangle([x - rr, y - rr, x + rr, y + rr], outline=colour, width=2 * s)
        else:
            draw.polygon([(x, y - rr), (x - rr, y + rr), (x + rr, y + rr)], outline=colour, width=2 * s)

    for x0, name, value, (lo, hi), ticks in panels:
        def pos(v: float, x0=x0, lo=lo, hi=hi) -> tuple[float, float]:
            return s * (x0 + (v - lo) / (hi - lo) * panel), s * (top + (hi - v) / (hi - lo) * panel)

        for v, tick in ticks:
            x, _ = pos(v)
            _, y = pos(v)
            draw.line([(x, s * top), (x, s * (top + panel))], fill="#dddddd", width=s)
            draw.line([(s * x0, y), (s * (x0 + panel), y)], fill="#dddddd", width=s)
            text((x / s, top + panel + 8), tick, small, "mt")
            text((x0 - 6, y / s), tick, small, "rm")
        draw.line([pos(lo), pos(hi)], fill="#888888", width=s)
        draw.rectangle([s * x0, s * top, s * (x0 + panel), s * (top + panel)], outline="#333333", width=s)
        text((x0 + panel / 2, top + panel + 28), f"{name}: raw pruned", small, "mt")
        canvas.vertical_label(f"{name}: recalibrated", x0 - 62)
        for r in rows:
            colour = MODEL_COLOURS[models.index(r["model"]) % len(MODEL_COLOURS)]
            x, _ = pos(value(r["raw"]))
            _, y = pos(value(r["recal"]))
            marker(min(budgets.index(r["budget"]), 2), x, y, colour)
    lx = left + 2 * panel + gap + 18
    for k, m in enumerate(models):
        ly = top + 10 + 20 * k
        c = MODEL_COLOURS[k % len(MODEL_COLOURS)]
        draw.ellipse([s * (lx + 4), s * (ly - 4), s * (lx + 12), s * (ly + 4)], fill=c)
        text((lx + 20, ly), m, small, "lm")
    ly = top + 20 + 20 * len(models)
    for k, b in enumerate(budgets):
        y = ly + 20 * k
        marker(min(k, 2), s * (lx + 8), s * y, "#555555")
        text((lx + 20, y), f"macs={b:g}", small, "lm")
    y = ly + 20 * len(budgets) + 14
    text((lx, y), "left panel: above the diagonal,", small, "lm", fill="#555555")
    text((lx, y + 16), "right panel: below it =", small, "lm", fill="#555555")
    text((lx, y + 32), "recalibration helped", small, "lm", fill="#555555")
    canvas.save(path)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weakspot", default=None, help="the weakspot binary (default: .build/release/weakspot, then PATH)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--budgets", default="0.75,0.5")
    parser.add_argument("--question-budgets", default="0.75,0.5", help="budgets the summary is also given for alone")
    parser.add_argument("--plans", default="l1,l2,bn,l1-uniform", help=f"comma-separated, of {', '.join(PLANS)}")
    parser.add_argument("--measured", action="store_true", help="add the measured criterion (needs a real groups profile)")
    parser.add_argument("--size", type=int, default=224, help="input side of every model (240 for EfficientNet-Lite1)")
    parser.add_argument("--estimators-only", action="store_true",
                        help="profile the groups with --measure none (seconds; enough for l1, l2, bn, l1-uniform, not --measured)")
    parser.add_argument("--recalibrate", default="64,16", help="N values for prune --recalibrate; the first is the main comparison")
    parser.add_argument("--recal-batch", type=int, default=None, help="prune --batch for recalibration (default: weakspot's)")
    parser.add_argument("--recalibration", default=None, choices=["estimate", "match"],
                        help="prune --recalibration (default: weakspot's choice for the model)")
    parser.add_argument("--calib-count", type=int, default=64)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--same-count", type=int, default=64,
                        help="new views (seed 5) of the CALIBRATION photographs, judged too: in-distribution for the recalibration")
    parser.add_argument("--profile-count", type=int, default=8, help="calibration views the groups report is profiled on")
    parser.add_argument("--adaptive", action="store_true", help="profile with --adaptive")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the groups report, plans and pruned models in --work when made by the same commands "
                             "from the same files (held-out figures are always recomputed)")
    parser.add_argument("--out", default="/tmp/recalibration.json")
    parser.add_argument("--plot", default=None, help="PNG (default: next to --out)")
    args = parser.parse_args()

    assert not set(PROFILE_PHOTOS) & set(HELDOUT_PHOTOS), "a photograph on both sides"
    started = time.time()
    binary = find_binary(args.weakspot)
    work = args.work or tempfile.mkdtemp(prefix="recalibration_")
    os.makedirs(work, exist_ok=True)
    log: list[dict] = []
    models = [m if os.path.isabs(m) else os.path.join(REPO, m) for m in args.models.split(",")]
    budgets = [float(b) for b in args.budgets.split(",")]
    plans = args.plans.split(",") + (["measured"] if args.measured and "measured" not in args.plans else [])
    ns = [int(n) for n in args.recalibrate.split(",")]
    assert max(ns) <= args.calib_count, "--recalibrate N beyond --calib-count"

    calib, calib_sources = build_set(PROFILE_PHOTOS, args.calib_count, SEEDS["calib"])
    heldout, heldout_sources = build_set(HELDOUT_PHOTOS, args.heldout_count, SEEDS["heldout"])
    same_views, _ = build_set(PROFILE_PHOTOS, args.same_count, SEEDS["samePhotos"])
    if args.size != 224:
        # The same draws resized to the models' input size (EfficientNet-Lite1: 240).
        from quantization_benchmark import build_set as build_sized_set
        calib = build_sized_set(PROFILE_PHOTOS, args.calib_count, SEEDS["calib"], args.size)
        heldout = build_sized_set(HELDOUT_PHOTOS, args.heldout_count, SEEDS["heldout"], args.size)
        same_views = build_sized_set(PROFILE_PHOTOS, args.same_count, SEEDS["samePhotos"], args.size)
    calib_npy, heldout_npy = os.path.join(work, "calib.npy"), os.path.join(work, "heldout.npy")
    profile_npy = os.path.join(work, "profile.npy")
    np.save(calib_npy, calib)
    np.save(heldout_npy, heldout)
    np.save(profile_npy, calib[:args.profile_count])
    print(f"calib: {len(calib)} views of {len(PROFILE_PHOTOS)} photographs; held-out: {len(heldout)} views of "
          f"{len(HELDOUT_PHOTOS)} other photographs ({work})", flush=True)

    rows: list[dict] = []
    model_info = {}
    for model in models:
        stem_name = os.path.splitext(os.path.basename(model))[0]
        mwork = os.path.join(work, stem_name)
        os.makedirs(mwork, exist_ok=True)
        report, key, profile_seconds = groups_report(binary, model, profile_npy, calib[:args.profile_count], mwork,
                                                     args.adaptive, args.threads, args.reuse, log,
                                                     measure=not args.estimators_only)
        macs0, params0 = count_macs(binary, model)
        original = logits_of(model, heldout, args.threads)
        same = (logits_of(model, same_views, args.threads), same_views)
        model_info[stem_name] = {"path": os.path.relpath(model, REPO) if model.startswith(REPO) else model,
                                 "macs": macs0, "params": params0, "profileSeconds": profile_seconds,
                                 "heldoutDistinctOriginalClasses": len(set(original.argmax(axis=1).tolist()))}
        for budget in budgets:
            for plan_name in plans:
                stem = os.path.join(mwork, f"{plan_name}_{budget:g}")
                plan_key = {**key, "report": sha256_file(report), "calib": sha256_array(calib),
                            "binary": sha256_file(binary)}
                plan_seconds = make_plan(binary, model, report, budget, plan_name, profile_npy, stem, plan_key,
                                         args.threads, args.reuse, log)
                row = {"model": stem_name, "budget": budget, "plan": plan_name, "planSeconds": round(plan_seconds, 1)}
                raw, raw_agree, raw_kl = prune_and_judge(binary, model, stem + ".plan.json", stem + ".raw.onnx", [],
                                                         log, original, heldout, args.threads, macs0, plan_key, args.reuse, same)
                row["raw"] = raw
                row["recalibrated"] = {}
                for n in ns:
                    extra = ["--recalibrate", str(n), "--data", calib_npy]
                    if args.recal_batch:
                        extra += ["--batch", str(args.recal_batch)]
                    if args.recalibration:
                        extra += ["--recalibration", args.recalibration]
                    rec, rec_agree, rec_kl = prune_and_judge(binary, model, stem + ".plan.json", stem + f".recal{n}.onnx",
                                                             extra, log, original, heldout, args.threads, macs0,
                                                             plan_key, args.reuse, same)
                    # Held-out sampling noise of this pair's agreement difference: images resampled, paired.
                    rng = np.random.default_rng(0)
                    idx = rng.integers(0, len(heldout), size=(5000, len(heldout)))
                    diffs = rec_agree[idx].mean(axis=1) - raw_agree[idx].mean(axis=1)
                    rec["agreementDiff95OverImages"] = [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))]
                    rec["imagesFixed"] = int((rec_agree & ~raw_agree).sum())
                    rec["imagesBroken"] = int((~rec_agree & raw_agree).sum())
                    rec["imagesKLLower"] = int((rec_kl < raw_kl).sum())
                    row["recalibrated"][str(n)] = rec
                rows.append(row)
                r0 = row["recalibrated"][str(ns[0])]
                print(f"  {stem_name} macs={budget:g} {plan_name:<10} kept {raw['macsKept']:.3f}: raw agreement "
                      f"{raw['top1Agreement']:.3f} KL {raw['meanKL']:.3f} | recal{ns[0]} {r0['top1Agreement']:.3f} "
                      f"KL {r0['meanKL']:.3f}" + "".join(f" | recal{n} {row['recalibrated'][str(n)]['top1Agreement']:.3f} "
                                                          f"KL {row['recalibrated'][str(n)]['meanKL']:.3f}" for n in ns[1:]),
                      flush=True)

        # Control: the UNPRUNED model recalibrated the same way (a plan that removes nothing). What
        # recalibration on these few photographs costs by itself, with no pruning to repair.
        first_plan = os.path.join(mwork, f"{plans[0]}_{budgets[0]:g}.plan.json")
        with open(first_plan) as f:
            empty = json.load(f)
        empty.update({"groups": [], "layers": [], "removedGroups": 0})
        empty_plan = os.path.join(mwork, "empty.plan.json")
        with open(empty_plan, "w") as f:
            json.dump(empty, f, indent=2)
        control = {}
        for n in ns:
            extra = ["--recalibrate", str(n), "--data", calib_npy] + (["--batch", str(args.recal_batch)] if args.recal_batch else []) \
                + (["--recalibration", args.recalibration] if args.recalibration else [])
            figures, _, _ = prune_and_judge(binary, model, empty_plan, os.path.join(mwork, f"unpruned.recal{n}.onnx"), extra,
                                            log, original, heldout, args.threads, macs0,
                                            {**key, "calib": sha256_array(calib), "binary": sha256_file(binary)}, args.reuse, same)
            control[str(n)] = figures
            print(f"  {stem_name} unpruned, recalibrated on {n}: agreement {figures['top1Agreement']:.3f} "
                  f"KL {figures['meanKL']:.4f}; on new views of the calibration photographs "
                  f"{figures['samePhotos']['top1Agreement']:.3f} KL {figures['samePhotos']['meanKL']:.4f}", flush=True)
        model_info[stem_name]["unprunedRecalibrated"] = control

    # Summary over pairs.
    # The question's budgets (--question-budgets) and every budget run, separately.
    question = [float(b) for b in args.question_budgets.split(",")]
    subsets = {"question budgets " + ",".join(f"{b:g}" for b in question): [r for r in rows if r["budget"] in question]}
    if any(r["budget"] not in question for r in rows):
        subsets["all budgets"] = rows
    summary = {f"N={n}, {label}": summarise(subset, str(n)) for n in ns for label, subset in subsets.items() if subset}

    print()
    head = "| model | budget | plan | MACs kept | raw agreement | raw KL |"
    sep = "|---|---|---|---:|---:|---:|"
    for n in ns:
        head += f" recal{n} agreement | recal{n} KL | Δ agreement (95% over images) | KL raw/recal{n} |"
        sep += "---:|---:|---:|---:|"
    print(head)
    print(sep)
    for r in rows:
        line = (f"| {r['model']} | {r['budget']:g} | {r['plan']} | {r['raw']['macsKept']:.3f} | "
                f"{r['raw']['top1Agreement']:.3f} | {r['raw']['meanKL']:.3f} |")
        for n in ns:
            m = r["recalibrated"][str(n)]
            lo, hi = m["agreementDiff95OverImages"]
            line += (f" {m['top1Agreement']:.3f} | {m['meanKL']:.3f} | {m['top1Agreement'] - r['raw']['top1Agreement']:+.3f} "
                     f"({lo:+.3f}, {hi:+.3f}) | {r['raw']['meanKL'] / m['meanKL']:.2f} |")
        print(line)
    print()
    print(f"Same plans judged on {len(same_views)} NEW views of the calibration photographs (seed {SEEDS['samePhotos']}):")
    print(f"| model | budget | plan | raw agreement | raw KL | recal{ns[0]} agreement | recal{ns[0]} KL |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        a, b = r["raw"]["samePhotos"], r["recalibrated"][str(ns[0])]["samePhotos"]
        print(f"| {r['model']} | {r['budget']:g} | {r['plan']} | {a['top1Agreement']:.3f} | {a['meanKL']:.3f} | "
              f"{b['top1Agreement']:.3f} | {b['meanKL']:.3f} |")
    print()
    print("| model | unpruned, recalibrated on N | held-out top-1 agreement | held-out mean KL | same-photographs agreement | same-photographs KL |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, info in model_info.items():
        for n, m in info["unprunedRecalibrated"].items():
            print(f"| {name} | {n} | {m['top1Agreement']:.3f} | {m['meanKL']:.4f} | {m['samePhotos']['top1Agreement']:.3f} "
                  f"| {m['samePhotos']['meanKL']:.4f} |")
    print()
    for n, sm in summary.items():
        a, k, q = sm["agreement"], sm["kl"], sm["klRatio"]
        print(f"{n}: {sm['pairs']} pairs. agreement recal - raw: mean {a['meanDiff']:+.4f} "
              f"(95% bootstrap {a['bootstrap95'][0]:+.4f}, {a['bootstrap95'][1]:+.4f}); sign test "
              f"{a['signTest']['wins']} up / {a['signTest']['losses']} down / {a['signTest']['ties']} tied, p={a['signTest']['p']:.2g}. "
              f"KL raw - recal: mean {k['meanReduction']:+.4f} ({k['bootstrap95'][0]:+.4f}, {k['bootstrap95'][1]:+.4f}); "
              f"sign test {k['signTest']['wins']} lower / {k['signTest']['losses']} higher, p={k['signTest']['p']:.2g}; "
              f"KL raw/recal geometric mean {q['geometricMeanRawOverRecal']:.2f} "
              f"({q['bootstrap95'][0]:.2f}, {q['bootstrap95'][1]:.2f}). Same photographs, agreement recal - raw: "
              f"mean {sm['samePhotosAgreement']['meanDiff']:+.4f} ({sm['samePhotosAgreement']['bootstrap95'][0]:+.4f}, "
              f"{sm['samePhotosAgreement']['bootstrap95'][1]:+.4f}), {sm['samePhotosAgreement']['signTest']['wins']} up / "
              f"{sm['samePhotosAgreement']['signTest']['losses']} down, p={sm['samePhotosAgreement']['signTest']['p']:.2g}")

    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    names = list(model_info)
    plot_rows = [{"model": r["model"], "budget": r["budget"], "raw": r["raw"], "recal": r["recalibrated"][str(ns[0])]}
                 for r in rows]
    write_plot(plot, plot_rows, names, budgets, ns[0])
    result = {"models": model_info, "budgets": budgets, "plans": plans, "recalibrate": ns,
              "recalBatch": args.recal_batch, "profilePhotos": PROFILE_PHOTOS, "heldoutPhotos": HELDOUT_PHOTOS,
              "seeds": SEEDS, "calibImages": len(calib), "heldoutImages": len(heldout), "samePhotosImages": len(same_views),
              "profileImages": args.profile_count, "adaptive": args.adaptive,
              "rows": rows, "summary": summary, "commands": log, "plot": plot,
              "wallSeconds": round(time.time() - started, 1), "argv": sys.argv}
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(args.out + ".tmp", args.out)
    print(f"\n{result['wallSeconds']:.0f} s wall; wrote {args.out} and {plot}")


if __name__ == "__main__":
    main()
