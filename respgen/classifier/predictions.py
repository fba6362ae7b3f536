"""What a model predicted for each eval cycle, recorded when it was trained: `predictions.json` in its
model dir holds, per eval split (val / test), the cycle ids and the class probabilities of the epoch
whose weights the dir keeps (the same numbers its `metrics.json` confusion counts), and the fingerprint
of the workspace manifest the cycles came from. Readers (the report's errors section) use them instead
of running the model again; a dir without the file (runs made before it was written), or whose manifest
fingerprint or labels are not the reader's, is not read (the reader runs the model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from respgen.atomic import write_json

PREDICTIONS_FILE = "predictions.json"


@dataclass
class EvalPredictions:
    """`splits`: {split: (ids, [N, len(labels)] probabilities)}; `manifest`: the fingerprint of the
    manifest the rows came from (`disk_memo.file_fingerprint`, relative to the workspace)."""

    labels: list[str]
    splits: dict[str, tuple[list[str], np.ndarray]]
    manifest: list

    def write(self, out: Path) -> None:
        """Write `predictions.json` into `out` (probabilities at full float32 precision)."""
        data = {
            "labels": list(self.labels),
            "manifest": self.manifest,
            "splits": {
                split: {"ids": list(ids), "probabilities": np.asarray(p, dtype=np.float32).astype(float).tolist()}
                for split, (ids, p) in self.splits.items()
            },
        }
        write_json(out / PREDICTIONS_FILE, data)


def read_predictions(model_dir: Path, split: str, labels: list[str], manifest: list) -> dict[str, np.ndarray] | None:
    """{cycle id: [len(labels)] probabilities} recorded for `split`; None when the dir has no readable
    record of it, it was recorded for other labels or from another manifest (`manifest`: the current
    one's fingerprint), or its probabilities are not probabilities (`plausible`)."""
    path = model_dir / PREDICTIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["labels"] != list(labels) or data.get("manifest") != manifest:
            return None
        rec = data["splits"][split]
        probs = np.asarray(rec["probabilities"], dtype=np.float32)
        if probs.shape != (len(rec["ids"]), len(labels)) or not plausible(probs):
            return None
        return dict(zip(rec["ids"], probs))
    except (OSError, ValueError, KeyError, TypeError):
        return None


SUM_TOLERANCE = 1e-3  # a row of probabilities sums to 1 within this (float32 softmax rounding is far below)


def plausible(probs: np.ndarray) -> bool:
    """Whether every row is a probability distribution: finite, non-negative, summing to 1 within
    `SUM_TOLERANCE` (a damaged or hand-edited record is not trusted: the reader runs the model)."""
    if not np.isfinite(probs).all() or (probs < 0).any():
        return False
    return bool(np.all(np.abs(probs.sum(axis=-1, dtype=np.float64) - 1.0) <= SUM_TOLERANCE))
