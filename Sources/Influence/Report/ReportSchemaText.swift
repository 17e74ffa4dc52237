// Generated from docs/schemas/report.schema.json by ReportSchemaTests (run
// WEAKSPOT_UPDATE_DOCS=1 swift test --filter ReportSchemaTests after editing the schema); do not edit.

extension ReportSchema {
    /// The text of docs/schemas/report.schema.json.
    public static let text = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://weakspot.dev/schemas/report-1.json",
  "title": "WeakSpot influence report (weakspot.report/1)",
  "description": "Written by weakspot profile and weakspot merge; documented field by field in docs/report.md. New keys may be added within /1, so objects allow additional properties except where noted.",
  "type": "object",
  "required": ["schema", "model", "data", "settings", "baseline", "items", "layers", "groups", "agreement", "summary"],
  "properties": {
    "schema": {"const": "weakspot.report/1"},
    "model": {
      "type": "object",
      "required": ["path", "sha256", "params", "macs", "inputShape", "layout"],
      "properties": {
        "path": {"type": "string"},
        "sha256": {"type": "string", "minLength": 64},
        "params": {"type": "integer", "minimum": 0},
        "macs": {"type": "integer", "minimum": 0},
        "inputShape": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        "layout": {"enum": ["NCHW", "NHWC"]},
        "outputKind": {"enum": ["logits", "probs", "log-probs"]},
        "output": {"type": "string"}
      }
    },
    "data": {
      "type": "object",
      "required": ["source", "count", "preprocessing", "hardExamples", "skipped"],
      "properties": {
        "source": {"type": "string"},
        "count": {"type": "integer", "minimum": 1},
        "preprocessing": {"type": "string"},
        "hardExamples": {"type": ["integer", "null"], "minimum": 1},
        "skipped": {"type": "array", "items": {"type": "object", "required": ["path", "reason"], "properties": {"path": {"type": "string"}, "reason": {"type": "string"}}}},
        "ignored": {"type": "array", "items": {"type": "object", "required": ["path", "reason"], "properties": {"path": {"type": "string"}, "reason": {"type": "string"}}}}
      }
    },
    "settings": {
      "type": "object",
      "required": ["items", "layers", "perturb", "ablateAt", "metric", "weakThreshold", "weakRule", "seed", "batch", "bootstrapResamples", "shard", "adaptive", "estimators", "groupReduction", "normalize", "latentFraction"],
      "properties": {
        "items": {"type": "array", "items": {"enum": ["channel", "group", "layer", "tensor"]}, "minItems": 1},
        "layers": {"type": ["string", "null"]},
        "perturb": {"type": "string"},
        "ablateAt": {"enum": ["structural", "output"]},
        "metric": {"enum": ["kl", "mse", "top1", "acc", "loss"]},
        "weakThreshold": {"type": ["number", "null"], "minimum": 0},
        "weakRule": {"type": "string"},
        "seed": {"type": "integer"},
        "batch": {"type": "integer", "minimum": 1},
        "bootstrapResamples": {"type": "integer", "minimum": 0},
        "shard": {"type": ["string", "null"]},
        "adaptive": {"type": "boolean"},
        "estimators": {"type": "array", "items": {"enum": ["l1", "l2", "bn", "apoz", "meanact", "random", "taylor"]}},
        "groupReduction": {"enum": ["sum", "mean", "max"]},
        "normalize": {"enum": ["none", "max", "mean", "l2", "lamp"]},
        "latentFraction": {"type": "number", "minimum": 0, "maximum": 0.5},
        "data": {"type": ["string", "null"]},
        "pruneMode": {"enum": ["filters", "unstructured"]},
        "quantizeGranularity": {"enum": ["channel", "tensor"]},
        "quantizeTarget": {"enum": ["weights", "activations", "both"]},
        "calibrate": {"type": ["string", "null"]},
        "maxMemory": {"type": "integer", "minimum": 1},
        "adaptiveSlice": {"type": ["integer", "null"], "minimum": 1},
        "adaptiveLevel": {"type": "number", "minimum": 0, "maximum": 0.5, "description": "alpha of the adaptive weak decisions (docs/influence.md, Adaptive decisions)"},
        "adaptiveRange": {"type": ["number", "null"], "minimum": 0, "description": "the assumed largest per-input kl or mse; null: 10 x weakThreshold"},
        "adaptiveSequence": {"type": "string"},
        "hardExamples": {"type": ["integer", "null"], "minimum": 1},
        "untilStable": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "labels": {"type": ["string", "null"]},
        "skipBad": {"type": "boolean"},
        "outputKind": {"enum": ["auto", "logits", "probs", "log-probs"]},
        "measure": {"enum": ["influence", "none"], "description": "none: profile --measure none; every item's influence, metrics, rank, weak and latent are null, and so are the summary's counts of weak and latent items."}
      }
    },
    "baseline": {
      "type": "object",
      "required": ["count"],
      "properties": {
        "count": {"type": "integer", "minimum": 1},
        "accuracy": {"type": "number", "minimum": 0, "maximum": 1},
        "loss": {"type": ["number", "null"]}
      }
    },
    "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
    "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}},
    "groups": {"type": "array", "items": {"$ref": "#/$defs/group"}},
    "groupCount": {"type": "integer", "minimum": 0},
    "agreement": {
      "type": "object",
      "properties": {
        "l1": {"$ref": "#/$defs/agreementEntry"},
        "l2": {"$ref": "#/$defs/agreementEntry"},
        "bn": {"$ref": "#/$defs/agreementEntry"},
        "apoz": {"$ref": "#/$defs/agreementEntry"},
        "meanact": {"$ref": "#/$defs/agreementEntry"},
        "random": {"$ref": "#/$defs/agreementEntry"},
        "taylor": {"$ref": "#/$defs/agreementEntry"},
        "latent": {
          "type": "object",
          "required": ["estimator", "fraction", "hiddenCritical", "hiddenWeak"],
          "properties": {
            "estimator": {"type": "string"},
            "fraction": {"type": "number", "minimum": 0, "maximum": 0.5},
            "hiddenCritical": {"type": "integer", "minimum": 0},
            "hiddenWeak": {"type": "integer", "minimum": 0}
          }
        },
        "recommended": {
          "type": "object",
          "required": ["threshold", "overall", "perLayer"],
          "properties": {
            "threshold": {"type": "number"},
            "overall": {"$ref": "#/$defs/recommendation"},
            "perLayer": {"type": "object", "additionalProperties": {"$ref": "#/$defs/recommendation"}}
          }
        }
      },
      "additionalProperties": false
    },
    "stability": {
      "type": "object",
      "required": ["n", "halvesKendall", "bootstrapKendall", "perLayer"],
      "properties": {
        "n": {"type": "integer", "minimum": 0},
        "halvesKendall": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
        "estimate": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["measuredInputs", "predictedHalvesKendall", "inputsForHalvesKendall"], "properties": {"measuredInputs": {"type": "integer", "minimum": 2}, "predictedHalvesKendall": {"type": ["number", "null"], "minimum": -1, "maximum": 1}, "inputsForHalvesKendall": {"type": "object", "additionalProperties": {"type": ["integer", "null"]}}}}]},
        "untilStable": {"type": "object", "required": ["target", "reached", "inputs"], "properties": {"target": {"type": "number", "minimum": 0, "maximum": 1}, "reached": {"type": "boolean"}, "inputs": {"type": "integer", "minimum": 1}}},
        "bootstrapKendall": {
          "anyOf": [
            {"type": "null"},
            {"type": "object", "required": ["resamples", "mean", "min"], "properties": {"resamples": {"type": "integer", "minimum": 1}, "mean": {"type": "number", "minimum": -1, "maximum": 1}, "min": {"type": "number", "minimum": -1, "maximum": 1}}}
          ]
        },
        "perLayer": {"type": "object", "additionalProperties": {"type": "object", "required": ["n", "halvesKendall"], "properties": {"n": {"type": "integer"}, "halvesKendall": {"type": ["number", "null"]}}}}
      }
    },
    "summary": {
      "type": "object",
      "required": ["items", "weak", "hiddenCritical", "hiddenWeak"],
      "properties": {
        "items": {"type": "integer", "minimum": 0},
        "weak": {"type": ["integer", "null"], "minimum": 0},
        "hiddenCritical": {"type": ["integer", "null"], "minimum": 0},
        "hiddenWeak": {"type": ["integer", "null"], "minimum": 0},
        "classDamaging": {"type": ["integer", "null"], "minimum": 0}
      }
    },
    "timing": {"type": "object", "required": ["seconds"], "properties": {"seconds": {"type": "number", "minimum": 0}, "peakMemoryBytes": {"type": "integer", "minimum": 0, "description": "The profiling process's peak resident memory (VmHWM; getrusage elsewhere); the largest of the shards' after merge."}, "floorSeconds": {"type": "number", "minimum": 0, "description": "Every measured item's downstream cone once per input and level at the engine's own forward speed (docs/performance.md); absent in reports written before it was added."}, "floorRatio": {"type": ["number", "null"], "minimum": 0, "description": "seconds / floorSeconds."}, "engineMACsPerSecond": {"type": "number", "minimum": 0, "description": "The rate the floor assumes: MACs of one forward pass at the run's batch over its best time of three."}, "phases": {"type": "object", "description": "Where seconds went (docs/performance.md): wall seconds of the driving thread reading inputs, in baseline passes, in estimator statistics, in waves of items and writing checkpoints, the rest as other; itemThreadSeconds sums the worker threads' time recomputing cones and comparing outputs. Absent in reports written before it was added and after merge.", "properties": {"inputs": {"type": "number", "minimum": 0}, "baseline": {"type": "number", "minimum": 0}, "estimators": {"type": "number", "minimum": 0}, "items": {"type": "number", "minimum": 0}, "checkpoints": {"type": "number", "minimum": 0}, "other": {"type": "number", "minimum": 0}, "itemThreadSeconds": {"type": "object", "properties": {"cones": {"type": "number", "minimum": 0}, "metrics": {"type": "number", "minimum": 0}}}}}, "cpuSeconds": {"type": "number", "minimum": 0, "description": "CPU time of the run's process over seconds, all threads (user + system)."}, "floorCPUSeconds": {"type": "number", "minimum": 0, "description": "The floor in CPU time: its MACs at engineMACsPerCPUSecond."}, "floorCPURatio": {"type": ["number", "null"], "minimum": 0, "description": "cpuSeconds / floorCPUSeconds: the ratio to the floor that other jobs on a shared machine do not inflate."}, "engineMACsPerCPUSecond": {"type": "number", "minimum": 0, "description": "MACs of the floor's three forward passes over the CPU time they took."}, "assemblySeconds": {"type": "number", "minimum": 0, "description": "After seconds: the items' statistics and bootstrap intervals and the report's assembly."}, "floorMeasurementSeconds": {"type": "number", "minimum": 0, "description": "After seconds: the three forward passes that time the floor's rate."}}},
    "warnings": {"type": "array", "items": {"type": "string"}, "description": "What the figures cannot support (too few inputs, items without an interval); absent in reports written before it was added."},
    "itemsTotal": {"type": "integer", "minimum": 1, "description": "Items of the whole run over all shards; merge counts missing items against it."}
  },
  "$defs": {
    "nullableNumber": {"type": ["number", "null"]},
    "item": {
      "type": "object",
      "required": ["id", "index", "kind", "layer", "output", "channel", "group", "params", "macs", "influence", "metrics", "estimators", "rank", "weak", "latent"],
      "properties": {
        "id": {"type": "string", "minLength": 1},
        "index": {"type": "integer", "minimum": 0},
        "kind": {"enum": ["channel", "group", "layer", "tensor"]},
        "layer": {"type": "string"},
        "output": {"type": "string"},
        "channel": {"type": ["integer", "null"], "minimum": 0},
        "group": {"type": ["integer", "null"], "minimum": 0},
        "params": {"type": "integer", "minimum": 0},
        "macs": {"type": "integer", "minimum": 0},
        "influence": {
          "type": ["object", "null"],
          "required": ["mean", "std", "ciLow", "ciHigh", "n"],
          "properties": {
            "mean": {"$ref": "#/$defs/nullableNumber"},
            "std": {"$ref": "#/$defs/nullableNumber"},
            "ciLow": {"$ref": "#/$defs/nullableNumber"},
            "ciHigh": {"$ref": "#/$defs/nullableNumber"},
            "n": {"type": "integer", "minimum": 0}
          },
          "additionalProperties": false
        },
        "metrics": {
          "type": ["object", "null"],
          "required": ["kl", "mse", "top1"],
          "properties": {
            "kl": {"$ref": "#/$defs/nullableNumber"},
            "mse": {"$ref": "#/$defs/nullableNumber"},
            "top1": {"type": "number", "minimum": 0, "maximum": 1},
            "acc": {"type": "number", "minimum": -1, "maximum": 1},
            "loss": {"$ref": "#/$defs/nullableNumber"}
          },
          "additionalProperties": false
        },
        "estimators": {
          "type": "object",
          "properties": {
            "l1": {"type": "number", "minimum": 0},
            "l2": {"type": "number", "minimum": 0},
            "bn": {"type": "number", "minimum": 0},
            "apoz": {"type": "number", "minimum": 0},
            "meanact": {"type": "number", "minimum": 0},
            "random": {"type": "number", "minimum": 0},
            "taylor": {"type": "number", "minimum": 0}
          },
          "additionalProperties": false
        },
        "adaptive": {
          "type": "object",
          "description": "--adaptive only: how the item was decided and on how many inputs",
          "required": ["decision", "inputs"],
          "properties": {
            "decision": {"enum": ["notWeak", "weak", "allInputs"]},
            "inputs": {"type": "integer", "minimum": 0}
          },
          "additionalProperties": false
        },
        "rank": {"type": ["integer", "null"], "minimum": 1},
        "weak": {"type": ["boolean", "null"]},
        "latent": {"enum": ["none", "hiddenCritical", "hiddenWeak", null]},
        "stability": {
          "type": "object",
          "required": ["halves", "resamples"],
          "properties": {
            "halves": {"type": "array", "items": {"$ref": "#/$defs/nullableNumber"}, "minItems": 2},
            "resamples": {"type": "array", "items": {"$ref": "#/$defs/nullableNumber"}}
          }
        },
        "classDamage": {
          "type": "object",
          "required": ["class", "accDrop", "n"],
          "properties": {"class": {"type": "integer"}, "accDrop": {"type": "number", "minimum": -1, "maximum": 1}, "n": {"type": "integer", "minimum": 1}}
        },
        "sweep": {"type": "array", "items": {"$ref": "#/$defs/sweepPoint"}}
      }
    },
    "sweepPoint": {
      "anyOf": [
        {
          "type": "object",
          "required": ["sparsity", "kl", "mse", "top1"],
          "properties": {
            "sparsity": {"type": "number", "minimum": 0, "maximum": 1},
            "kl": {"$ref": "#/$defs/nullableNumber"},
            "mse": {"$ref": "#/$defs/nullableNumber"},
            "top1": {"type": "number", "minimum": 0, "maximum": 1}
          }
        },
        {
          "type": "object",
          "required": ["bits", "kl", "mse", "top1", "ciLow", "ciHigh"],
          "properties": {
            "bits": {"type": "integer", "minimum": 2, "maximum": 16},
            "kl": {"$ref": "#/$defs/nullableNumber"},
            "mse": {"$ref": "#/$defs/nullableNumber"},
            "top1": {"type": "number", "minimum": 0, "maximum": 1},
            "ciLow": {"$ref": "#/$defs/nullableNumber"},
            "ciHigh": {"$ref": "#/$defs/nullableNumber"}
          }
        }
      ]
    },
    "layer": {
      "type": "object",
      "required": ["name", "op", "params", "macs", "channels", "output", "tailEnd", "sensitivity"],
      "properties": {
        "name": {"type": "string"},
        "op": {"type": "string"},
        "params": {"type": "integer", "minimum": 0},
        "macs": {"type": "integer", "minimum": 0},
        "channels": {"type": "integer", "minimum": 1},
        "output": {"type": "string"},
        "tailEnd": {"type": "string"},
        "sensitivity": {"type": "array", "items": {"$ref": "#/$defs/sweepPoint"}}
      }
    },
    "group": {
      "type": "object",
      "required": ["id", "members", "channels", "prunable"],
      "properties": {
        "id": {"type": "integer", "minimum": 0},
        "members": {"type": "array", "minItems": 2, "items": {"type": "object", "required": ["layer", "channel"], "properties": {"layer": {"type": "string"}, "channel": {"type": "integer", "minimum": 0}}}},
        "channels": {"type": "integer", "minimum": 2},
        "prunable": {"type": "boolean"}
      }
    },
    "agreementEntry": {
      "type": "object",
      "required": ["items", "n", "k", "spearman", "kendall", "bottomKOverlap", "perLayer"],
      "properties": {
        "items": {"enum": ["channel", "group"]},
        "n": {"type": "integer", "minimum": 3},
        "k": {"type": "integer", "minimum": 1},
        "spearman": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
        "kendall": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
        "bottomKOverlap": {"type": "number", "minimum": 0, "maximum": 1},
        "perLayer": {"type": "object", "additionalProperties": {"type": "object", "required": ["n", "spearman", "kendall"], "properties": {"n": {"type": "integer"}, "spearman": {"type": ["number", "null"]}, "kendall": {"type": ["number", "null"]}}}}
      }
    },
    "recommendation": {
      "type": "object",
      "required": ["estimator", "spearman"],
      "properties": {
        "estimator": {"enum": ["l1", "l2", "bn", "apoz", "meanact", "taylor", "measure"]},
        "spearman": {"type": ["number", "null"]}
      }
    }
  }
}
"""#
}
