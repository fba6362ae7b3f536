"""`classify` with a tiny model trained on the real icbhi-mini cycles."""

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.config import FinetuneConfig
from respgen.data.icbhi import parse_annotation
from respgen.services.finetune import finetune

REC = "104_1b1_Al_sc_Litt3200"  # 4 kHz, 15.86 s, 6 annotated cycles


@pytest.fixture(scope="module")
def model_dir(mini_workdir: Path, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("clf")
    (work / "data").symlink_to(mini_workdir / "data", target_is_directory=True)
    return Path(finetune(FinetuneConfig(workdir=work, preset="tiny", epochs=1, length=2.0, name="m")).run_dir)


def run_json(cli, *args):
    r = cli("classify", *args, "--json")
    return r, (json.loads(r.stdout) if r.stdout.strip() else None)


def test_per_cycle_with_annotations(cli, model_dir: Path, icbhi_mini: Path):
    r, out = run_json(cli, icbhi_mini / f"{REC}.wav", "--model", model_dir)
    assert r.exit_code == 0, r.output
    f = out["files"][0]
    cycles = parse_annotation(icbhi_mini / f"{REC}.txt")
    assert f["segmentation"] == "annotations" and len(f["segments"]) == len(cycles) == 6
    for seg, cy in zip(f["segments"], cycles):
        assert seg["start"] == pytest.approx(cy.start) and seg["end"] == pytest.approx(min(cy.end, 15.86), abs=0.01)
        assert sum(seg["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert seg["label"] == max(seg["probabilities"], key=seg["probabilities"].get)
    assert f["summary"]["segments"] == 6 and sum(f["summary"]["counts"].values()) == 6


def test_windows_without_annotations(cli, model_dir: Path, icbhi_mini: Path, tmp_path: Path):
    wav = tmp_path / "rec.wav"
    shutil.copy(icbhi_mini / f"{REC}.wav", wav)  # no .txt beside it
    r, out = run_json(cli, wav, "--model", model_dir, "--hop", "1.0")
    assert r.exit_code == 0
    segs = out["files"][0]["segments"]
    assert out["files"][0]["segmentation"] == "windows"
    assert [s["start"] for s in segs] == [float(i) for i in range(len(segs))]
    assert segs[-1]["end"] == pytest.approx(15.86, abs=0.01) and segs[0]["end"] == 2.0  # model length 2 s
    # an explicit annotation file wins over windows
    r, out = run_json(cli, wav, "--model", model_dir, "--annotations", icbhi_mini / f"{REC}.txt")
    assert out["files"][0]["segmentation"] == "annotations"
    # the table and CSV renderings
    r = cli("classify", wav, "--model", model_dir)
    assert r.exit_code == 0 and "summary:" in r.stdout
    r = cli("classify", wav, "--model", model_dir, "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and set(rows[0]) == {"file", "start", "end", "label", "p_normal", "p_crackle", "p_wheeze", "p_both"}


def test_many_files_batched_with_bad_ones_reported(cli, model_dir: Path, icbhi_mini: Path, tmp_path: Path):
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), 16000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.random.default_rng(0).standard_normal((22050 * 3, 2)) * 0.1, 22050)
    r, out = run_json(
        cli, icbhi_mini / f"{REC}.wav", empty, junk, tmp_path / "missing.wav", stereo, "--model", model_dir
    )
    assert r.exit_code == 2
    assert [Path(f["file"]).name for f in out["files"]] == [f"{REC}.wav", "stereo.wav"]
    assert {Path(e["file"]).name for e in out["errors"]} == {"empty.wav", "junk.wav", "missing.wav"}
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)


def test_model_and_annotation_errors(cli, model_dir: Path, icbhi_mini: Path, tmp_path: Path):
    wav = icbhi_mini / f"{REC}.wav"
    r = cli("classify", wav, "--model", tmp_path)
    assert r.exit_code == 2 and "not a respgen model dir" in r.stderr
    r = cli("classify", wav, "--workdir", tmp_path / "nowork")
    assert r.exit_code == 2 and "model dir not found" in r.stderr
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"xx")
    r = cli("classify", wav, "--model", broken)
    assert r.exit_code == 2 and "unreadable respgen model" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.txt"
    bad.write_text("0.1\t0.5\t0\n")
    r = cli("classify", wav, "--model", model_dir, "--annotations", bad)
    assert r.exit_code == 2 and "bad.txt:1" in r.stderr
