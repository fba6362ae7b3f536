"""The annotation-table reader: columns, grouping, splits, skips and clipping, bad rows, the demo table."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.data.annotation_table import looks_like_table, read_table, write_demo_table
from respgen.errors import RespgenError


def wav(path: Path, seconds: float, sr: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr, subtype="PCM_16")


def table(path: Path, rows: list[list], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


HEADER = ["file", "start", "end", "label", "patient", "split", "site"]


def make_table(root: Path, suffix: str = ".csv") -> Path:
    """p1 (train): a/x.wav (rows out of order, one past the end, one starting after it); p2 (test):
    b/y.flac; p3 (val): missing.wav (no audio)."""
    wav(root / "a" / "x.wav", 3.0)
    (root / "b").mkdir()
    sf.write(str(root / "b" / "y.flac"), np.zeros(8000), 8000)
    rows = [
        HEADER,
        ["a/x.wav", "1.5", "2.5", "crackle", "p1", "train", "Al"],
        ["a/x.wav", "0", "1.4", "normal", "p1", "train", "Ar"],
        ["b/y.flac", "0.1", "0.9", "wheeze", "p2", "test", "Tc"],
        ["a/x.wav", "2.6", "3.5", "normal", "p1", "train", "Al"],
        ["missing.wav", "0", "1", "normal", "p3", "val", "Pl"],
        ["a/x.wav", "3.2", "3.6", "wheeze", "p1", "train", "Al"],
        [],
    ]
    return table(root / f"annotations{suffix}", rows, "\t" if suffix == ".tsv" else ",")


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_reads_recordings_segments_and_skips(tmp_path: Path, suffix):
    path = make_table(tmp_path, suffix)
    assert looks_like_table(path)
    ds = read_table(path)
    assert ds.format == "table" and ds.notes == []
    assert [(r.name, r.patient, r.split) for r in ds.recordings] == [("a__x", "p1", "train"), ("b__y", "p2", "test")]
    x = ds.recordings[0]
    assert x.wav == tmp_path / "a" / "x.wav" and x.metadata == {"file": "a/x.wav"}
    assert [(s.start, s.end, s.label, s.metadata) for s in x.segments] == [
        (0.0, 1.4, "normal", {"site": "Ar"}),
        (1.5, 2.5, "crackle", {"site": "Al"}),
        (2.6, 3.0, "normal", {"site": "Al", "clipped": True, "annotated_end": 3.5}),
    ]
    assert Counter(s.label for r in ds.recordings for s in r.segments) == {"normal": 2, "crackle": 1, "wheeze": 1}
    assert [s.item for s in ds.skipped] == [f"{path.name}:7", "missing.wav"]
    assert "after the end of the audio" in ds.skipped[0].reason and ds.skipped[1].reason == "audio file not found"


def test_strict_missing_audio_is_an_error_naming_its_line(tmp_path: Path):
    path = make_table(tmp_path)
    with pytest.raises(RespgenError, match="audio file not found: missing.wav") as e:
        read_table(path, strict=True)
    assert e.value.where == f"{path}:6"


def test_without_split_a_seeded_patient_disjoint_split(tmp_path: Path):
    rows = [["file", "start", "end", "label", "patient"]]
    for i in range(10):
        for r in range(2):
            wav(tmp_path / f"p{i}_{r}.wav", 1.0)
            rows.append([f"p{i}_{r}.wav", "0", "0.5", "normal", f"P{i}"])
    path = table(tmp_path / "t.csv", rows)
    ds = read_table(path, test_fraction=0.2, seed=4)
    test = {r.patient for r in ds.recordings if r.split == "test"}
    train = {r.patient for r in ds.recordings if r.split == "train"}
    assert len(test) == 2 and len(train) == 8 and not test & train
    assert len(ds.notes) == 1 and "no split column" in ds.notes[0] and "2 of 10 patients" in ds.notes[0]
    again = read_table(path, test_fraction=0.2, seed=4)
    assert [r.split for r in again.recordings] == [r.split for r in ds.recordings]
    assert len({r.patient for r in read_table(path, test_fraction=0.5).recordings if r.split == "test"}) == 5


def test_without_patient_each_file_is_its_own_patient(tmp_path: Path):
    wav(tmp_path / "s" / "one.wav", 1.0)
    wav(tmp_path / "two.wav", 1.0)
    rows = [["File", "Start", "End", "Label"], ["s/one.wav", "0", "1", "a"], ["two.wav", "0", "1", "b"]]
    ds = read_table(table(tmp_path / "t.csv", rows), test_fraction=0.01)
    assert [(r.name, r.patient) for r in ds.recordings] == [("s__one", "s__one"), ("two", "two")]
    assert sorted(r.split for r in ds.recordings) == ["test", "train"]  # at least one patient each side
    assert ds.notes[0] == "no patient column: each file is its own patient" and "no split column" in ds.notes[1]


def test_dot_segments_inside_the_folder_are_one_file(tmp_path: Path):
    wav(tmp_path / "b" / "x.wav", 2.0)
    rows = [HEADER[:4], ["a/../b/x.wav", "0", "1", "n"], ["./b/x.wav", "1", "2", "n"]]
    ds = read_table(table(tmp_path / "t.csv", rows))
    assert [(r.name, len(r.segments)) for r in ds.recordings] == [("b__x", 2)]


BAD_ROWS = [
    (["x.wav", "0", "1", "n", "p1", "holdout"], "unknown split 'holdout'"),
    (["x.wav", "zero", "1", "n", "p1", "train"], "start is not a number"),
    (["x.wav", "0", "", "n", "p1", "train"], "end is not a number"),
    (["x.wav", "-1", "1", "n", "p1", "train"], "finite and >= 0"),
    (["x.wav", "0", "inf", "n", "p1", "train"], "finite and >= 0"),
    (["x.wav", "1", "1", "n", "p1", "train"], "end 1 <= start 1"),
    (["x.wav", "2", "1", "n", "p1", "train"], "<= start"),
    (["x.wav", "0", "1", "", "p1", "train"], "empty label"),
    (["x.wav", "0", "1", "n", "", "train"], "empty patient"),
    (["/tmp/x.wav", "0", "1", "n", "p1", "train"], "must be relative"),
    (["C:\\data\\x.wav", "0", "1", "n", "p1", "train"], "must be relative"),
    (["../x.wav", "0", "1", "n", "p1", "train"], "outside the table's folder"),
    (["sub/../../x.wav", "0", "1", "n", "p1", "train"], "outside the table's folder"),
    (["x.wav", "0", "1", "n", "p2", "train"], "has patient 'p2' here, 'p1' on line 2"),
    (["x.wav", "0", "1", "n", "p1", "test"], "has split 'test' here, 'train' on line 2"),
    (["x.wav", "0", "1", "n", "p1"], "row has 5 fields"),
]


@pytest.mark.parametrize("row, message", BAD_ROWS)
def test_bad_rows_are_one_line_errors_naming_table_and_line(tmp_path: Path, row, message):
    wav(tmp_path / "x.wav", 2.0)
    path = table(tmp_path / "t.csv", [HEADER[:6], ["x.wav", "0", "0.5", "n", "p1", "train"], row])
    with pytest.raises(RespgenError, match=message) as e:
        read_table(path)
    assert "\n" not in str(e.value)
    assert e.value.where == f"{path}:3"


@pytest.mark.parametrize("column", ["file", "start", "end", "label"])
def test_missing_required_column_is_named(tmp_path: Path, column):
    header = [c for c in HEADER if c != column]
    path = table(tmp_path / "t.tsv", [header, ["x"] * len(header)], "\t")
    with pytest.raises(RespgenError, match=f"missing required column '{column}'") as e:
        read_table(path)
    assert e.value.where == f"{path}:1" and "\n" not in str(e.value)


def test_other_bad_tables(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(RespgenError, match="header row is required"):
        read_table(empty)
    with pytest.raises(RespgenError, match="not found"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(RespgenError, match="appears twice"):
        read_table(table(tmp_path / "dup.csv", [HEADER + ["site"]]))
    with pytest.raises(RespgenError, match="test_fraction"):
        read_table(table(tmp_path / "ok.csv", [HEADER]), test_fraction=1.0)
    wav(tmp_path / "x.wav", 1.0)
    wav(tmp_path / "x.flac", 1.0)
    rows = [HEADER[:4], ["x.wav", "0", "1", "n"], ["x.flac", "0", "1", "n"]]
    with pytest.raises(RespgenError, match="same recording name 'x'"):
        read_table(table(tmp_path / "names.csv", rows))
    assert not looks_like_table(tmp_path / "x.wav") and not looks_like_table(tmp_path / "none.csv")


def test_demo_table_reads_back(tmp_path: Path):
    path = write_demo_table(tmp_path / "demo", seed=2)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "start", "end", "label", "patient", "split", "device"]
    ds = read_table(path, strict=True)
    assert ds.skipped == [] and ds.notes == []
    assert len(ds.recordings) == len({r["file"] for r in rows})
    got = Counter((r.split, s.label) for r in ds.recordings for s in r.segments)
    assert got == Counter((r["split"], r["label"]) for r in rows)
    assert {r.split for r in ds.recordings} == {"train", "val", "test"}
    assert all(s.metadata == {"device": s.metadata["device"]} for r in ds.recordings for s in r.segments)
    assert write_demo_table(tmp_path / "again", seed=2).read_bytes() == path.read_bytes()
