"""A generic annotation table: one row per labelled segment, `.csv` (comma) or `.tsv` (tab), with a header.

Required columns `file` (audio path relative to the table's folder), `start`, `end` (seconds), `label`;
optional `patient` and `split` (train / val / test); any other column is kept in the segment's metadata.
Rows naming the same file make one recording. Also a small seeded demo table (`write_demo_table`)."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import soundfile as sf

from respgen.data.demo import make_cycle
from respgen.data.source import Segment, Skipped, SourceDataset, SourceRecording
from respgen.data.sprsound import audio_duration, fit_to_audio
from respgen.errors import RespgenError

REQUIRED_COLUMNS = ("file", "start", "end", "label")
OPTIONAL_COLUMNS = ("patient", "split")
SPLITS = ("train", "val", "test")
DELIMITERS = {".csv": ",", ".tsv": "\t"}


def looks_like_table(path: Path) -> bool:
    """True for an existing `.csv` / `.tsv` file."""
    path = Path(path)
    return path.is_file() and path.suffix.lower() in DELIMITERS


@dataclass
class _Row:
    line: int
    file: str
    patient: str | None
    split: str | None
    segment: Segment


@dataclass
class _File:
    """The rows of one audio file, with the line that first named it (for its errors)."""

    rel: str
    line: int
    patient: str | None
    split: str | None
    segments: list[Segment] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _columns(header: list[str], where: str) -> dict[str, int]:
    """Column name -> index; the required and optional ones matched case-insensitively."""
    columns: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip()
        if not name:
            continue  # a trailing delimiter
        key = name.lower() if name.lower() in REQUIRED_COLUMNS + OPTIONAL_COLUMNS else name
        if key in columns:
            raise RespgenError(f"column {name!r} appears twice in the header", where)
        columns[key] = i
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            raise RespgenError(f"missing required column {name!r} (need {', '.join(REQUIRED_COLUMNS)})", where)
    return columns


def _inside(value: str, where: str) -> str:
    """`value` as a normalised path relative to the table's folder; absolute or `..`-out is an error."""
    text = value.replace("\\", "/")
    if text.startswith("/") or PureWindowsPath(value).drive:
        raise RespgenError(f"file {value!r} must be relative to the table's folder", where)
    parts: list[str] = []
    for part in PurePosixPath(text).parts:
        if part == "..":
            if not parts:
                raise RespgenError(f"file {value!r} is outside the table's folder", where)
            parts.pop()
        elif part != ".":
            parts.append(part)
    if not parts:
        raise RespgenError(f"file {value!r} does not name a file", where)
    return "/".join(parts)


