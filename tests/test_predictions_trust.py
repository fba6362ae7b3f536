"""A recorded predictions.json is trusted only when its probabilities are probabilities: a row with a
NaN/inf, a negative value or not summing to 1 means "not recorded" (the report runs the model again)."""

import json
from pathlib import Path

import numpy as np
import pytest

from respgen.classifier.predictions import PREDICTIONS_FILE, EvalPredictions, read_predictions

LABELS = ["normal", "crackle", "wheeze", "both"]
MANIFEST = ["data/manifest.jsonl", 123, 456]
GOOD = [[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]


def _write(model_dir: Path, probabilities: list) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "labels": LABELS,
        "manifest": MANIFEST,
        "splits": {"test": {"ids": [f"c{i}" for i in range(len(probabilities))], "probabilities": probabilities}},
    }
    # json.dumps writes NaN / Infinity as Python's json does (and reads them back)
    (model_dir / PREDICTIONS_FILE).write_text(json.dumps(data))
    return model_dir


def test_good_record_is_read(tmp_path: Path):
    got = read_predictions(_write(tmp_path / "m", GOOD), "test", LABELS, MANIFEST)
    assert got is not None and list(got) == ["c0", "c1"]
    np.testing.assert_allclose(got["c0"], GOOD[0], rtol=1e-6)


def test_written_record_round_trips(tmp_path: Path):
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=5).astype(np.float32)
    EvalPredictions(LABELS, {"test": ([f"c{i}" for i in range(5)], probs)}, MANIFEST).write(tmp_path)
    got = read_predictions(tmp_path, "test", LABELS, MANIFEST)
    assert got is not None and len(got) == 5


@pytest.mark.parametrize(
    "bad_row",
    [
        [float("nan"), 0.5, 0.25, 0.25],
        [float("inf"), 0.0, 0.0, 0.0],
        [-float("inf"), 1.0, 0.0, 0.0],
        [-0.2, 0.6, 0.3, 0.3],  # sums to 1, one negative
        [0.5, 0.5, 0.5, 0.5],  # sums to 2
        [0.2, 0.2, 0.2, 0.2],  # sums to 0.8
        [0.0, 0.0, 0.0, 0.0],
        [0.7, 0.1, 0.1, 0.102],  # off by 2e-3
    ],
    ids=["nan", "inf", "-inf", "negative", "sum-2", "sum-0.8", "zeros", "sum-off-2e-3"],
)
def test_implausible_probabilities_are_not_recorded(tmp_path: Path, bad_row):
    model_dir = _write(tmp_path / "m", [GOOD[0], bad_row])
    assert read_predictions(model_dir, "test", LABELS, MANIFEST) is None


def test_rounding_within_tolerance_is_kept(tmp_path: Path):
    model_dir = _write(tmp_path / "m", [[0.7, 0.1, 0.1, 0.1005], GOOD[1]])  # off by 5e-4
    assert read_predictions(model_dir, "test", LABELS, MANIFEST) is not None
