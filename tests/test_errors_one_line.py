"""Errors the user can fix are exit 2 and exactly one `error:` line (library warnings and logs only with
--debug); half-broken workspaces recover or say how."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

from respgen.config import PrepareConfig
from respgen.errors import RespgenError
from tests.test_prepare_errors import assert_clean_error, make_folder, run_prepare

TINY_VOCODER = ("--preset", "tiny", "--batch-size", "2")


def copy_vocoder_work(demo_vocoder: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "data").symlink_to(demo_vocoder / "data", target_is_directory=True)
    shutil.copytree(demo_vocoder / "vocoder", work / "vocoder", symlinks=True)
    return work


# --- item 7: unwritable workdirs, foreign training state ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("vocoder", "train", *TINY_VOCODER),
        ("synth", "--n", "1", "--class", "crackle"),
        ("report",),
        ("finetune", "--preset", "tiny"),
    ],
    ids=["vocoder-train", "synth", "report", "finetune"],
)
def test_workdir_not_writable(cli, tmp_path: Path, args):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(cli(*args, "--workdir", blocker / "w"), "workdir is not writable", str(blocker / "w"))


def test_stage_folder_not_writable(cli, demo_copy: Path):
    (demo_copy / "vocoder").write_text("a file where the vocoder folder goes")
    r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "1", "--workdir", demo_copy)
    assert_clean_error(r, str(demo_copy / "vocoder"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_read_only_workdir(cli, demo_copy: Path):
    (demo_copy / "vocoder").mkdir()
    os.chmod(demo_copy / "vocoder", 0o555)
    try:
        r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "1", "--workdir", demo_copy)
        assert_clean_error(r, "vocoder")
    finally:
        os.chmod(demo_copy / "vocoder", 0o755)


def test_state_pt_with_other_keys(cli, demo_vocoder: Path, tmp_path: Path):
    work = copy_vocoder_work(demo_vocoder, tmp_path)
    state = work / "vocoder" / "latest" / "state.pt"
    torch.save({"step": 4, "something": torch.zeros(1)}, state)
    r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "6", "--workdir", work)
    assert_clean_error(r, "training state lacks optimizer, rng", "state.pt")
    torch.save({"step": 4, "optimizer": {"state": {}, "param_groups": []}, "rng": {}}, state)
    r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "6", "--workdir", work)
    assert_clean_error(r, "training state does not fit", "state.pt")
    state.write_bytes(b"\x80\x04not a pickle at all")
    assert_clean_error(cli("vocoder", "train", *TINY_VOCODER, "--workdir", work), "unreadable training state")


# --- item 10: metrics.jsonl after a kill --------------------------------------------------------------


def test_resume_drops_metrics_logged_after_the_checkpoint(cli, demo_vocoder: Path, tmp_path: Path):
    work = copy_vocoder_work(demo_vocoder, tmp_path)
    metrics = work / "vocoder" / "metrics.jsonl"
    logged = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert max(logged) == 4  # the checkpoint's step
    with metrics.open("a") as f:  # what a run killed at step 6, after its last checkpoint at 4, left behind
        f.write(
            json.dumps({"step": 5, "loss": 1.0}) + "\n" + json.dumps({"step": 6, "loss": 1.0}) + '\n{"step": 7, "lo'
        )
    r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "6", "--log-every", "1", "--workdir", work)
    assert r.exit_code == 0, r.output
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == [*logged, 5, 6]


# --- item 4: the latest pointers ----------------------------------------------------------------------


def test_finetune_name_latest_refused_before_training(cli, demo_copy: Path):
    run = demo_copy / "models" / "old-run"
    run.mkdir(parents=True)
    (demo_copy / "models" / "latest").symlink_to("old-run", target_is_directory=True)
    r = cli("finetune", "--workdir", demo_copy, "--preset", "tiny", "--epochs", "1", "--name", "latest")
    assert_clean_error(r, "reserved")
    assert (demo_copy / "models" / "latest").is_symlink()
    assert sorted(p.name for p in (demo_copy / "models").iterdir()) == ["latest", "old-run"]
    for bad in (".hidden", "a/b"):
        r = cli("finetune", "--workdir", demo_copy, "--preset", "tiny", "--epochs", "1", "--name", bad)
        assert_clean_error(r, "invalid name")


def test_real_folder_named_latest(cli, demo_copy: Path):
    squatter = demo_copy / "models" / "latest"
    squatter.mkdir(parents=True)
    (squatter / "metrics.json").write_text("{}")
    r = cli("finetune", "--workdir", demo_copy, "--preset", "tiny", "--epochs", "1", "--name", "x")
    assert_clean_error(r, "must be a pointer", "mv ")
    assert (squatter / "metrics.json").is_file() and not (demo_copy / "models" / "x").exists()  # nothing trained
    (demo_copy / "vocoder" / "latest").mkdir(parents=True)
    r = cli("vocoder", "train", *TINY_VOCODER, "--max-steps", "1", "--workdir", demo_copy)
    assert_clean_error(r, "must be a pointer")


def test_diverged_finetune_is_exit_3_and_leaves_the_workspace_as_it_was(cli, demo_copy: Path, monkeypatch):
    """A loss that stops being finite stops the run: exit 3, one `error:` line, no run folder (not even a
    staging leftover) and `models/latest` still at the previous run. (`--lr 1.0`, the highest the
    config allows, does not reliably diverge the tiny AST; a NaN loss is forced here.)"""
    from types import SimpleNamespace

    from respgen.classifier import training

    models = demo_copy / "models"
    (models / "old-run").mkdir(parents=True)
    (models / "latest").symlink_to("old-run", target_is_directory=True)
    cross_entropy = torch.nn.functional.cross_entropy
    nan_loss = SimpleNamespace(cross_entropy=lambda *a, **k: cross_entropy(*a, **k) * float("nan"))
    monkeypatch.setattr(training, "F", nan_loss)  # only the training step's loss
    r = cli("finetune", "--workdir", demo_copy, "--preset", "tiny", "--epochs", "1", "--length", "1", "--name", "nan")
    assert_clean_error(r, "error: training diverged: the loss is nan at epoch 1, step 1", "--lr", code=3)
    assert sorted(p.name for p in models.iterdir()) == ["latest", "old-run"]
    assert os.readlink(models / "latest") == "old-run"


# --- item 5: leftovers and failed swaps never block prepare ------------------------------------------


def test_leftover_old_folders_do_not_block_prepare(cli, tmp_path: Path):
    src = make_folder(tmp_path / "src")
    work = tmp_path / "w"
    assert run_prepare(cli, src, work).exit_code == 0
    for name in (".data.old", ".data.old-999999-abcd0123", ".data.partial"):
        (work / name / "clips").mkdir(parents=True)
    r = run_prepare(cli, src, work)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in work.iterdir()) == ["data"]


def test_failed_swap_rolls_back_and_rerun_recovers(tmp_path: Path, monkeypatch):
    import importlib

    import respgen.atomic as atomic

    prepare = importlib.import_module("respgen.services.prepare").prepare
    src = make_folder(tmp_path / "src")
    work = tmp_path / "w"
    cfg = PrepareConfig(icbhi_dir=src, workdir=work, val_fraction=0, workers=1)
    prepare(cfg)
    before = (work / "data" / "manifest.jsonl").read_text()
    rename = os.rename

    def failing(a, b):  # putting the new folder in place fails (e.g. data/ not writable)
        if Path(a).name.startswith(".data.partial-"):
            raise PermissionError(13, "Permission denied", str(a))
        rename(a, b)

    monkeypatch.setattr(atomic.os, "rename", failing)
    with pytest.raises(RespgenError, match="cannot replace data") as e:
        prepare(cfg)
    assert e.value.exit_code == 2
    assert (work / "data" / "manifest.jsonl").read_text() == before  # rolled back: the previous data is back
    assert sorted(p.name for p in work.iterdir()) == ["data"]

    def dying(a, b):  # killed mid-swap: the old folder retired, the new one not in place, no roll back
        if Path(b).name == "data":
            raise KeyboardInterrupt
        rename(a, b)

    monkeypatch.setattr(atomic.os, "rename", dying)
    with pytest.raises(KeyboardInterrupt):
        prepare(cfg)
    assert not (work / "data").exists() and any(p.name.startswith(".data.old-") for p in work.iterdir())
    monkeypatch.setattr(atomic.os, "rename", rename)
    prepare(cfg)  # the re-run recovers
    assert sorted(p.name for p in work.iterdir()) == ["data"]
    assert (work / "data" / "manifest.jsonl").read_text() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_unwritable_data_folder(cli, tmp_path: Path):
    src = make_folder(tmp_path / "src")
    work = tmp_path / "w"
    assert run_prepare(cli, src, work).exit_code == 0
    os.chmod(work / "data", 0o555)
    try:
        r = run_prepare(cli, src, work)
        assert r.exit_code in (0, 2) and len(r.stderr.strip().splitlines()) <= 1, r.output
        r = run_prepare(cli, src, work)
        assert r.exit_code == 0, r.output
        assert sorted(p.name for p in work.iterdir()) == ["data"]
    finally:
        for p in work.rglob("*"):
            if p.is_dir():
                os.chmod(p, 0o755)


# --- item 8: library output only with --debug ---------------------------------------------------------


NOISY = """
import logging, sys, warnings
import respgen.services.prepare
from respgen.errors import RespgenError