def _seconds(value: str, column: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RespgenError(f"{column} is not a number of seconds: {value!r}", where) from None
    if not math.isfinite(number) or number < 0:
        raise RespgenError(f"{column} must be finite and >= 0, got {value!r}", where)
    return number


def _row(cells: list[str], columns: dict[str, int], where: str, line: int) -> _Row:
    values = {name: cells[i].strip() for name, i in columns.items()}
    start, end = _seconds(values["start"], "start", where), _seconds(values["end"], "end", where)
    if end <= start:
        raise RespgenError(f"end {values['end']} <= start {values['start']}", where)
    if not values["label"]:
        raise RespgenError("empty label", where)
    split = values.get("split")
    if split is not None and split.lower() not in SPLITS:
        raise RespgenError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})", where)
    patient = values.get("patient")
    if patient == "":
        raise RespgenError("empty patient", where)
    metadata = {k: v for k, v in values.items() if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    segment = Segment(start, end, values["label"], metadata)
    return _Row(line, _inside(values["file"], where), patient, split.lower() if split else None, segment)


def _read_rows(path: Path) -> tuple[dict[str, int], list[_Row]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=DELIMITERS.get(path.suffix.lower(), ","))
            header = next(reader, None)
            if header is None:
                raise RespgenError("annotation table is empty (a header row is required)", path)
            columns = _columns(header, f"{path}:{reader.line_num}")
            rows = []
            for cells in reader:
                where = f"{path}:{reader.line_num}"
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    raise RespgenError(f"row has {len(cells)} fields, the header {len(header)}", where)
                rows.append(_row(cells, columns, where, reader.line_num))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise RespgenError(f"cannot read annotation table: {e.__class__.__name__}", path) from None
    return columns, rows


def _group(path: Path, rows: list[_Row]) -> dict[str, _File]:
    """Rows by file; one file with two patients or two splits is an error."""
    files: dict[str, _File] = {}
    for row in rows:
        f = files.setdefault(row.file, _File(row.file, row.line, row.patient, row.split))
        where = f"{path}:{row.line}"
        if row.patient != f.patient:
            raise RespgenError(f"{row.file} has patient {row.patient!r} here, {f.patient!r} on line {f.line}", where)
        if row.split != f.split:
            raise RespgenError(f"{row.file} has split {row.split!r} here, {f.split!r} on line {f.line}", where)
        f.segments.append(row.segment)
        f.lines.append(row.line)
    return files


def _recording_name(rel: str) -> str:
    return str(PurePosixPath(rel).with_suffix("")).replace("/", "__")


def _recording(path: Path, f: _File, ds: SourceDataset, strict: bool) -> None:
    wav = path.parent / f.rel
    if not wav.is_file():
        if strict:
            raise RespgenError(f"audio file not found: {f.rel}", f"{path}:{f.line}")
        ds.skipped.append(Skipped(f.rel, "audio file not found"))
        return
    order = sorted(range(len(f.segments)), key=lambda i: (f.segments[i].start, f.segments[i].end))
    items = [f"{path.name}:{f.lines[i]}" for i in order]
    segments = fit_to_audio([f.segments[i] for i in order], items, audio_duration(wav), ds.skipped)
    if not segments:
        ds.skipped.append(Skipped(f.rel, "no segment within the audio"))
        return
    name = _recording_name(f.rel)
    patient = f.patient if f.patient is not None else name
    ds.recordings.append(SourceRecording(wav, name, patient, f.split, segments, metadata={"file": f.rel}))


def _assign_splits(recordings: list[SourceRecording], test_fraction: float, seed: int) -> str:
    """A seeded patient-disjoint train/test split: about `test_fraction` of the patients in test, at least one
    patient on each side when there are two or more. Returns the note saying so."""
    patients = sorted({r.patient for r in recordings})
    order = list(patients)
    random.Random(seed).shuffle(order)
    n_test = 0 if len(order) < 2 else min(len(order) - 1, max(1, round(test_fraction * len(order))))
    test = set(order[:n_test])
    for r in recordings:
        r.split = "test" if r.patient in test else "train"
    return (
        f"no split column: seeded (seed {seed}) patient-disjoint split, {n_test} of {len(patients)} patients "
        f"({sum(r.split == 'test' for r in recordings)} of {len(recordings)} recordings) in test"
    )


def read_table(path: Path, strict: bool = False, test_fraction: float = 0.2, seed: int = 0) -> SourceDataset:
    """Read an annotation table (format "table"). Bad input (missing column, unknown split, a time that is
    not a non-negative number, end <= start, a file outside the table's folder, one file with two patients
    or splits) raises RespgenError naming `table:line`. A missing audio file is skipped (an error with
    `strict`); a segment past the audio's end is clipped (`clipped: True`), one starting after it skipped.
    Without a `split` column: a seeded patient-disjoint train/test split; without `patient`: one patient per
    file (each said in a note)."""
    path = Path(path)
    if not path.is_file():
        raise RespgenError("annotation table not found", path)
    if not 0 < test_fraction < 1:
        raise RespgenError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    columns, rows = _read_rows(path)
    files = _group(path, rows)
    ds = SourceDataset("table", [])
    for f in files.values():
        _recording(path, f, ds, strict)
    _check_names(path, ds.recordings)
    ds.recordings.sort(key=lambda r: r.name)
    if "patient" not in columns:
        ds.notes.append("no patient column: each file is its own patient")
    if "split" not in columns:
        ds.notes.append(_assign_splits(ds.recordings, test_fraction, seed))
    return ds


def _check_names(path: Path, recordings: list[SourceRecording]) -> None:
    seen: dict[str, str] = {}
    for r in recordings:
        rel = r.metadata["file"]
        if r.name in seen:
            raise RespgenError(f"{rel} and {seen[r.name]} give the same recording name {r.name!r}", path)
        seen[r.name] = rel


# --- demo data ----------------------------------------------------------------------------------------

DEMO_LABELS = ("normal", "crackle", "wheeze", "both")
DEMO_SPLITS = ("train", "train", "train", "train", "val", "test", "test")


def _demo_rows(rel: str, patient: str, split: str, device: str, rng: np.random.Generator, sr: int):
    """Back-to-back cycles of 1-2.5 s; returns the audio and its table rows."""
    waves, rows, at = [], [], 0
    for _ in range(int(rng.integers(3, 6))):
        label = str(rng.choice(DEMO_LABELS, p=(0.5, 0.25, 0.15, 0.1)))
        n = int(rng.integers(1000, 2500)) * sr // 1000  # whole milliseconds: the times below are exact
        waves.append(make_cycle(label, n, sr, rng))
        rows.append([rel, f"{at / sr:.3f}", f"{(at + n) / sr:.3f}", label, patient, split, device])
        at += n
    return np.concatenate(waves), rows


def write_demo_table(out: Path, seed: int = 0) -> Path:
    """Write a small seeded demo dataset under `out`: 16 kHz wavs in `audio/<patient>/` and
    `annotations.csv` (file, start, end, label, patient, split, device): 7 patients (4 train, 1 val,
    2 test), 2 recordings each, 3-5 cycles per recording. Returns the table's path."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    sr = 16000
    table = [["file", "start", "end", "label", "patient", "split", "device"]]
    for p, split in enumerate(DEMO_SPLITS):
        patient = f"P{p + 1:02d}"
        for r in range(2):
            rel = f"audio/{patient}/rec{r + 1}.wav"
            wave, rows = _demo_rows(rel, patient, split, ("stethA", "stethB")[r], rng, sr)
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(out / rel), np.clip(wave, -1, 1).astype(np.float32), sr, subtype="PCM_16")
            table.extend(rows)
    path = out / "annotations.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(table)
    return path
