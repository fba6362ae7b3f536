"""A loaded classifier's class probabilities for manifest rows, their features computed a batch at a time
with the model's own feature spec (length, padding, fade-out): what the report's errors section and
`evaluate` run on a split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import features_for_rows


@torch.no_grad()
def row_probabilities(loaded: tuple, manifest: Path, rows: list[dict], batch_size: int = 32) -> np.ndarray:
    """[N, classes] softmax probabilities of a loaded (model, info) on `rows` (paths relative to `manifest`)."""
    from respgen.classifier.training import predict_probabilities  # with the model: imports transformers

    model, info = loaded
    spec = info.features
    if not rows:
        return np.zeros((0, len(info.labels)), dtype=np.float32)
    batches = (
        features_for_rows(manifest, rows[i : i + batch_size], spec.length, spec.pad, spec.fade_out)
        for i in range(0, len(rows), batch_size)
    )
    return torch.cat([predict_probabilities(model, x, batch_size) for x in batches]).numpy()
