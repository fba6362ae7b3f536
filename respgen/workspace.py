"""Where each stage reads and writes inside the workspace (`--workdir`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKDIR = Path("respgen-work")
WORKDIR_ENV = "RESPGEN_WORKDIR"


def default_workdir() -> Path:
    return Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def manifest(self) -> Path:
        return self.data / "manifest.jsonl"

    @property
    def vocoder(self) -> Path:
        return self.root / "vocoder"

    @property
    def synth(self) -> Path:
        return self.root / "synth"

    @property
    def synth_manifest(self) -> Path:
        return self.synth / "manifest.jsonl"

    @property
    def models(self) -> Path:
        return self.root / "models"
