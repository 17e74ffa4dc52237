#!/usr/bin/env python3
"""Torch-Pruning TaylorImportance and Molchanov 2019's activation criterion, as references for
WeakSpot's `taylor` estimator.

Usage: python3 Fixtures/scripts/make_taylor_fixtures.py [MODEL_KEY ...]

For resnet18_bn, resnet18_trained (make_distilled_models.py) and the demo EfficientNet-Lite0 (rebuilt with the ONNX weights by
make_torch_pruning_fixtures.py, eval mode, BatchNormalization kept), on the same batch and labels
as Fixtures/gradients (make_gradient_fixtures.BATCH / LABELS), mean cross-entropy, float32:

1. weight form: `tp.importance.TaylorImportance(group_reduction='mean', normalizer=None)` on every
   group of `DG.get_all_groups(ignored_layers=[classifier], root_module_types=[Conv2d, Linear])`
   (the same groups as Fixtures/torch_pruning). Re-derived in numpy from the written dependencies:
   per scored dependency Σ|w·∂L/∂w| over the channel's filter (out) or input slice (in), scattered
   to the root channel, summed, divided by the number of terms. Torch-Pruning 1.6 scores neither
   depthwise convolutions nor BatchNormalization here (its BN branch tests the GroupNorm handler;
   bias terms are off by default), and the numpy re-derivation follows it.
2. activation form (Molchanov et al. 2019, per channel): with a_n the Conv output of sample n and
   g_n the gradient of sample n's own loss (N × the batch-mean loss's gradient),
   score_c = mean_n (Σ_{h,w} a_n[c,h,w] · g_n[c,h,w])², per Conv2d module (keyed by ONNX node name).
3. both forms again in float64 (model and input cast to double, numpy re-derivation for the weight
   form): `torchFloat32Error` = max |float32 − float64| / max |float64| per group or layer, the
   part of the reference that float32 rounding alone leaves uncertain (ReLU masks of inputs
   within rounding of 0 flip).

Output: Fixtures/taylor/<model>.json, floats with 9 significant digits. Deterministic; CI never runs this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402
import make_gradient_fixtures as mg  # noqa: E402
import make_torch_pruning_fixtures as tpf  # noqa: E402

OUT = fc.FIXTURES / "taylor"


def numpy_taylor(deps: list, modules: dict, width: int):
    total = np.zeros(width, dtype=np.float64)
    terms = 0
    for dep in deps:
        if not dep["scored"] or dep["kind"] == "bn":
            continue
        module = modules[dep["module"]]
        w = module.weight.detach().numpy().astype(np.float64)
        g = module.weight.grad.numpy().astype(np.float64)
        t = np.abs(w * g)
        idxs, roots = dep["channels"], dep.get("rootChannels", dep["channels"])
        if dep["kind"] == "out":
            local = t.reshape(t.shape[0], -1).sum(axis=1)[idxs]
        else:
            local = np.moveaxis(t, 1, 0).reshape(t.shape[1], -1).sum(axis=1)[idxs]
        np.add.at(total, roots, local)
        terms += 1
    return total / terms if terms else None


def build(key: str, loader, inputs: str) -> dict:
    fc.seed_everything(0)
    model, classifier, proto, _ = loader(False)
    modules = dict(model.named_modules())
    names = {id(m): n for n, m in modules.items()}
    mapping = tpf.module_to_node(proto, modules)
    example = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)

    x = np.load(fc.FIXTURES / inputs)[:mg.BATCH]

    def activation_scores(dtype) -> dict:
        """Runs forward and backward in `dtype` (leaving the weight gradients in the modules)."""
        model.to(dtype)
        outputs, hooks = {}, []
        for name, module in modules.items():
            if isinstance(module, nn.Conv2d):
                def hook(mod, inp, out, name=name):
                    out.retain_grad()
                    outputs[name] = out
                hooks.append(module.register_forward_hook(hook))
        model.zero_grad()
        loss = F.cross_entropy(model(torch.from_numpy(x.copy()).to(dtype)), torch.tensor(mg.LABELS[:mg.BATCH]))
        loss.backward()
        for h in hooks:
            h.remove()
        scores = {}
        for name, out in outputs.items():
            a = out.detach().double().numpy()
            g = out.grad.double().numpy() * x.shape[0]
            scores[mapping[name]] = ((a * g).sum(axis=(2, 3)) ** 2).mean(axis=0)
        return float(loss.detach()), scores

    loss64, activation64 = activation_scores(torch.float64)
    taylor64 = {}  # filled per group below, before the float32 pass overwrites the gradients
    all_groups = list(graph.get_all_groups(ignored_layers=[classifier], root_module_types=[nn.Conv2d, nn.Linear]))
    group_deps = []
    for group in all_groups:
        deps = []
        for item in group.items:
            kind = tpf.kind_of(item.dep.handler)
            module = item.dep.target.module
            if kind is None or id(module) not in names:
                continue
            entry = {"module": names[id(module)], "kind": kind,
                     "scored": tpf.scored_by_torch_pruning(item.dep.handler, module),
                     "channels": [int(i) for i in item.idxs]}
            roots = [int(i) for i in item.root_idxs]
            if roots != entry["channels"]:
                entry["rootChannels"] = roots
            deps.append(entry)
        group_deps.append(deps)
        taylor64[id(group)] = numpy_taylor(deps, modules, len(deps[0]["channels"]))
    loss, activation32 = activation_scores(torch.float32)

    def peak_error(a, b) -> float:
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))

    activation = {node: {"scores": mg.r9(v), "torchFloat32Error": peak_error(v, activation64[node])}
                  for node, v in activation32.items()}

    imp = tp.importance.TaylorImportance(group_reduction="mean", normalizer=None)
    groups, worst = [], 0.0
    for group, deps in zip(all_groups, group_deps):
        root = deps[0]
        width = len(root["channels"])
        value = imp(group)
        mine = numpy_taylor(deps, modules, width)
        if value is None:
            assert mine is None, root["module"]
            continue
        value = value.double().numpy()
        error = tpf.relative_error(mine, value)
        worst = max(worst, error)
        assert error < 1e-5, (key, root["module"], error)
        groups.append({"root": root["module"], "rootNode": mapping[root["module"]],
                       "rootChannels": root["channels"], "taylor_mean": mg.r9(value),
                       "torchFloat32Error": peak_error(value, taylor64[id(group)])})
    return {"model": key, "tpVersion": tp.__version__, "torchVersion": torch.__version__.split("+")[0],
            "inputs": inputs, "batch": mg.BATCH, "labels": mg.LABELS[:mg.BATCH], "loss": loss, "lossFloat64": loss64,
            "importance": "TaylorImportance(group_reduction='mean', normalizer=None)",
            "numpyVsTorchPruningMaxRelativeError": worst, "groupCount": len(groups),
            "groups": groups, "activationScores": activation,
            "activationForm": "mean over samples of (sum over H,W of conv output x gradient of the sample's own loss)^2"}


def main(argv: list[str]) -> None:
    """With model keys as arguments, only those fixtures are rewritten."""
    OUT.mkdir(parents=True, exist_ok=True)
    for key, loader, inputs in (("resnet18_bn", tpf.resnet18_bn, "models/resnet18_bn.input.npy"),
                                ("efficientnet_lite0", tpf.efficientnet_lite0, "demo/images.input.npy"),
                                ("resnet18_trained", tpf.resnet18_trained, "models/resnet18_trained.input.npy")):
        if argv and key not in argv:
            continue
        data = build(key, loader, inputs)
        path = OUT / f"{key}.json"
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        print(f"{key}: {data['groupCount']} groups, numpy vs TP {data['numpyVsTorchPruningMaxRelativeError']:.2e}, "
              f"{len(data['activationScores'])} convs; wrote {fc.relative(path)} ({path.stat().st_size:,} bytes)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
