"""Shared fixtures. Real-data tests read ../shared/data (or $RESPGEN_SHARED_DATA); they skip when it
is absent, except under CI (RESPGEN_REQUIRE_SHARED_DATA=1), where missing data is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from respgen.cli.app import app

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RESPGEN_SHARED_DATA", REPO.parent / "shared" / "data"))


def _shared(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.is_dir():
        if os.environ.get("RESPGEN_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"real ICBHI data required but missing: {path}")
        pytest.skip(f"real ICBHI data not available at {path} (set RESPGEN_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def icbhi_mini() -> Path:
    return _shared("icbhi-mini")


@pytest.fixture(scope="session")
def icbhi_annotations() -> Path:
    return _shared("icbhi-annotations")


@pytest.fixture(scope="session")
def mini_workdir(icbhi_mini, tmp_path_factory) -> Path:
    """icbhi-mini prepared once (val split off) for the tests that only read it."""
    from respgen.config import PrepareConfig
    from respgen.prepare import prepare

    workdir = tmp_path_factory.mktemp("mini-work")
    prepare(PrepareConfig(icbhi_dir=icbhi_mini, workdir=workdir, val_fraction=0, workers=1))
    return workdir


@pytest.fixture
def cli():
    """Invoke the CLI in-process: cli("prepare", "x", ...) -> click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def mini_copy(mini_workdir: Path, tmp_path: Path) -> Path:
    """A fresh workdir sharing the prepared icbhi-mini data (read-only) with the session fixture."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "data").symlink_to(mini_workdir / "data", target_is_directory=True)
    return work


@pytest.fixture(scope="session")
def trained_vocoder(mini_workdir: Path, tmp_path_factory) -> Path:
    """A workdir with a tiny vocoder trained a few steps on the real icbhi-mini train cycles."""
    from respgen.config import VocoderTrainConfig
    from respgen.train_vocoder import train_vocoder

    work = tmp_path_factory.mktemp("vocoder-work")
    (work / "data").symlink_to(mini_workdir / "data", target_is_directory=True)
    train_vocoder(VocoderTrainConfig(workdir=work, preset="tiny", max_steps=4, batch_size=2, save_every=2))
    return work


def add_synthetic_rows(work: Path, per_class: int = 3) -> None:
    """A small synthetic manifest made in the test: real train crackle/wheeze/both cycles with added
    noise, written as `synth/<class>/<id>.wav` rows (what `respgen synth` writes)."""
    import json

    import numpy as np

    from respgen.audio import load_audio, write_wav
    from respgen.data.manifest import read_rows

    rng = np.random.default_rng(0)
    rows = []
    real = [r for r in read_rows(work / "data" / "manifest.jsonl") if r["split"] == "train"]
    for label in ("crackle", "wheeze", "both"):
        for k, src in enumerate([r for r in real if r["label"] == label][:per_class]):
            audio = load_audio(work / "data" / src["path"]).numpy()
            cid = f"{label}_{k:05d}"
            write_wav(work / "synth" / label / f"{cid}.wav", audio + 0.01 * rng.standard_normal(len(audio)))
            rows.append(
                {
                    "id": cid,
                    "path": f"{label}/{cid}.wav",
                    "label": label,
                    "split": "train",
                    "source": "synthetic",
                    "conditioned_on": src["id"],
                    "vocoder": {"step": 0, "hash": "test"},
                }
            )
    (work / "synth" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
