"""Shared fixtures. Real-data tests read ../shared/data (or $RESPGEN_SHARED_DATA); they skip when it
is absent, except under CI (RESPGEN_REQUIRE_SHARED_DATA=1), where missing data is a failure. Service tests
that only need some prepared workspace use the `demo_*` fixtures (made by `respgen.services.demo_data`), which run
everywhere."""

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
    from respgen.services.prepare import prepare

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
    return sharing_data(tmp_path / "work", mini_workdir)


@pytest.fixture(scope="session")
def trained_vocoder(mini_workdir: Path, tmp_path_factory) -> Path:
    """A workdir with a tiny vocoder trained a few steps on the real icbhi-mini train cycles."""
    return with_tiny_vocoder(sharing_data(tmp_path_factory.mktemp("vocoder-work"), mini_workdir))


@pytest.fixture(scope="session")
def demo_workdir(tmp_path_factory) -> Path:
    """A small demo dataset (every class in train and test, no val split) prepared once, for the service
    tests that only read a workspace; runs without ../shared/data."""
    from respgen.config import DemoDataConfig, PrepareConfig
    from respgen.services.demo_data import make_demo_data
    from respgen.services.prepare import prepare

    root = tmp_path_factory.mktemp("demo")
    make_demo_data(DemoDataConfig(out_dir=root / "icbhi", patients=6, recordings_per_patient=2, cycles_per_recording=6))
    workdir = root / "work"
    result = prepare(PrepareConfig(icbhi_dir=root / "icbhi", workdir=workdir, val_fraction=0, workers=1))
    assert all(result.counts[s][c] >= 2 for s in ("train", "test") for c in result.counts[s]), result.counts
    return workdir


@pytest.fixture
def demo_copy(demo_workdir: Path, tmp_path: Path) -> Path:
    """A fresh workdir sharing the prepared demo data (read-only) with the session fixture."""
    return sharing_data(tmp_path / "work", demo_workdir)


@pytest.fixture(scope="session")
def demo_vocoder(demo_workdir: Path, tmp_path_factory) -> Path:
    """A workdir with a tiny vocoder trained a few steps on the demo train cycles."""
    return with_tiny_vocoder(sharing_data(tmp_path_factory.mktemp("demo-vocoder-work"), demo_workdir))


def sharing_data(work: Path, source: Path) -> Path:
    """`work` (created if missing) with `data/` a symlink to `source`'s prepared data (read-only)."""
    work.mkdir(exist_ok=True)
    (work / "data").symlink_to(source / "data", target_is_directory=True)
    return work


def with_tiny_vocoder(work: Path) -> Path:
    """`work` after a tiny vocoder trained a few steps on its train cycles."""
    from respgen.config import VocoderTrainConfig
    from respgen.services.vocoder_train import train_vocoder

    train_vocoder(VocoderTrainConfig(workdir=work, preset="tiny", max_steps=4, batch_size=2, save_every=2))
    return work


def split_counts(work: Path, split: str) -> dict[str, int]:
    """{class: cycles} of one split in `work`'s real manifest, in class order."""
    from respgen.data.manifest import read_rows
    from respgen.labels import CLASSES

    rows = [r for r in read_rows(work / "data" / "manifest.jsonl") if r["split"] == split]
    return {c: sum(r["label"] == c for r in rows) for c in CLASSES}


def add_synthetic_rows(work: Path, per_class: int = 3) -> None:
    """A small synthetic manifest made in the test: the workspace's train crackle/wheeze/both cycles with added
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


@pytest.fixture
def demo_synth(demo_copy: Path) -> Path:
    """A private demo workspace with a few synthetic rows per class (`add_synthetic_rows`)."""
    add_synthetic_rows(demo_copy)
    return demo_copy


@pytest.fixture(scope="session")
def quickstart_small(tmp_path_factory) -> tuple[Path, dict]:
    """One small quickstart workspace (4 vocoder steps, 2 synthetic cycles per class, 4 epochs) shared by
    the quickstart and report tests, and its `--json` output."""
    import json

    from typer.testing import CliRunner

    from respgen.cli.app import app

    work = tmp_path_factory.mktemp("qs") / "qs"
    args = ["quickstart", "--workdir", str(work), "--vocoder-steps", "4", "--synth-per-class", "2", "--epochs", "4"]
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return work, json.loads(r.stdout)
