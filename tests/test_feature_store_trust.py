"""A cached feature file of the right shape holding a NaN or inf is a miss: computed again and rewritten,
never fed to training (where it made every finetune stop with "training diverged")."""

from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import features_for_rows
from respgen.classifier.feature_store import FeatureKey, FeatureStore
from respgen.config import FinetuneConfig
from respgen.data.manifest import read_rows
from respgen.services.finetune import finetune


def _poison(path: Path, value: float) -> None:
    array = np.load(path)
    array[3, 7] = value
    np.save(path, array)


def test_non_finite_cache_file_is_recomputed_and_rewritten(demo_copy: Path):
    manifest = demo_copy / "data" / "manifest.jsonl"
    rows = read_rows(manifest)[:4]
    key = FeatureKey(1.0, "repeat")
    files = FeatureStore(demo_copy / "cache" / "features", demo_copy).features(manifest, rows, key).files
    _poison(files[0], np.nan)
    _poison(files[1], np.inf)
    _poison(files[2], -np.inf)
    store = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    again = store.features(manifest, rows, key)
    assert store.computed == 3 and again.files == files  # the same files, rewritten
    assert all(np.isfinite(np.load(f)).all() for f in files)
    torch.testing.assert_close(again[:], features_for_rows(manifest, rows, 1.0, "repeat"), rtol=0, atol=0)
    third = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    third.features(manifest, rows, key)
    assert third.computed == 0  # rewritten whole: read back from now on


def test_finetune_recovers_from_a_poisoned_feature_cache(demo_synth: Path):
    fast = dict(preset="tiny", epochs=1, length=1.0, batch_size=16)
    first = finetune(FinetuneConfig(workdir=demo_synth, name="f1", **fast))
    cached = sorted((demo_synth / "cache" / "features").rglob("*.npy"))
    assert first.features_computed > 0 and cached
    for f in cached:
        _poison(f, np.nan)
    second = finetune(FinetuneConfig(workdir=demo_synth, name="f2", **fast))  # used to raise: training diverged
    assert second.features_computed == len(cached)
    assert second.metrics["test"]["confusion"] == first.metrics["test"]["confusion"]
