"""The workspace (`--workdir`): every path a stage reads or writes, and the manifests read through it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from respgen.errors import RespgenError
from respgen.labels import CLASSES

if TYPE_CHECKING:  # the manifest module pulls in torch; the CLI imports this module for its defaults
    from respgen.data.manifest import RealClip, SyntheticClip

DEFAULT_WORKDIR = Path("respgen-work")
WORKDIR_ENV = "RESPGEN_WORKDIR"


def default_workdir() -> Path:
    return Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR)


@dataclass(frozen=True)
class Workspace:
    root: Path

    # prepare -> data/
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def manifest(self) -> Path:
        return self.data / "manifest.jsonl"

    @property
    def prepare_info(self) -> Path:
        return self.data / "prepare.json"

    # vocoder train -> vocoder/
    @property
    def vocoder(self) -> Path:
        return self.root / "vocoder"

    @property
    def vocoder_metrics(self) -> Path:
        return self.vocoder / "metrics.jsonl"

    # synth -> synth/
    @property
    def synth(self) -> Path:
        return self.root / "synth"

    @property
    def synth_manifest(self) -> Path:
        return self.synth / "manifest.jsonl"

    # finetune -> models/<run>/
    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def models_latest(self) -> Path:
        return self.models / "latest"

    def model_run(self, name: str) -> Path:
        return self.models / name

    # report -> report/
    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def report_md(self) -> Path:
        return self.report / "report.md"

    # what is in it
    def classes(self) -> tuple[str, ...]:
        """The class names `prepare` chose (`prepare.json`); the four ICBHI classes before any prepare."""
        if self.prepare_info.is_file():
            try:
                return tuple(json.loads(self.prepare_info.read_text(encoding="utf-8"))["classes"])
            except (ValueError, KeyError, TypeError):
                raise RespgenError("unreadable prepare.json (re-run `respgen prepare`)", self.prepare_info) from None
        return CLASSES

    def real_rows(self, splits: tuple[str, ...] | None = None) -> list[RealClip]:
        """Rows of `data/manifest.jsonl`, optionally only some splits."""
        from respgen.data.manifest import read_rows

        if not self.manifest.is_file():
            raise RespgenError("no prepared data in the workdir (run `respgen prepare` first)", self.manifest)
        return [r for r in read_rows(self.manifest) if splits is None or r["split"] in splits]

    def synthetic_rows(self) -> list[SyntheticClip]:
        """Rows of `synth/manifest.jsonl` whose audio exists (none when nothing was synthesised)."""
        from respgen.data.manifest import read_rows

        if not self.synth_manifest.is_file():
            return []
        return [r for r in read_rows(self.synth_manifest) if (self.synth / r["path"]).is_file()]
