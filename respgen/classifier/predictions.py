"""What a model predicted for each eval cycle, recorded when it was trained: `predictions.json` in its
model dir holds, per eval split (val / test), the cycle ids and the class probabilities of the epoch
whose weights the dir keeps (the same numbers its `metrics.json` confusion counts). Readers (the
report's errors section) use them instead of running the model again; a dir without the file (runs
made before it was written) or whose ids no longer match the workspace is recomputed by the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from respgen.atomic import write_json

PREDICTIONS_FILE = "predictions.json"
DIGITS = 6  # probabilities are stored rounded to this many decimals


def write_predictions(out: Path, labels: list[str], splits: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """Write `predictions.json` into `out`: `splits` maps a split to (ids, [N, len(labels)] probabilities)."""
    data = {
        "labels": list(labels),
        "splits": {
            split: {"ids": list(ids), "probabilities": np.round(np.asarray(p, dtype=np.float64), DIGITS).tolist()}
            for split, (ids, p) in splits.items()
        },
    }
    write_json(out / PREDICTIONS_FILE, data)


def read_predictions(model_dir: Path, split: str, labels: list[str]) -> dict[str, np.ndarray] | None:
    """{cycle id: [len(labels)] probabilities} recorded for `split`; None when the dir has no readable
    record of it or the record's labels are not `labels` (the caller then runs the model)."""
    path = model_dir / PREDICTIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["labels"] != list(labels):
            return None
        rec = data["splits"][split]
        probs = np.asarray(rec["probabilities"], dtype=np.float64)
        if probs.shape != (len(rec["ids"]), len(labels)):
            return None
        return dict(zip(rec["ids"], probs))
    except (OSError, ValueError, KeyError, TypeError):
        return None
