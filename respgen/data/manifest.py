"""Reading the workspace manifests (prepared real cycles, synthetic cycles) and their audio."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from respgen.audio import load_audio
from respgen.errors import RespgenError
from respgen.workspace import Workspace


def real_rows(ws: Workspace, splits: tuple[str, ...] | None = None) -> list[dict]:
    """Rows of `<workdir>/data/manifest.jsonl`, optionally only some splits."""
    if not ws.manifest.is_file():
        raise RespgenError("no prepared data in the workdir (run `respgen prepare` first)", ws.manifest)
    rows = read_rows(ws.manifest)
    return [r for r in rows if splits is None or r["split"] in splits]


def read_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise RespgenError("manifest line is not JSON", f"{path}:{lineno}") from None
    return rows


def synthetic_rows(ws: Workspace) -> list[dict]:
    """Rows of `<workdir>/synth/manifest.jsonl` whose audio exists (none when nothing was synthesised)."""
    if not ws.synth_manifest.is_file():
        return []
    return [r for r in read_rows(ws.synth_manifest) if (ws.synth / r["path"]).is_file()]


def load_clip(manifest: Path, row: dict, sample_rate: int = 16000) -> torch.Tensor:
    return load_audio(manifest.parent / row["path"], sample_rate)
