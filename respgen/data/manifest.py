"""The manifest format: JSON Lines, one clip per line, paths relative to the manifest's folder.
`RealClip` rows are written by `prepare`, `SyntheticClip` rows by `synth`; key order is the order
of the fields below (manifests are byte-identical across re-runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypedDict, Union

import torch
from typing_extensions import NotRequired

from respgen.audio import load_audio
from respgen.errors import RespgenError


class RealClip(TypedDict):
    id: str
    path: str
    label: str
    crackle: int
    wheeze: int
    split: Literal["train", "val", "test"]
    patient: str
    recording: str
    location: str
    mode: str
    device: str
    diagnosis: str | None
    start: float
    end: float
    duration: float
    clipped: bool
    sample_rate: int
    source: Literal["real"]
    provenance: dict


class SyntheticClip(TypedDict):
    id: str
    path: str
    label: str
    split: Literal["train"]
    source: Literal["synthetic"]
    conditioned_on: str
    patient: NotRequired[str]
    vocoder: dict
    seed: NotRequired[int]
    steps: NotRequired[str]
    sample_rate: NotRequired[int]
    duration: NotRequired[float]
    mel_l1: NotRequired[float]  # distance to the conditioning cycle's mel (respgen.fidelity)
    mel_l1_noise: NotRequired[float]  # the same for loudness-matched noise


Clip = Union[RealClip, SyntheticClip]


def read_rows(path: Path) -> list:
    """Every row of a manifest (a clear error naming the line when one is not JSON)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise RespgenError("manifest line is not JSON", f"{path}:{lineno}") from None
    return rows


def load_clip(manifest: Path, row: Clip, sample_rate: int = 16000) -> torch.Tensor:
    """A row's audio as a mono float tensor at `sample_rate`."""
    return load_audio(manifest.parent / row["path"], sample_rate)
