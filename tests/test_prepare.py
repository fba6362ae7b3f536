"""`prepare` on the real icbhi-mini recordings and on a full-size placeholder ICBHI folder."""

import json
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf

from respgen.config import PrepareConfig
from respgen.data.icbhi import parse_annotation
from respgen.data.manifest import read_rows
from respgen.services.prepare import prepare

MINI_TRAIN = {"normal": 25, "crackle": 34, "wheeze": 11, "both": 10}
MINI_TEST = {"normal": 80, "crackle": 1, "wheeze": 10, "both": 0}
FULL_TRAIN = {"normal": 2063, "crackle": 1215, "wheeze": 501, "both": 363}
FULL_TEST = {"normal": 1579, "crackle": 649, "wheeze": 385, "both": 143}
REQUIRED = {
    "id",
    "path",
    "label",
    "split",
    "patient",
    "recording",
    "location",
    "device",
    "start",
    "end",
    "duration",
    "source",
    "sample_rate",
}


def test_mini_counts_via_cli(icbhi_mini: Path, tmp_path: Path, cli):
    r = cli("prepare", icbhi_mini, "--workdir", tmp_path, "--val-fraction", "0", "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["counts"]["train"] == MINI_TRAIN
    assert result["counts"]["test"] == MINI_TEST
    assert result["recordings"] == {"train": 10, "val": 0, "test": 9}


def test_mini_clips_match_annotations(icbhi_mini: Path, mini_workdir: Path):
    rows = read_rows(mini_workdir / "data" / "manifest.jsonl")
    assert len(rows) == 171 and len({r["id"] for r in rows}) == 171
    for row in rows:
        assert REQUIRED <= row.keys()
        assert row["source"] == "real" and row["sample_rate"] == 16000
        info = sf.info(str(mini_workdir / "data" / row["path"]))
        assert info.samplerate == 16000 and info.channels == 1
        if not row["clipped"]:
            assert abs(info.frames - (row["end"] - row["start"]) * 16000) <= 1, row["id"]
        assert info.frames == round(row["duration"] * 16000)
    # every annotated cycle of every recording is there, in order
    per_rec = Counter(r["recording"] for r in rows)
    for rec, n in per_rec.items():
        assert n == len(parse_annotation(icbhi_mini / f"{rec}.txt"))


def test_clip_content_is_the_resampled_cycle(icbhi_mini: Path, mini_workdir: Path):
    import torch
    import torchaudio

    row = next(
        r for r in read_rows(mini_workdir / "data" / "manifest.jsonl") if r["recording"] == "104_1b1_Al_sc_Litt3200"
    )
    wave, sr = sf.read(str(icbhi_mini / "104_1b1_Al_sc_Litt3200.wav"), dtype="float32")
    ref = torchaudio.functional.resample(torch.from_numpy(wave), sr, 16000)
    s = round(row["start"] * 16000)
    expected = ref[s : s + round(row["duration"] * 16000)].numpy()
    clip, _ = sf.read(str(mini_workdir / "data" / row["path"]), dtype="float32")
    assert abs(clip - expected).max() < 2 / 32768  # 16-bit quantisation only


def test_rerun_is_idempotent_and_val_fallback_is_reported(icbhi_mini: Path, tmp_path: Path):
    cfg = PrepareConfig(icbhi_dir=icbhi_mini, workdir=tmp_path, workers=2)
    first = prepare(cfg)
    manifest1 = (tmp_path / "data" / "manifest.jsonl").read_text()
    clips1 = sorted(p.relative_to(tmp_path) for p in (tmp_path / "data").rglob("*.wav"))
    second = prepare(cfg)
    assert (tmp_path / "data" / "manifest.jsonl").read_text() == manifest1
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "data").rglob("*.wav")) == clips1
    assert first.counts == second.counts
    # 4 train patients cannot make a stratified patient-disjoint val: documented fallback, test untouched
    assert "no val split" in first.val_note
    assert first.counts["train"] == MINI_TRAIN and first.counts["test"] == MINI_TEST
    assert json.loads((tmp_path / "data" / "prepare.json").read_text())["val_note"] == first.val_note
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no staging leftovers


def test_binary_labels(mini_workdir: Path, icbhi_mini: Path, tmp_path: Path):
    result = prepare(PrepareConfig(icbhi_dir=icbhi_mini, workdir=tmp_path, val_fraction=0, labels="binary", workers=1))
    assert result.counts["train"] == {"normal": 25, "abnormal": 55}
    assert result.counts["test"] == {"normal": 80, "abnormal": 11}


def test_subfolder_layout_and_explicit_split_file(icbhi_mini: Path, tmp_path: Path):
    src = tmp_path / "icbhi" / "audio_and_txt_files"
    src.mkdir(parents=True)
    for p in list(icbhi_mini.glob("104_*")):
        (src / p.name).symlink_to(p)
    result = prepare(
        PrepareConfig(
            icbhi_dir=tmp_path / "icbhi",
            workdir=tmp_path / "w",
            val_fraction=0,
            workers=1,
            split_file=icbhi_mini / "ICBHI_challenge_train_test.txt",
        )
    )
    assert result.recordings == {"train": 0, "val": 0, "test": 6}


@pytest.fixture(scope="module")
def full_icbhi(icbhi_annotations: Path, tmp_path_factory) -> Path:
    from placeholder import build_placeholder_icbhi

    out = tmp_path_factory.mktemp("full-icbhi")
    assert build_placeholder_icbhi(icbhi_annotations, out, other_release=True) == 920
    return out


@pytest.mark.slow
def test_full_size_exact_counts(full_icbhi: Path, tmp_path: Path):
    # 91 recordings carry the other release's device name: matched to the split by the first 4 fields
    result = prepare(PrepareConfig(icbhi_dir=full_icbhi, workdir=tmp_path, val_fraction=0))
    assert result.counts["train"] == FULL_TRAIN
    assert result.counts["test"] == FULL_TEST
    assert sum(result.recordings.values()) == 920
    assert result.skipped == []


@pytest.mark.slow
def test_full_size_val_split_is_patient_disjoint_and_stratified(full_icbhi: Path, tmp_path: Path):
    result = prepare(PrepareConfig(icbhi_dir=full_icbhi, workdir=tmp_path))
    train, val = result.counts["train"], result.counts["val"]
    assert {c: train[c] + val[c] for c in train} == FULL_TRAIN
    assert result.counts["test"] == FULL_TEST
    assert all(n > 0 for n in val.values())
    assert 0.05 <= sum(val.values()) / sum(FULL_TRAIN.values()) <= 0.2
    rows = read_rows(tmp_path / "data" / "manifest.jsonl")
    patients = {s: {r["patient"] for r in rows if r["split"] == s} for s in ("train", "val", "test")}
    assert not patients["train"] & patients["val"]
    assert not patients["val"] & patients["test"]
