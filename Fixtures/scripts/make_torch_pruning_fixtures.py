#!/usr/bin/env python3
"""Torch-Pruning (DepGraph) reference groups and magnitude importances for WeakSpot's tests.

Usage: python3 Fixtures/scripts/make_torch_pruning_fixtures.py [--rebuild]

For Fixtures/models/resnet18_bn.onnx and Fixtures/demo/efficientnet_lite0.onnx (both export
with BatchNormalization kept, so the ONNX initializer names are the torch state-dict names):

1. the torch architecture is rebuilt (torchvision resnet18; make_demo.EfficientNetLite0) and
   EVERY parameter and buffer is loaded back from the ONNX initializer of the same name; the
   script asserts that every state-dict tensor has an initializer of the same shape, that every
   initializer is used, that each BatchNormalization node's epsilon equals the module's eps, and
   that the torch forward pass on the committed inputs reproduces the committed ONNX Runtime
   logits. `--rebuild` also regenerates the weights the way the model scripts do (resnet18:
   make_models.parity's seeding, BN re-estimation and classifier rescaling; EfficientNet: the
   pretrained package) and reports the largest difference from the ONNX weights.
2. `tp.DependencyGraph().build_dependency(...)` then `DG.get_all_groups(ignored_layers=[classifier],
   root_module_types=[nn.Conv2d, nn.Linear])`: the classifier (`fc` / `_fc`) is ignored as a root
   (its output channels are the classes), exactly as `ignored_layers=[fc]` in a Torch-Pruning
   pruner; its INPUT channels still belong to the last group and count in that group's score.
3. per group, MagnitudeImportance(p=1) and (p=2) and BNScaleImportance, all with
   group_reduction="mean" and normalizer=None, one score per root channel; the script re-derives
   every score in numpy from the written dependency list and asserts agreement. Torch-Pruning
   1.6 does not score depthwise convolutions (see `scored_by_torch_pruning`): such dependencies
   are written with "scored": false, and groups holding one also get `withDepthwise` (numpy,
   the same means with the depthwise filters counted as out-channel terms).
4. per Conv2d/Linear module, the plain per-filter norms in numpy float64 of the float32 weights:
   l1 = sum |w|, l2 = sum w^2 (no square root, as Torch-Pruning's p=2).
5. moduleToNode: torch module name -> ONNX Conv/Gemm node name, via the node's weight initializer
   (`<module>.weight`).

Output: Fixtures/torch_pruning/<model>.json; floats rounded to 7 significant digits (decimal).
Deterministic; CI never runs this.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch_pruning as tp
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402

OUT = fc.FIXTURES / "torch_pruning"
MAX_FILE_BYTES = 3_000_000
REL_TOLERANCE = 1e-5


def r7(x: float) -> float:
    return float(f"{float(x):.7g}")


def r7list(values) -> list:
    return [r7(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


# ---------------------------------------------------------------------------------------------
# Models with their weights read back from the ONNX initializers
# ---------------------------------------------------------------------------------------------

def onnx_initializers(proto: onnx.ModelProto) -> dict:
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


def load_from_onnx(model: nn.Module, proto: onnx.ModelProto) -> dict:
    """Copies every parameter and buffer of `model` from the initializer of the same name;
    returns a report. Asserts full coverage in both directions."""
    inits = onnx_initializers(proto)
    state = model.state_dict()
    used, missing, shape_mismatch = set(), [], []
    new_state = {}
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            new_state[name] = tensor
            continue
        if name not in inits:
            missing.append(name)
            continue
        array = inits[name]
        if tuple(array.shape) != tuple(tensor.shape):
            shape_mismatch.append((name, array.shape, tuple(tensor.shape)))
            continue
        new_state[name] = torch.from_numpy(array.astype(np.float32).copy())
        used.add(name)
    unused = sorted(set(inits) - used)
    assert not missing, f"state-dict tensors without an initializer: {missing}"
    assert not shape_mismatch, f"shape mismatches: {shape_mismatch}"
    assert not unused, f"initializers not in the state dict: {unused}"
    model.load_state_dict(new_state, strict=True)
    model.eval()
    # The copy must be exact.
    reloaded = model.state_dict()
    worst = max(float(np.abs(reloaded[n].numpy() - inits[n]).max()) for n in used)
    assert worst == 0.0, worst
    modules = dict(model.named_modules())
    for node in proto.graph.node:
        if node.op_type != "BatchNormalization":
            continue
        name = node.input[1].rsplit(".", 1)[0]
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        assert abs(eps - modules[name].eps) <= 1e-9 + 1e-6 * modules[name].eps, (name, eps)
    return {"tensors": len(used), "values": int(sum(inits[n].size for n in used))}


def forward_check(model: nn.Module, inputs: Path, logits: Path) -> float:
    x = np.load(inputs)
    reference = np.load(logits)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(out - reference).max())
    assert diff < 1e-3, f"torch vs committed ORT logits differ by {diff}"
    return diff


def state_difference(a: nn.Module, b: nn.Module) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    return max(float((sa[k].double() - sb[k].double()).abs().max()) for k in sa
               if not k.endswith("num_batches_tracked"))


def resnet18_bn(rebuild: bool):
    path = fc.FIXTURES / "models" / "resnet18_bn.onnx"
    proto = onnx.load(str(path))  # external data (resnet18_bn.data0/1) loads from the folder
    model = torchvision.models.resnet18(weights=None)
    report = load_from_onnx(model, proto)
    report["forwardMaxAbsDiff"] = forward_check(model, fc.FIXTURES / "models" / "resnet18_bn.input.npy",
                                                fc.FIXTURES / "models" / "resnet18_bn.logits.npy")
    if rebuild:
        import make_models
        fc.seed_everything(0)
        batch = fc.calibration_batch(64, 224, seed=1)
        fc.seed_everything(0)
        again = torchvision.models.resnet18(weights=None)
        fc.randomize_batchnorm_affine(again)
        fc.calibrate_batchnorm(again, batch)
        fc.rescale_classifier(again, make_models.classifier_of("resnet18", again), batch, target_std=3.0)
        report["rebuildMaxAbsDiff"] = state_difference(model, again)
    return model, model.fc, proto, report


def trained(arch: str):
    """torchvision `arch` distilled from EfficientNet-Lite0 (make_distilled_models.py), BN kept,
    read back from Fixtures/models/<arch>_trained.onnx by state-dict name."""
    stem = fc.FIXTURES / "models" / f"{arch}_trained"
    proto = onnx.load(str(stem) + ".onnx")  # external data (resnet18_trained.data0/1) loads from the folder
    model = getattr(torchvision.models, arch)(weights=None)
    report = load_from_onnx(model, proto)
    report["forwardMaxAbsDiff"] = forward_check(model, Path(str(stem) + ".input.npy"), Path(str(stem) + ".logits.npy"))
    classifier = model.fc if arch == "resnet18" else model.classifier[1]
    return model, classifier, proto, report


def resnet18_trained(rebuild: bool):
    assert not rebuild, "make_distilled_models.py rebuilds this model"
    return trained("resnet18")


def efficientnet_lite0(rebuild: bool):
    import make_demo
    path = fc.FIXTURES / "demo" / "efficientnet_lite0.onnx"
    proto = onnx.load(str(path))
    model = make_demo.EfficientNetLite0()
    report = load_from_onnx(model, proto)
    report["forwardMaxAbsDiff"] = forward_check(model, fc.FIXTURES / "demo" / "images.input.npy",
                                                fc.FIXTURES / "demo" / "efficientnet_lite0.logits.npy")
    if rebuild:
        report["rebuildMaxAbsDiff"] = state_difference(model, make_demo.load_pretrained())
    return model, model._fc, proto, report


# ---------------------------------------------------------------------------------------------
# Groups and scores
# ---------------------------------------------------------------------------------------------

def scored_by_torch_pruning(fn, module: nn.Module) -> bool:
    """Torch-Pruning 1.6's GroupMagnitudeImportance compares the dependency's handler with the
    plain Conv/Linear/BatchNorm pruning functions; a depthwise convolution's handler is the
    DepthwiseConvPruner's own method, so depthwise filters are never scored (they still belong
    to the group and are pruned with it)."""
    if fn in (tp.prune_conv_out_channels, tp.prune_linear_out_channels,
              tp.prune_conv_in_channels, tp.prune_linear_in_channels):
        return True
    return fn == tp.prune_batchnorm_out_channels and bool(getattr(module, "affine", False))


def kind_of(fn) -> str | None:
    if fn in (tp.prune_conv_out_channels, tp.prune_linear_out_channels,
              tp.prune_depthwise_conv_out_channels):
        return "out"
    if fn in (tp.prune_conv_in_channels, tp.prune_linear_in_channels,
              tp.prune_depthwise_conv_in_channels):
        return "in"
    if fn == tp.prune_batchnorm_out_channels:
        return "bn"
    return None


def module_to_node(proto: onnx.ModelProto, modules: dict) -> dict:
    mapping = {}
    for node in proto.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        weight = node.input[1]
        assert weight.endswith(".weight"), (node.name, weight)
        name = weight[: -len(".weight")]
        assert isinstance(modules.get(name), (nn.Conv2d, nn.Linear)), (node.name, name)
        assert name not in mapping, name
        mapping[name] = node.name
    wanted = {n for n, m in modules.items() if isinstance(m, (nn.Conv2d, nn.Linear))}
    assert set(mapping) == wanted, sorted(wanted ^ set(mapping))
    return mapping


def numpy_group_scores(deps: list, modules: dict, p: int, bn_only: bool, width: int,
                       include_unscored: bool = False):
    """Re-derivation of Torch-Pruning's 'mean' group reduction: per scored dependency (all kinds
    for MagnitudeImportance, BN only for BNScaleImportance; `include_unscored` adds the depthwise
    filters Torch-Pruning skips) a per-channel term (out: sum|w|^p over the filter; in: sum|w|^p over the consumer's input slice; bn:
    |gamma|^p), scattered to the root channel, summed, divided by the number of terms."""
    total = np.zeros(width, dtype=np.float64)
    terms = 0
    for dep in deps:
        module = modules[dep["module"]]
        kind, idxs, roots = dep["kind"], dep["channels"], dep.get("rootChannels", dep["channels"])
        if not (dep["scored"] or include_unscored) or (bn_only and kind != "bn"):
            continue
        w = module.weight.detach().numpy().astype(np.float64)
        if kind == "out":
            local = (np.abs(w.reshape(w.shape[0], -1)) ** p).sum(axis=1)[idxs]
        elif kind == "in":
            per_group_in = w.shape[1]
            if isinstance(module, nn.Conv2d) and module.groups not in (1, module.in_channels):
                raise NotImplementedError("grouped convolution input")
            assert per_group_in == (module.in_channels if isinstance(module, nn.Conv2d) else w.shape[1])
            local = (np.abs(np.moveaxis(w, 1, 0).reshape(w.shape[1], -1)) ** p).sum(axis=1)[idxs]
        else:
            local = np.abs(w[idxs]) ** p
        np.add.at(total, roots, local)
        terms += 1
    return (total / terms) if terms else None


def relative_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float((np.abs(a - b) / np.maximum(np.abs(b), 1e-30)).max())


def build_fixture(key: str, model: nn.Module, classifier: nn.Module, proto: onnx.ModelProto,
                  report: dict) -> dict:
    modules = dict(model.named_modules())
    names = {id(m): n for n, m in modules.items()}
    mapping = module_to_node(proto, modules)

    example = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    l1 = tp.importance.MagnitudeImportance(p=1, group_reduction="mean", normalizer=None)
    l2 = tp.importance.MagnitudeImportance(p=2, group_reduction="mean", normalizer=None)
    bn = tp.importance.BNScaleImportance(group_reduction="mean", normalizer=None)

    groups, worst, skipped_ops = [], 0.0, set()
    for group in graph.get_all_groups(ignored_layers=[classifier], root_module_types=[nn.Conv2d, nn.Linear]):
        deps, members = [], []
        for item in group.items:
            dep, idxs = item.dep, item.idxs
            kind = kind_of(dep.handler)
            module = dep.target.module
            if kind is None or id(module) not in names:
                skipped_ops.add(type(module).__name__ if id(module) not in names else str(dep.handler))
                continue
            entry = {"module": names[id(module)], "kind": kind,
                     "scored": scored_by_torch_pruning(dep.handler, module),
                     "channels": [int(i) for i in idxs]}
            if isinstance(module, nn.Conv2d) and module.groups > 1:
                assert module.groups == module.in_channels == module.out_channels, entry["module"]
                entry["depthwise"] = True
            roots = [int(i) for i in item.root_idxs]
            if roots != entry["channels"]:
                entry["rootChannels"] = roots
            deps.append(entry)
            if kind == "out" and isinstance(module, (nn.Conv2d, nn.Linear)):
                members.extend({"module": entry["module"], "channel": c} if c == r else
                               {"module": entry["module"], "channel": c, "rootChannel": r}
                               for c, r in zip(entry["channels"], roots))
        root = deps[0]
        assert root["kind"] == "out", root
        width = len(root["channels"])
        scores = {}
        for label, imp, p, bn_only in (("l1_mean", l1, 1, False), ("l2_mean", l2, 2, False),
                                       ("bn_mean", bn, 1, True)):
            value = imp(group)
            mine = numpy_group_scores(deps, modules, p, bn_only, width)
            if value is None:
                assert mine is None, (label, root["module"])
                scores[label] = None
                continue
            value = value.double().numpy()
            assert value.shape == (width,), (label, value.shape)
            error = relative_error(mine, value)
            worst = max(worst, error)
            assert error < REL_TOLERANCE, (key, root["module"], label, error)
            scores[label] = r7list(value)
        entry = {"root": root["module"], "rootChannels": root["channels"], "channelCount": width,
                 "members": members, "dependencies": deps, **scores}
        if not all(d["scored"] for d in deps):
            entry["withDepthwise"] = {
                label: r7list(numpy_group_scores(deps, modules, p, False, width, include_unscored=True))
                for label, p in (("l1_mean", 1), ("l2_mean", 2))}
        groups.append(entry)

    filter_norms = {}
    for name, module in modules.items():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            w = module.weight.detach().numpy().astype(np.float64)
            w = w.reshape(w.shape[0], -1)
            filter_norms[name] = {"l1": r7list(np.abs(w).sum(axis=1)), "l2": r7list((w * w).sum(axis=1))}

    classifier_name = names[id(classifier)]
    return {
        "model": key,
        "tpVersion": tp.__version__,
        "torchVersion": torch.__version__.split("+")[0],
        "ignoredLayers": [classifier_name],
        "rootModuleTypes": ["Conv2d", "Linear"],
        "importance": {"l1_mean": "MagnitudeImportance(p=1, group_reduction='mean', normalizer=None)",
                       "l2_mean": "MagnitudeImportance(p=2, group_reduction='mean', normalizer=None)",
                       "bn_mean": "BNScaleImportance(group_reduction='mean', normalizer=None)"},
        "floatFormat": "decimal, 7 significant digits",
        "groupCount": len(groups),
        "channelGroupCount": int(sum(g["channelCount"] for g in groups)),
        "weights": report,
        "numpyVsTorchPruningMaxRelativeError": worst,
        "nonParametricDependenciesSkipped": sorted(skipped_ops),
        "moduleToNode": mapping,
        "groups": groups,
        "filterNorms": filter_norms,
    }


def summarize(data: dict) -> None:
    print(f"{data['model']}: Torch-Pruning {data['tpVersion']}, {data['groupCount']} groups, "
          f"{data['channelGroupCount']} channel groups (classifier {data['ignoredLayers']} ignored), "
          f"weights {data['weights']}, numpy vs TP max rel err {data['numpyVsTorchPruningMaxRelativeError']:.2e}")
    print(f"  skipped non-parametric dependencies: {data['nonParametricDependenciesSkipped']}")
    for g in data["groups"][:3] + data["groups"][-2:]:
        outs = sorted({m["module"] for m in g["members"]})
        kinds = [f"{d['module']}:{d['kind']}" for d in g["dependencies"]]
        bn = g["bn_mean"][:2] if g["bn_mean"] else None
        print(f"  root {g['root']} ({g['channelCount']} ch): out members {outs}; deps {kinds}; "
              f"l1 {g['l1_mean'][:2]} l2 {g['l2_mean'][:2]} bn {bn}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true",
                        help="also regenerate the weights as the model scripts do and compare")
    args = parser.parse_args()
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    for key, build in (("resnet18_bn", resnet18_bn), ("efficientnet_lite0", efficientnet_lite0)):
        model, classifier, proto, report = build(args.rebuild)
        data = build_fixture(key, model, classifier, proto, report)
        path = OUT / f"{key}.json"
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        size = path.stat().st_size
        assert size <= MAX_FILE_BYTES, (path, size)
        summarize(data)
        print(f"  wrote {fc.relative(path)} ({size:,} bytes)", flush=True)
    resnet = json.loads((OUT / "resnet18_bn.json").read_text())
    assert resnet["channelGroupCount"] == 2880, resnet["channelGroupCount"]


if __name__ == "__main__":
    main()
