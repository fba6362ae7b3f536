"""The ICBHI 2017 folder layout: recording names, annotation files, the split file, diagnoses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from respgen.errors import RespgenError

SPLIT_FILE_NAME = "ICBHI_challenge_train_test.txt"
DIAGNOSIS_FILE_NAME = "patient_diagnosis.csv"


@dataclass(frozen=True)
class RecordingName:
    """`101_1b1_Al_sc_Meditron`: patient, recording index, chest location, acquisition mode, device."""

    name: str
    patient: str
    index: str
    location: str
    mode: str
    device: str

    @property
    def key(self) -> str:
        """The first four fields: stable across the two public releases (the device field differs)."""
        return "_".join((self.patient, self.index, self.location, self.mode))

    @classmethod
    def parse(cls, name: str) -> "RecordingName | None":
        parts = name.split("_")
        if len(parts) != 5 or not parts[0].isdigit():
            return None
        return cls(name, *parts)


@dataclass(frozen=True)
class Cycle:
    start: float
    end: float
    crackle: int
    wheeze: int


def parse_annotation(path: Path) -> list[Cycle]:
    """One cycle per line: `start<TAB>end<TAB>crackle<TAB>wheeze`. Raises on any malformed line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RespgenError(f"cannot read annotation file: {e.__class__.__name__}", path) from e
    cycles = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        fields = line.split()
        if len(fields) != 4:
            raise RespgenError(f"annotation line needs 4 fields (start end crackle wheeze), got {len(fields)}", where)
        try:
            start, end = float(fields[0]), float(fields[1])
            crackle, wheeze = int(fields[2]), int(fields[3])
        except ValueError:
            raise RespgenError(f"annotation line is not numeric: {line.strip()!r}", where) from None
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
            raise RespgenError(f"annotation times must be finite and >= 0: {line.strip()!r}", where)
        if crackle not in (0, 1) or wheeze not in (0, 1):
            raise RespgenError(f"crackle/wheeze flags must be 0 or 1: {line.strip()!r}", where)
        if end <= start:
            raise RespgenError(f"cycle end {end} <= start {start}", where)
        cycles.append(Cycle(start, end, crackle, wheeze))
    return cycles


class SplitTable:
    """The official train/test split, looked up by exact name or by the first four name fields."""

    def __init__(self, path: Path):
        self.path = path
        self.by_name: dict[str, str] = {}
        self.by_key: dict[str, str] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise RespgenError(f"cannot read split file: {e.__class__.__name__}", path) from e
        for lineno, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("train", "test"):
                raise RespgenError("split line must be `<name> train|test`", f"{path}:{lineno}")
            self.by_name[fields[0]] = fields[1]
            parsed = RecordingName.parse(fields[0])
            if parsed:
                self.by_key[parsed.key] = fields[1]

    def split_of(self, rec: RecordingName) -> str | None:
        return self.by_name.get(rec.name) or self.by_key.get(rec.key)


def read_diagnoses(path: Path | None) -> dict[str, str]:
    """`patient_id,diagnosis` per line; a header line (`ID,CLASS`) is tolerated."""
    if path is None:
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = [f.strip() for f in line.replace("\t", ",").split(",")]
        if len(fields) >= 2 and fields[0].isdigit():
            out[fields[0]] = fields[1]
    return out


def find_file(root: Path, name: str) -> Path | None:
    """`name` in `root` or any sub-folder (shallowest first)."""
    direct = root / name
    if direct.is_file():
        return direct
    hits = sorted(root.rglob(name), key=lambda p: (len(p.parts), str(p)))
    return hits[0] if hits else None


def find_recordings(root: Path) -> list[Path]:
    """All .wav files in `root` and its sub-folders (e.g. `audio_and_txt_files/`), sorted by name."""
    return sorted((p for p in root.rglob("*") if p.suffix.lower() == ".wav" and p.is_file()), key=lambda p: p.name)
