"""`classify` work is bounded: a minimum hop, features computed one batch at a time; clear file errors."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.classifier.data import n_frames
from respgen.classifier.model import AFTClassifier
from respgen.classifier.presets import PRESETS
from respgen.classifier.run_record import SeedRecord
from respgen.classifier.store import FeatureSpec, save_model_dir
from respgen.labels import CLASSES

classify_module = importlib.import_module("respgen.services.classify")  # (the package exports a function of that name)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "m"
    model = AFTClassifier(PRESETS["tiny"].ast_config(n_frames(1.0), CLASSES), discriminator=False)
    save_model_dir(
        out, model, list(CLASSES), FeatureSpec(16000, 1.0, "repeat", n_frames(1.0)), {}, {}, [], SeedRecord()
    )
    return out


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "long.wav"
    sf.write(str(path), 0.1 * np.random.default_rng(0).standard_normal(16000 * 11).astype(np.float32), 16000)
    return path


def test_tiny_hop_refused(cli, model_dir: Path, wav: Path):
    r = cli("classify", wav, "--model", model_dir, "--hop", "0.0001")
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == ["error: --hop 0.0001 is too small: use at least 0.05 s"]


def test_features_streamed_in_batches(cli, model_dir: Path, wav: Path, monkeypatch):
    """Features of a batch are computed just before that batch's forward pass, never all up front."""
    events: list[str] = []
    features = classify_module.clip_features
    forward = AFTClassifier.forward

    def counted_features(*a, **k):
        events.append("f")
        return features(*a, **k)

    def counted_forward(self, x, *a, **k):
        events.append(f"m{x.shape[0]}")
        return forward(self, x, *a, **k)

    monkeypatch.setattr(classify_module, "clip_features", counted_features)
    monkeypatch.setattr(AFTClassifier, "forward", counted_forward)
    r = cli("classify", wav, wav, "--model", model_dir, "--hop", "0.5", "--batch-size", "8", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    n = [len(f["segments"]) for f in out["files"]]
    assert n == [21, 21]  # 0, 0.5, ..., 10.0 (the last window reaches the end)
    expected = []
    for i in range(0, 42, 8):
        size = min(8, 42 - i)
        expected += ["f"] * size + [f"m{size}"]
    assert events == expected  # the batches span both files
    assert out["files"][1]["segments"][0]["start"] == 0.0


def test_min_hop_accepted(cli, model_dir: Path, wav: Path):
    r = cli("classify", wav, "--model", model_dir, "--hop", "0.05", "--batch-size", "64", "--json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["files"][0]["segments"]) == 201


def test_directory_is_named_as_such(cli, model_dir: Path, wav: Path, tmp_path: Path):
    r = cli("classify", tmp_path, "--model", model_dir, "--json")
    assert r.exit_code == 2
    assert json.loads(r.stdout)["errors"][0]["error"] == f"is a directory, not an audio file ({tmp_path})"
    assert r.stderr.strip().splitlines() == [f"error: is a directory, not an audio file ({tmp_path})"]
