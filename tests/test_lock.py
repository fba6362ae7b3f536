"""The workspace lock: one writing stage per workdir; a killed holder never blocks; stale staging is cleaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from respgen.errors import RespgenError
from respgen.lock import LOCK_FILE, workspace_lock
from tests.test_prepare_errors import make_folder

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def respgen(*args, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "respgen", *map(str, args)]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for_holder(work: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until `proc` holds the workspace lock (its pid is in the lock file)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if (work / LOCK_FILE).read_text().split()[:1] == [str(proc.pid)]:
                return
        except (OSError, IndexError):
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    pytest.fail("the process never took the lock")


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_second_writer_refused_and_killed_holder_does_not_block(tmp_path: Path):
    src = make_folder(tmp_path / "src", names=[f"9{i:02d}_1b1_Al_sc_Meditron" for i in range(12)])
    work = tmp_path / "w"
    args = ("prepare", src, "--workdir", work, "--val-fraction", "0", "--workers", "1")
    first = respgen(*args)
    wait_for_holder(work, first)
    os.kill(first.pid, signal.SIGSTOP)  # frozen in the middle of its run, holding the lock
    try:
        second = respgen(*args)
        out, err = second.communicate(timeout=120)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2, err
    assert err.strip().splitlines() == [
        f"error: {work} is in use by another respgen process (pid {first.pid}, prepare)"
    ]
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    rows = [json.loads(line) for line in (work / "data" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and all((work / "data" / r["path"]).is_file() for r in rows)
    assert sorted(p.name for p in work.iterdir()) == ["data"]  # no lock file, no staging left

    # kill -9 of a holder: its lock goes with it; the next run proceeds and removes its staging
    third = respgen(*args)
    wait_for_holder(work, third)
    os.kill(third.pid, signal.SIGKILL)
    third.wait()
    stale = work / f".data.partial-{third.pid}-0123abcd"
    (stale / "clips").mkdir(parents=True, exist_ok=True)
    fourth = respgen(*args)
    out, err = fourth.communicate(timeout=120)
    assert fourth.returncode == 0, err
    assert sorted(p.name for p in work.iterdir()) == ["data"]


def test_lock_in_process(tmp_path: Path):
    work = tmp_path / "w"
    with workspace_lock(work, "synth"):
        assert (work / LOCK_FILE).read_text().split() == [str(os.getpid()), "synth"]
        with workspace_lock(work, "finetune"):  # re-entrant: quickstart runs the stages in one process
            pass
        assert (work / LOCK_FILE).is_file()
        holder = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from respgen.lock import workspace_lock\n"
                "with workspace_lock(Path(sys.argv[1]), 'report'): pass",
                str(work),
            ],
            env=ENV,
            capture_output=True,
            text=True,
        )
        assert (
            holder.returncode != 0
            and f"is in use by another respgen process (pid {os.getpid()}, synth)" in holder.stderr
        )
    assert not (work / LOCK_FILE).exists()
    with workspace_lock(work, "report"):  # free again
        pass


def test_other_ranks_take_no_lock(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    with workspace_lock(tmp_path / "w", "finetune"):
        assert not (tmp_path / "w" / LOCK_FILE).exists()


def test_stale_staging_removed_live_kept(tmp_path: Path):
    work = tmp_path / "w"
    dead, alive = dead_pid(), os.getppid()
    stale = [
        work / f".data.partial-{dead}-aaaa0000",
        work / "models" / f".run.partial-{dead}-bbbb0000",
        work / "vocoder" / "checkpoints" / f".step-00000002.partial-{dead}-cccc0000",
        work / ".data.partial",
        work / f".report.old-{dead}-dddd0000",
    ]
    live = work / f".data.partial-{alive}-eeee0000"
    for d in [*stale, live]:
        (d / "x").mkdir(parents=True)
    (work / "report").mkdir()
    with workspace_lock(work, "prepare"):
        pass
    assert not any(d.exists() for d in stale)
    assert live.is_dir() and (work / "report").is_dir()


def test_killed_mid_swap_restores_previous_folder(tmp_path: Path):
    """Killed between retiring `data` and renaming the new one in: the retired folder is put back."""
    work = tmp_path / "w"
    (work / f".data.old-{dead_pid()}-aaaa0000" / "clips").mkdir(parents=True)
    (work / f".data.partial-{dead_pid()}-bbbb0000").mkdir()
    with workspace_lock(work, "prepare"):
        pass
    assert sorted(p.name for p in work.iterdir()) == ["data"] and (work / "data" / "clips").is_dir()


def test_unwritable_workdir_is_one_clean_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RespgenError, match="workdir is not writable") as e:
        with workspace_lock(blocker / "w", "synth"):
            pass
    assert e.value.exit_code == 2
