#!/usr/bin/env python3
"""Seeds for the `checkpoint` fuzz target (weakspot finetune's checkpoint format, docs/finetune.md).

Usage: python3 Fixtures/scripts/make_checkpoint_seeds.py
Writes Fixtures/fuzz/checkpoint/: small valid checkpoints (Adam with history and validation, SGD
mid-epoch, no tensors) and a few near-misses. Deterministic; CI never runs this.
"""

import json
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fuzz" / "checkpoint"


def checkpoint(progress: dict, tensors: list, step: int) -> bytes:
    header = {"schema": "weakspot.finetune-checkpoint/1", "fingerprint": "seed|model|data", "progress": progress,
              "optimizerStep": step, "tensors": [{"name": n, "count": len(v)} for n, v in tensors]}
    body = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    floats = b"".join(struct.pack("<%df" % len(v), *v) for _, v in tensors)
    return b"WSTUNE01" + struct.pack("<Q", len(body)) + body + floats


def progress(epochs: int, step: int, history: list) -> dict:
    return {"epochsDone": epochs, "stepInEpoch": step, "globalStep": epochs * 3 + step, "lossSum": 1.25, "lossCount": 4,
            "history": history}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"epoch": 1, "meanLoss": 0.5, "learningRate": 0.001, "seconds": 2.5,
              "validation": {"inputs": 8, "agreement": 0.75, "kl": 0.125, "accuracy": 0.5, "crossEntropy": "Infinity"}}
    adam = [("param:w", [0.5, -1.0, 2.0]), ("first:w", [0.01, 0.0, -0.02]), ("second:w", [1e-4, 0.0, 4e-4]),
            ("mean:bn.running_mean", [0.0, 1.0]), ("var:bn.running_var", [1.0, 2.0])]
    seeds = {
        "adam_history.ckpt": checkpoint(progress(1, 0, [record]), adam, 3),
        "sgd_mid_epoch.ckpt": checkpoint(progress(0, 2, []), [("param:w", [1.0, 2.0]), ("first:w", [0.0, 0.5])], 2),
        "empty.ckpt": checkpoint(progress(0, 0, []), [], 0),
    }
    good = seeds["adam_history.ckpt"]
    seeds["truncated.ckpt"] = good[:-5]
    seeds["long_header.ckpt"] = good[:8] + struct.pack("<Q", 1 << 40) + good[16:]
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
