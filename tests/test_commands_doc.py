"""docs/commands.md is generated from the CLI (scripts/commands_doc.py): CI fails when it drifts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "commands_doc.py"
DOC = REPO / "docs" / "commands.md"


def check(*args: str) -> subprocess.CompletedProcess:
    """The script in its own process (it reads the CLI with no RESPGEN_* variable set)."""
    return subprocess.run([sys.executable, str(SCRIPT), "--check", *args], cwd=REPO, capture_output=True, text=True)


def test_commands_doc_is_up_to_date():
    r = check()
    assert r.returncode == 0, r.stderr.strip()


def test_drift_is_one_line_and_exit_1(tmp_path: Path):
    edited = tmp_path / "commands.md"
    edited.write_text(DOC.read_text(encoding="utf-8") + "a hand edit\n", encoding="utf-8")
    r = check("--doc", str(edited))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"{edited} is out of date with the CLI: run `python scripts/commands_doc.py`"
    ]
    assert check("--doc", str(tmp_path / "missing.md")).returncode == 1
