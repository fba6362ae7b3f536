"""respgen.augment and `synth --vocoder augment`: real cycles through conventional waveform augmentation."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen import augment as aug
from respgen.data.manifest import read_rows
from respgen.errors import RespgenError

SR = 16000


def breath(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    rng = np.random.default_rng(0)
    return (0.1 * np.sin(2 * np.pi * 300 * t) + 0.02 * rng.standard_normal(n)).astype(np.float32)


def test_deterministic_per_seed_same_length_and_rngs_untouched():
    x = breath(SR)
    random.seed(1)
    np.random.seed(1)
    expected = random.random(), np.random.random()
    random.seed(1)
    np.random.seed(1)
    a = aug.augment(x, SR, 7, 30.0)
    assert (random.random(), np.random.random()) == expected  # the caller's RNG streams are untouched
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, aug.augment(x, SR, 7, 30.0))
    assert not np.array_equal(a, aug.augment(x, SR, 8, 30.0))
    assert aug.augment(breath(5000), SR, 7, 30.0).shape == (5000,)  # any length, also after a faster stretch


def test_draws_stay_in_their_ranges():
    r = aug.AugmentRanges()
    for seed in range(50):
        d = aug.draw(seed, 25.0)
        assert d == aug.draw(seed, 25.0)
        assert 1 - r.stretch <= d.stretch <= 1 + r.stretch and abs(d.shift) <= r.shift
        assert abs(d.semitones) <= r.semitones and abs(d.gain_db) <= r.gain_db
        assert 25.0 <= d.snr_db <= 25.0 + r.snr_span_db  # never noisier than the SNR asked for


def test_provenance_names_library_version_and_ranges():
    p = aug.provenance(30.0)
    assert p["kind"] == "augment" and p["library"] == "audiomentations" and p["version"] == aug.library_version()
    assert p["transforms"]["gaussian_snr_db"] == [30.0, 50.0] and p["transforms"]["time_stretch"] == [0.9, 1.1]


def test_missing_library_is_one_line(monkeypatch):
    def missing(name):
        raise aug.PackageNotFoundError(name)

    monkeypatch.setattr(aug, "version", missing)
    with pytest.raises(RespgenError, match=r"^audiomentations is not installed.*pip install 'respgen\[augment\]'$"):
        aug.provenance(30.0)


AUG = ["--vocoder", "augment", "--length", "0.5", "--aug-snr-db", "35"]


def test_synth_augment_rows_lengths_resume(cli, demo_copy: Path):
    r = cli("synth", *AUG, "--class", "wheeze", "--n", "5", "--batch-size", "2", "--workdir", demo_copy, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["set"] == "augment" and out["written"] == {"wheeze": 5} and out["vocoder"]["kind"] == "augment"
    root = demo_copy / "synth" / "augment"
    rows = read_rows(root / "manifest.jsonl", "synthetic")
    real = {x["id"]: x for x in read_rows(demo_copy / "data" / "manifest.jsonl")}
    for k, row in enumerate(rows):
        assert row["vocoder"] == out["vocoder"] and row["vocoder"]["version"] == aug.library_version()
        assert real[row["conditioned_on"]]["label"] == "wheeze" and real[row["conditioned_on"]]["split"] == "train"
        assert row["augment"] == aug.draw(row["seed"], 35.0).as_dict() and row["augment"]["snr_db"] >= 35
        assert "steps" not in row and "vary" not in row and ("mel_l1_other_seed" in row) == (k < 4)
        assert row["duration"] == 0.5 and sf.info(root / row["path"]).frames == SR // 2
        assert row["mel_l1"] < row["mel_l1_noise"]
    # resume: a lost clip is made again byte-identical (per-clip seeds, another batch size)
    lost = root / rows[3]["path"]
    before = lost.read_bytes()
    lost.unlink()
    r = cli("synth", *AUG, "--class", "wheeze", "--n", "5", "--workdir", demo_copy, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["written"] == {"wheeze": 1}
    assert lost.read_bytes() == before
    # augment does not vary a mel: one line, exit 2
    r = cli("synth", *AUG, "--vary", "--class", "wheeze", "--n", "6", "--workdir", demo_copy)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and "--vary" in r.stderr
