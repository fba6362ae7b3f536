"""respgen.workspace.Workspace: where every stage reads and writes, and the manifests read through it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respgen.errors import RespgenError
from respgen.labels import CLASSES
from respgen.workspace import Workspace, default_workdir


def test_paths(tmp_path: Path):
    ws = Workspace(tmp_path)
    assert ws.manifest == tmp_path / "data" / "manifest.jsonl"
    assert ws.prepare_info == tmp_path / "data" / "prepare.json"
    assert ws.vocoder_metrics == tmp_path / "vocoder" / "metrics.jsonl"
    assert ws.synth_manifest == tmp_path / "synth" / "manifest.jsonl"
    assert ws.models_latest == tmp_path / "models" / "latest"
    assert ws.model_run("ce") == tmp_path / "models" / "ce"
    assert ws.report_md == tmp_path / "report" / "report.md"
    assert not any(tmp_path.iterdir())  # naming paths creates nothing


def test_default_workdir(monkeypatch):
    monkeypatch.delenv("RESPGEN_WORKDIR", raising=False)
    assert default_workdir() == Path("respgen-work")
    monkeypatch.setenv("RESPGEN_WORKDIR", "/somewhere/else")
    assert default_workdir() == Path("/somewhere/else")


def test_classes_default_and_from_prepare_json(tmp_path: Path):
    ws = Workspace(tmp_path)
    assert ws.classes() == CLASSES
    ws.data.mkdir()
    ws.prepare_info.write_text(json.dumps({"classes": ["normal", "abnormal"]}))
    assert ws.classes() == ("normal", "abnormal")
    ws.prepare_info.write_text("{not json")
    with pytest.raises(RespgenError, match="prepare.json"):
        ws.classes()


def write_rows(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def real_row(i: int, split: str) -> dict:
    return {
        "id": f"r{i}",
        "path": f"clips/r{i}.wav",
        "label": "normal",
        "split": split,
        "source": "real",
        "patient": "101",
        "recording": "101_1b1_Al_sc_Meditron",
    }


def test_real_rows_split_filter(tmp_path: Path):
    ws = Workspace(tmp_path)
    with pytest.raises(RespgenError, match="respgen prepare"):
        ws.real_rows()
    write_rows(ws.manifest, [real_row(0, "train"), real_row(1, "val"), real_row(2, "test"), real_row(3, "train")])
    assert [r["id"] for r in ws.real_rows()] == ["r0", "r1", "r2", "r3"]
    assert [r["id"] for r in ws.real_rows(("train",))] == ["r0", "r3"]
    assert [r["id"] for r in ws.real_rows(("train", "val"))] == ["r0", "r1", "r3"]
    assert ws.real_rows(("nothing",)) == []


def test_synthetic_rows_skip_missing_audio(tmp_path: Path):
    ws = Workspace(tmp_path)
    assert ws.synthetic_rows() == []  # nothing synthesised yet
    rows = [
        {"id": f"crackle_{k:05d}", "path": f"crackle/crackle_{k:05d}.wav", "label": "crackle", "split": "train"}
        for k in range(3)
    ]
    write_rows(ws.synth_manifest, rows)
    for k in (0, 2):
        (ws.synth / "crackle").mkdir(exist_ok=True)
        (ws.synth / "crackle" / f"crackle_{k:05d}.wav").write_bytes(b"RIFF")
    assert [r["id"] for r in ws.synthetic_rows()] == ["crackle_00000", "crackle_00002"]
