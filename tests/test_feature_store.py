"""The feature store: features computed once per (clip, spec), identical to the in-memory path, reused
by later runs, invalidated by a changed clip or spec, and safe against a run killed while writing."""

import os
from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import features_for_rows
from respgen.classifier.feature_store import ClipFeatures, FeatureKey, FeatureStore, Memo, trim_heap
from respgen.config import FinetuneConfig
from respgen.data.manifest import read_rows
from respgen.services.finetune import finetune

FAST = dict(preset="tiny", epochs=2, length=1.0, batch_size=16)


def _rows(work: Path, n: int = 5) -> list[dict]:
    return read_rows(work / "data" / "manifest.jsonl")[:n]


def test_same_features_as_in_memory_and_computed_once(demo_copy: Path):
    manifest, rows = demo_copy / "data" / "manifest.jsonl", _rows(demo_copy)
    key = FeatureKey(1.0, "repeat")
    store = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    stored = store.features(manifest, rows, key)
    assert store.computed == 5 and stored.shape == (5, key.frames, 128)
    torch.testing.assert_close(stored[:], features_for_rows(manifest, rows, 1.0, "repeat"), rtol=0, atol=0)
    torch.testing.assert_close(stored[torch.tensor([4, 0])], stored[:][[4, 0]], rtol=0, atol=0)
    again = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    again.features(manifest, rows, key)
    assert again.computed == 0  # read back, not computed
    again.features(manifest, rows, FeatureKey(1.0, "zero"))
    assert again.computed == 5  # another spec: other files


def test_changed_clip_broken_file_and_killed_write(demo_copy: Path):
    manifest, rows = demo_copy / "data" / "manifest.jsonl", _rows(demo_copy, 3)
    key = FeatureKey(1.0, "repeat")
    store = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    files = store.features(manifest, rows, key).files
    # a run killed while writing leaves only a temporary file, which is never read
    (files[0].parent / ".tmp-killed.npy").write_bytes(b"\x93NUMPY half")
    # a truncated cache file is computed again, the rest is kept
    files[1].write_bytes(files[1].read_bytes()[:100])
    # a re-written clip gets a new cache file
    audio = manifest.parent / rows[2]["path"]
    st = audio.stat()
    os.utime(audio, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    store = FeatureStore(demo_copy / "cache" / "features", demo_copy)
    again = store.features(manifest, rows, key)
    assert store.computed == 2 and again.files[0] == files[0] and again.files[2] != files[2]
    clean = features_for_rows(manifest, rows, 1.0, "repeat")
    torch.testing.assert_close(again[:], clean, rtol=0, atol=0)
    assert np.load(again.files[1]).shape == (key.frames, 128)


def test_finetune_cached_equals_uncached_and_second_run_computes_nothing(demo_synth: Path):
    first = finetune(FinetuneConfig(workdir=demo_synth, name="c1", **FAST))
    assert first.features_computed > 0 and (demo_synth / "cache" / "features").is_dir()
    second = finetune(FinetuneConfig(workdir=demo_synth, name="c2", **FAST))
    assert second.features_computed == 0
    plain = finetune(FinetuneConfig(workdir=demo_synth, name="c3", feature_cache=False, **FAST))
    for run in (second, plain):
        assert run.metrics["test"]["confusion"] == first.metrics["test"]["confusion"]
        assert run.metrics["history"][-1]["loss"] == first.metrics["history"][-1]["loss"]


def test_memo_keeps_its_budget_and_maps_the_rest(tmp_path: Path):
    """Within the budget a read array stays in memory; beyond it each read is a private mapping of the
    file (no heap block to fragment), with the same values, writable without touching the file."""
    rng = np.random.default_rng(0)
    files = []
    for k in range(3):
        files.append(tmp_path / f"{k}.npy")
        np.save(files[-1], rng.standard_normal((4, 128)).astype(np.float32))
    memo = Memo(budget=2 * 4 * 128 * 4)  # two arrays
    feats = ClipFeatures(files, 4, memo)
    batch = feats[[0, 1, 2]]
    assert [np.array_equal(batch[k].numpy(), np.load(f)) for k, f in enumerate(files)] == [True] * 3
    assert memo.used == memo.budget and set(memo.arrays) == set(files[:2])
    mapped = memo.load(files[2])
    assert isinstance(mapped, np.memmap) and not isinstance(memo.load(files[0]), np.memmap)
    item = feats[2]
    item += 1  # copy-on-write: the cache file is unchanged
    assert np.array_equal(np.load(files[2]), batch[2].numpy())
    assert isinstance(trim_heap(), bool)
