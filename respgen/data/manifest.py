"""The manifest format: JSON Lines, one clip per line, paths relative to the manifest's folder.
`RealClip` rows are written by `prepare`, `SyntheticClip` rows by `synth`; key order is the order
of the fields below (manifests are byte-identical across re-runs). `read_rows` checks every row against
`RealRow` / `SyntheticRow` (unknown keys are kept) and names the file, line and field of a bad one."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal, TypedDict, Union

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import NotRequired

from respgen.audio import load_audio
from respgen.errors import RespgenError
from respgen.labels import CLASS_NAME, MAX_CLASS_NAME
from respgen.sample_rate import SAMPLE_RATE

# What rows are built as (`prepare`, `synth`) and passed to `write_jsonl`.


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
    mel_l1_other_seed: NotRequired[float]  # the same for a clip of another seed


Clip = Union[RealClip, SyntheticClip]

# What rows are checked against when read. Optional fields may be absent; every field present is checked.

Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Distance = Annotated[float, Field(allow_inf_nan=False)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    path: str = Field(min_length=1)
    label: str
    sample_rate: Annotated[int, Field(gt=0)] | None = None
    duration: Seconds | None = None

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        """A path relative to the manifest's folder that stays inside it: no absolute path, no `..`
        climbing out (a tampered manifest must not make respgen read or publish a file from elsewhere)."""
        parts = PurePosixPath(value.replace("\\", "/")).parts
        depth = 0
        for part in parts:
            depth += -1 if part == ".." else 0 if part == "." else 1
            if depth < 0:
                break
        if value.startswith(("/", "\\")) or PureWindowsPath(value).drive or depth < 0:
            raise ValueError("must be a path inside the manifest's folder (relative, no '..' out of it)")
        return value

    @field_validator("label")
    @classmethod
    def _class_name(cls, value: str) -> str:
        """Any class name (the workspace's classes come from its data; commands check membership)."""
        if not CLASS_NAME.fullmatch(value) or len(value) > MAX_CLASS_NAME:
            raise ValueError("not a class name (lower-case letters, digits, _, + and -)")
        return value


class RealRow(_Row):
    split: Literal["train", "val", "test"]
    source: Literal["real"] = "real"
    patient: str
    crackle: int | None = None
    wheeze: int | None = None
    recording: str | None = None
    location: str | None = None
    mode: str | None = None
    device: str | None = None
    diagnosis: str | None = None
    start: Seconds | None = None
    end: Seconds | None = None
    clipped: bool | None = None
    provenance: dict | None = None


class SyntheticRow(_Row):
    split: Literal["train"]
    source: Literal["synthetic"] = "synthetic"
    conditioned_on: str | None = None
    patient: str | None = None
    vocoder: dict | None = None
    seed: int | None = None
    steps: str | None = None
    mel_l1: Distance | None = None
    mel_l1_noise: Distance | None = None
    mel_l1_other_seed: Distance | None = None


ROW_MODELS: dict[str, type[_Row]] = {"real": RealRow, "synthetic": SyntheticRow}


def read_rows(
    path: Path, kind: Literal["real", "synthetic"] | None = None, classes: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Every row of a manifest as a plain dict (the line's keys in the line's order, unknown keys kept).
    With `kind`, each row is checked against `RealRow` / `SyntheticRow`; without, only that it is a JSON
    object. `classes`: the labels a row may hold (the workspace's). A bad row, or an id given twice, is a
    `RespgenError` naming `path:lineno` and the field."""
    model = ROW_MODELS[kind] if kind is not None else None
    rows = []
    first_line: dict[str, int] = {}  # id -> the line it was first seen on
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                raise RespgenError("manifest line is not JSON", where) from None
            if not isinstance(raw, dict):
                raise RespgenError("manifest line is not a JSON object", where)
            if model is not None:
                try:
                    checked = model.model_validate(raw).model_dump(exclude_unset=True)
                except ValidationError as e:
                    raise RespgenError(f"manifest row: {_problem(e)}", where) from None
                raw = {k: checked.get(k, v) for k, v in raw.items()}
                if classes is not None and raw["label"] not in classes:
                    raise RespgenError(f"invalid label {raw['label']!r}: not one of {', '.join(classes)}", where)
                if raw["id"] in first_line:
                    raise RespgenError(
                        f"manifest row: id {raw['id']!r} given twice (first on line {first_line[raw['id']]})", where
                    )
                first_line[raw["id"]] = lineno
            rows.append(raw)
    return rows


def _problem(e: ValidationError) -> str:
    """The first error as `missing field 'label'` or `invalid split 'weird': Input should be ...`."""
    err = e.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    if err["type"] == "missing":
        return f"missing field {field!r}"
    msg = err["msg"].removeprefix("Value error, ")
    value = repr(err["input"])
    return f"invalid {field} {value if len(value) <= 60 else value[:57] + '...'}: {msg}"


def load_clip(manifest: Path, row: Clip, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """A row's audio as a mono float tensor at `sample_rate`."""
    return load_audio(manifest.parent / row["path"], sample_rate)
