"""The workspace (`--workdir`): every path a stage reads or writes, and the manifests read through it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from respgen.errors import RespgenError
from respgen.labels import BINARY_CLASSES, CLASSES

if TYPE_CHECKING:  # the manifest module pulls in torch; the CLI imports this module for its defaults
    from respgen.data.manifest import RealClip, SyntheticClip

DEFAULT_WORKDIR = Path("respgen-work")
WORKDIR_ENV = "RESPGEN_WORKDIR"


def default_workdir() -> Path:
    return Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR)


# synthetic sets: synth/<set>/manifest.jsonl + synth/<set>/<class>/<id>.wav
SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LEGACY_SET = "diffwave"  # what a `synth/manifest.jsonl` written before sets existed holds


MAX_SET_NAME = 64


def set_name_problem(name: str) -> str | None:
    """Why `name` cannot name a synthetic set (None when it can): a folder name of lower-case letters, digits,
    - and _, and not a class name (the legacy layout's class folders sit next to the sets), at most
    `MAX_SET_NAME` characters (every file named after a set, e.g. `cache/quality/<set>.feature-space.json`
    or compare's `models/<name>-<set>-<arm>`, stays a valid file name)."""
    if len(name) > MAX_SET_NAME:
        return f"a set name is at most {MAX_SET_NAME} characters; got {len(name)}"
    if not SET_NAME.fullmatch(name) or name in CLASSES + BINARY_CLASSES:
        return (
            "a set name is lower-case letters, digits, - and _ (starting with a letter or digit) and not a class "
            f"name; got {name!r}"
        )
    return None


@dataclass(frozen=True)
class SyntheticSet:
    """One synthetic set: `root/manifest.jsonl`, rows' paths relative to `root`. `root` is `synth/<name>`,
    or `synth/` itself for a legacy workspace's `diffwave` set."""

    name: str
    root: Path
    classes: tuple[str, ...] | None = None  # the workspace's: a row with another label is an error

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.jsonl"

    @property
    def exists(self) -> bool:
        return self.manifest.is_file()

    def rows(self, require_audio: bool = True) -> list[SyntheticClip]:
        """The manifest's rows ([] when the set has none yet). `require_audio`: a row whose audio file is
        missing is an error (an interrupted or damaged set); without, such rows are skipped (`synth`'s
        resume makes them again)."""
        from respgen.data.manifest import read_rows

        if not self.exists:
            return []
        rows = read_rows(self.manifest, kind="synthetic", classes=self.classes)
        present = [r for r in rows if (self.root / r["path"]).is_file()]
        if require_audio and len(present) < len(rows):
            missing = next(r for r in rows if not (self.root / r["path"]).is_file())
            raise RespgenError(
                f"synthetic set {self.name!r}: {len(rows) - len(present)} clip(s) listed but missing, e.g. "
                f"{self.root / missing['path']} (re-run `respgen synth ... --set {self.name}`, which resumes)",
                self.manifest,
            )
        return present


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

    # synth -> synth/<set>/ (see `synthetic_set`)
    @property
    def synth_root(self) -> Path:
        return self.root / "synth"

    @property
    def synth(self) -> Path:
        """The default synthetic set's folder (`default_synthetic_set`); `synth/` when there is none yet."""
        name = self.default_synthetic_set()
        return self.synthetic_set(name).root if name else self.synth_root

    @property
    def synth_manifest(self) -> Path:
        return self.synth / "manifest.jsonl"

    # finetune -> cache/features/ (classifier.feature_store), models/<run>/
    @property
    def feature_cache(self) -> Path:
        return self.root / "cache" / "features"

    # compare / quickstart / report -> cache/quality/<set>.json (synthetic_quality.measure_set)
    @property
    def quality_cache(self) -> Path:
        return self.root / "cache" / "quality"

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
    def normal_class(self) -> str:
        """The workspace's normal class: its first (`prepare` puts it first; Sp is its recall)."""
        return self.classes()[0]

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
        rows = read_rows(self.manifest, kind="real", classes=self.classes())
        return [r for r in rows if splits is None or r["split"] in splits]

    def synthetic_rows(self) -> list[SyntheticClip]:
        """Rows of the default synthetic set whose audio exists (none when nothing was synthesised)."""
        name = self.default_synthetic_set()
        return self.synthetic_set(name).rows(require_audio=False) if name else []

    def _legacy_set(self) -> bool:
        """A `synth/manifest.jsonl` from before sets, read as the set `diffwave` while `synth/diffwave/` is absent."""
        return (self.synth_root / "manifest.jsonl").is_file() and not (self.synth_root / LEGACY_SET).exists()

    def synthetic_set(self, name: str, must_exist: bool = False) -> SyntheticSet:
        """The synthetic set `name` (`synth/<name>/`; a legacy workspace's `synth/` for `diffwave`). With
        `must_exist`, a set without a manifest is an error naming the sets present."""
        problem = set_name_problem(name)
        if problem:
            raise RespgenError(f"invalid synthetic set: {problem}")
        root = self.synth_root if name == LEGACY_SET and self._legacy_set() else self.synth_root / name
        found = SyntheticSet(name, root, self.classes())
        if must_exist and not found.exists:
            present = self.synthetic_sets()
            have = f"the workdir has {', '.join(present)}" if present else "the workdir has none"
            raise RespgenError(
                f"no synthetic set {name!r} ({have}; make it with `respgen synth ... --set {name}`)", found.manifest
            )
        return found

    def synthetic_sets(self) -> list[str]:
        """The names of the synthetic sets present (those with a manifest), sorted."""
        names = set()
        if self.synth_root.is_dir():
            for sub in self.synth_root.iterdir():
                if sub.is_dir() and set_name_problem(sub.name) is None and (sub / "manifest.jsonl").is_file():
                    names.add(sub.name)
        if self._legacy_set():
            names.add(LEGACY_SET)
        return sorted(names)

    def default_synthetic_set(self) -> str | None:
        """The set commands use when none is chosen: the only one present, else `diffwave`; None when there is
        none; with several and no `diffwave` an error asking to choose."""
        names = self.synthetic_sets()
        if len(names) <= 1:
            return names[0] if names else None
        if LEGACY_SET in names:
            return LEGACY_SET
        raise RespgenError(
            f"several synthetic sets ({', '.join(names)}): choose one with --synthetic-set", self.synth_root
        )