def noisy(cfg, progress=None):
    warnings.warn("torch.load received a pickle; retry with weights_only=False", UserWarning)
    logging.getLogger("transformers.modeling_utils").warning("LOAD REPORT\\nkey | MISSING\\nkey2 | MISSING")
    raise RespgenError("weights do not match config.json")

sys.modules["respgen.services.prepare"].prepare = noisy
from respgen.cli.app import app
app(sys.argv[1:], prog_name="respgen")
"""


def test_library_output_only_with_debug(tmp_path: Path):
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    args = [sys.executable, "-c", NOISY, "prepare", str(tmp_path), "--workdir", str(tmp_path / "w")]
    r = subprocess.run(args, env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: weights do not match config.json"]
    r = subprocess.run([*args, "--debug"], env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert "weights_only=False" in r.stderr and "LOAD REPORT" in r.stderr and "Traceback" in r.stderr


def test_multi_line_exception_is_one_line(cli, tmp_path: Path, monkeypatch):
    import importlib

    def broken(cfg, progress=None):
        raise RuntimeError("first line\nsecond line\n\tthird")

    monkeypatch.setattr(importlib.import_module("respgen.services.prepare"), "prepare", broken)
    r = cli("prepare", tmp_path, "--workdir", tmp_path / "w")
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: RuntimeError: first line; second line; third")
