from pathlib import Path

import pytest

from respgen.data.icbhi import RecordingName, SplitTable, parse_annotation, read_diagnoses
from respgen.errors import RespgenError
from respgen.labels import label_for, parse_classes


def test_recording_name_fields_and_key():
    r = RecordingName.parse("101_1b1_Al_sc_Meditron")
    assert (r.patient, r.index, r.location, r.mode, r.device) == ("101", "1b1", "Al", "sc", "Meditron")
    assert r.key == "101_1b1_Al_sc"
    assert RecordingName.parse("notes") is None
    assert RecordingName.parse("x_1b1_Al_sc_Meditron") is None


def test_labels_from_flags():
    assert [label_for(c, w) for c, w in [(0, 0), (1, 0), (0, 1), (1, 1)]] == ["normal", "crackle", "wheeze", "both"]
    assert [label_for(c, w, "binary") for c, w in [(0, 0), (1, 0), (0, 1), (1, 1)]] == [
        "normal",
        "abnormal",
        "abnormal",
        "abnormal",
    ]
    assert parse_classes(["all"]) == ["normal", "crackle", "wheeze", "both"]
    assert parse_classes(["wheeze", "crackle,wheeze"]) == ["wheeze", "crackle"]
    with pytest.raises(RespgenError, match="unknown class 'rattle'"):
        parse_classes(["rattle"])


def test_annotation_parsing(tmp_path: Path):
    p = tmp_path / "a.txt"
    p.write_text("0.036\t0.579\t0\t0\n0.579\t2.45\t1\t1\n\n")
    cycles = parse_annotation(p)
    assert [(c.start, c.end, c.crackle, c.wheeze) for c in cycles] == [(0.036, 0.579, 0, 0), (0.579, 2.45, 1, 1)]


@pytest.mark.parametrize(
    "line, message",
    [
        ("0.1\t0.5\t0", "needs 4 fields"),
        ("0.1\tabc\t0\t0", "not numeric"),
        ("0.5\t0.5\t0\t0", "end 0.5 <= start 0.5"),
        ("0.9\t0.5\t0\t0", "<= start"),
        ("0.1\t0.5\t2\t0", "must be 0 or 1"),
        ("nan\t0.5\t0\t0", "finite"),
    ],
)
def test_annotation_errors_name_file_and_line(tmp_path: Path, line, message):
    p = tmp_path / "bad.txt"
    p.write_text("0.0\t0.1\t0\t0\n" + line + "\n")
    with pytest.raises(RespgenError, match=message) as e:
        parse_annotation(p)
    assert str(e.value).endswith(f"({p}:2)")


def test_split_matches_other_release_device(tmp_path: Path):
    p = tmp_path / "split.txt"
    p.write_text("101_1b1_Al_sc_Meditron\ttest\n103_2b2_Ar_mc_LittC2SE\ttrain\n")
    table = SplitTable(p)
    assert table.split_of(RecordingName.parse("101_1b1_Al_sc_AKGC417L")) == "test"
    assert table.split_of(RecordingName.parse("103_2b2_Ar_mc_LittC2SE")) == "train"
    assert table.split_of(RecordingName.parse("999_1b1_Al_sc_Meditron")) is None


def test_split_file_against_real_annotations(icbhi_annotations: Path):
    table = SplitTable(icbhi_annotations / "ICBHI_challenge_train_test.txt")
    names = [RecordingName.parse(p.stem) for p in icbhi_annotations.glob("[0-9]*.txt")]
    assert len(names) == 920
    assert all(table.split_of(n) for n in names)
    assert sum(1 for n in names if n.name not in table.by_name) == 1  # 226_1b1_Pl_sc_LittC2SE: only by key


def test_diagnoses_with_and_without_header(tmp_path: Path, icbhi_annotations: Path):
    p = tmp_path / "d.csv"
    p.write_text("ID,CLASS\n101,URTI\n102,Healthy\n")
    assert read_diagnoses(p) == {"101": "URTI", "102": "Healthy"}
    real = read_diagnoses(icbhi_annotations / "patient_diagnosis.csv")
    assert len(real) == 126 and real["101"] == "URTI"
