"""The SPRSound reader: layout, JSON checks, skips and clipping, and the demo writer read back."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.data.sprsound import SPRSOUND_EVENT_TYPES, looks_like_sprsound, read_sprsound, write_demo_sprsound
from respgen.errors import RespgenError


def wav(path: Path, seconds: float, sr: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr, subtype="PCM_16")


def annotation(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def ev(start, end, kind):
    return {"start": start, "end": end, "type": kind}


def make_dataset(root: Path, year: str = "2022") -> None:
    """Train: two readable records (one with events out of order, one with int times, no
    record_annotation, an event past the end and one starting after it), a Poor Quality record, a record
    without events, an annotation without wav. Test: one inter, one intra, one wav without annotation."""
    tw, tj = root / f"train{year}_wav", root / f"train{year}_json"
    wav(tw / "101_5.2_0_p1_1.wav", 4.0)
    annotation(
        tj / "101_5.2_0_p1_1.json",
        {
            "record_annotation": "CAS & DAS",
            "event_annotation": [
                ev("2500", "3400", "Wheeze"),
                ev("100", "900", "Normal"),
                ev("1000", "2000", "Fine Crackle"),
            ],
        },
    )
    wav(tw / "101_5.2_0_p2_2.wav", 4.0, sr=16000)
    annotation(
        tj / "101_5.2_0_p2_2.json",
        {"event_annotation": [ev(3000, 5000, "Coarse Crackle"), ev(4500, 4800, "Rhonchi"), ev(0, 2900, "Normal")]},
    )
    wav(tw / "102_3.0_1_p3_1.wav", 2.0)
    annotation(tj / "102_3.0_1_p3_1.json", {"record_annotation": "Poor Quality", "event_annotation": []})
    wav(tw / "102_3.0_1_p4_2.wav", 2.0)
    annotation(tj / "102_3.0_1_p4_2.json", {"record_annotation": "Normal", "event_annotation": []})
    annotation(
        tj / "103_7.5_1_p1_1.json", {"record_annotation": "Normal", "event_annotation": [ev("0", "500", "Normal")]}
    )
    sw, sj = root / f"test{year}_wav", root / f"test{year}_json"
    wav(sw / "201_8.0_0_p1_1.wav", 3.0)
    inter = [ev("2000", "2900", "Normal"), ev("0", "900", "Stridor"), ev("1000", "1900", "Wheeze+Crackle")]
    annotation(sj / "inter_test_json" / "201_8.0_0_p1_1.json", {"record_annotation": "CAS", "event_annotation": inter})
    wav(sw / "101_5.2_0_p3_3.wav", 3.0)
    intra = {
        "record_annotation": "CAS",
        "event_annotation": [ev("1500", "2500", "Rhonchi"), ev("200", "1400", "Normal")],
    }
    annotation(sj / "intra_test_json" / "101_5.2_0_p3_3.json", intra)
    wav(sw / "999_1.0_0_p1_1.wav", 1.0)


def group(rec) -> str:
    return rec.subset if rec.split == "test" else rec.split


def test_reads_splits_subsets_labels_and_skips(tmp_path: Path):
    make_dataset(tmp_path)
    assert looks_like_sprsound(tmp_path)
    ds = read_sprsound(tmp_path)
    assert ds.format == "sprsound"
    assert Counter(group(r) for r in ds.recordings) == {"train": 2, "inter": 1, "intra": 1}
    labels = {
        g: Counter(s.label for r in ds.recordings if group(r) == g for s in r.segments)
        for g in ("train", "inter", "intra")
    }
    assert labels == {
        "train": {"Normal": 2, "Fine Crackle": 1, "Wheeze": 1, "Coarse Crackle": 1},
        "inter": {"Stridor": 1, "Wheeze+Crackle": 1, "Normal": 1},
        "intra": {"Normal": 1, "Rhonchi": 1},
    }
    assert {(s.item, s.reason) for s in ds.skipped} >= {
        ("train2022_json/102_3.0_1_p3_1.json", "Poor Quality record"),
        ("train2022_json/102_3.0_1_p4_2.json", "no events"),
        ("train2022_json/103_7.5_1_p1_1.json", "no wav for this annotation"),
        ("test2022_wav/999_1.0_0_p1_1.wav", "no annotation for this wav"),
    }
    assert len(ds.skipped) == 5  # + the Rhonchi event that starts after its audio ends
    assert any(
        "starts at 4.5 s" in s.reason and s.item.startswith("train2022_json/101_5.2_0_p2_2.json") for s in ds.skipped
    )


def test_recording_fields_sorted_events_and_clipping(tmp_path: Path):
    make_dataset(tmp_path)
    recs = {r.name: r for r in read_sprsound(tmp_path).recordings}
    first = recs["101_5.2_0_p1_1"]
    assert first.wav == tmp_path / "train2022_wav" / "101_5.2_0_p1_1.wav"
    assert (first.patient, first.split, first.subset) == ("101", "train", None)
    assert first.metadata == {"age": "5.2", "gender": "0", "location": "p1", "record_annotation": "CAS & DAS"}
    assert [(s.start, s.end, s.label) for s in first.segments] == [
        (0.1, 0.9, "Normal"),
        (1.0, 2.0, "Fine Crackle"),
        (2.5, 3.4, "Wheeze"),
    ]
    assert all("clipped" not in s.metadata for s in first.segments)
    second = recs["101_5.2_0_p2_2"]
    assert "record_annotation" not in second.metadata
    assert [(s.start, s.end, s.label) for s in second.segments] == [(0.0, 2.9, "Normal"), (3.0, 4.0, "Coarse Crackle")]
    assert second.segments[1].metadata == {"clipped": True, "annotated_end": 5.0}
    assert (recs["201_8.0_0_p1_1"].split, recs["201_8.0_0_p1_1"].subset) == ("test", "inter")
    assert (recs["101_5.2_0_p3_3"].patient, recs["101_5.2_0_p3_3"].subset) == ("101", "intra")


def test_strict_missing_wav_and_unannotated_wav_are_errors(tmp_path: Path):
    make_dataset(tmp_path)
    with pytest.raises(RespgenError, match="no wav for this annotation") as e:
        read_sprsound(tmp_path, strict=True)
    assert e.value.where == str(tmp_path / "train2022_json" / "103_7.5_1_p1_1.json")
    (tmp_path / "train2022_json" / "103_7.5_1_p1_1.json").unlink()
    with pytest.raises(RespgenError, match="wav has no annotation JSON"):
        read_sprsound(tmp_path, strict=True)
    (tmp_path / "test2022_wav" / "999_1.0_0_p1_1.wav").unlink()
    assert len(read_sprsound(tmp_path, strict=True).recordings) == 4


def test_other_years_and_flat_test_json(tmp_path: Path):
    make_dataset(tmp_path, year="2023")
    flat = tmp_path / "test2023_json" / "301_2.0_1_p2_1.json"
    annotation(flat, {"event_annotation": [ev("0", "800", "Wheeze")]})
    wav(tmp_path / "test2023_wav" / "301_2.0_1_p2_1.wav", 1.0)
    ds = read_sprsound(tmp_path)
    assert Counter(group(r) for r in ds.recordings) == {"train": 2, "inter": 1, "intra": 1, None: 1}


def test_not_sprsound(tmp_path: Path):
    assert not looks_like_sprsound(tmp_path)
    assert not looks_like_sprsound(tmp_path / "missing")
    (tmp_path / "train2022_json").mkdir()
    assert not looks_like_sprsound(tmp_path)  # no wav folder
    with pytest.raises(RespgenError, match="no SPRSound annotation JSONs"):
        read_sprsound(tmp_path)
    with pytest.raises(RespgenError, match="folder not found"):
        read_sprsound(tmp_path / "missing")


BAD_JSONS = [
    ("[]", "must be a JSON object"),
    ('{"record_annotation": "Normal"', "not valid JSON"),
    ({"record_annotation": "Normal"}, "'event_annotation' list"),
    ({"event_annotation": {"start": "0"}}, "'event_annotation' list"),
    ({"record_annotation": 3, "event_annotation": []}, "record_annotation must be a string"),
    ({"event_annotation": ["0-500"]}, "event 1 is not an object"),
    ({"event_annotation": [{"start": "0", "type": "Normal"}]}, "event 1 has no 'end'"),
    ({"event_annotation": [{"end": "9", "type": "Normal"}]}, "event 1 has no 'start'"),
    ({"event_annotation": [{"start": "0", "end": "9"}]}, "event 1 has no 'type'"),
    ({"event_annotation": [ev("0", "9", "Normal"), ev("1O0", "200", "Normal")]}, "event 2: start is not a number"),
    ({"event_annotation": [ev("0", None, "Normal")]}, "end is not a number"),
    ({"event_annotation": [ev(True, "9", "Normal")]}, "start is not a number"),
    ({"event_annotation": [ev("0", "nan", "Normal")]}, "finite and >= 0"),
    ({"event_annotation": [ev("-10", "9", "Normal")]}, "finite and >= 0"),
    ({"event_annotation": [ev("0", "9", "Crackle")]}, "unknown event type 'Crackle'"),
    ({"event_annotation": [ev("0", "9", "wheeze")]}, "unknown event type 'wheeze'"),
    ({"event_annotation": [ev("500", "500", "Normal")]}, "<= start"),
    ({"event_annotation": [ev("900", "\n500", "Normal")]}, "<= start"),
]


@pytest.mark.parametrize("doc, message", BAD_JSONS)
def test_bad_json_is_one_line_error_naming_the_file(tmp_path: Path, doc, message):
    make_dataset(tmp_path)
    bad = annotation(tmp_path / "test2022_json" / "intra_test_json" / "401_1.0_0_p1_1.json", doc)
    wav(tmp_path / "test2022_wav" / "401_1.0_0_p1_1.wav", 1.0)
    with pytest.raises(RespgenError, match=message) as e:
        read_sprsound(tmp_path)
    assert "\n" not in str(e.value)
    assert e.value.where is not None and e.value.where.split(":")[0] == str(bad)


def test_poor_quality_record_still_needs_the_shape(tmp_path: Path):
    make_dataset(tmp_path)
    annotation(tmp_path / "train2022_json" / "102_3.0_1_p3_1.json", {"record_annotation": "Poor Quality"})
    with pytest.raises(RespgenError, match="'event_annotation' list"):
        read_sprsound(tmp_path)


def test_same_recording_annotated_twice_and_unreadable_audio(tmp_path: Path):
    make_dataset(tmp_path)
    copy = tmp_path / "test2022_json" / "inter_test_json" / "101_5.2_0_p3_3.json"
    copy.write_text((tmp_path / "test2022_json" / "intra_test_json" / "101_5.2_0_p3_3.json").read_text())
    with pytest.raises(RespgenError, match="annotated twice"):
        read_sprsound(tmp_path)
    copy.unlink()
    (tmp_path / "test2022_wav" / "201_8.0_0_p1_1.wav").write_bytes(b"RIFF junk")
    with pytest.raises(RespgenError, match="cannot read audio header") as e:
        read_sprsound(tmp_path)
    assert e.value.where == str(tmp_path / "test2022_wav" / "201_8.0_0_p1_1.wav")


def test_demo_reads_back_with_its_counts(tmp_path: Path):
    counts = write_demo_sprsound(tmp_path, seed=3)
    ds = read_sprsound(tmp_path, strict=True)
    assert counts["json_files"] <= 40
    assert dict(Counter(group(r) for r in ds.recordings)) == counts["recordings"]
    for g in ("train", "inter", "intra"):
        found = Counter(s.label for r in ds.recordings if group(r) == g for s in r.segments)
        assert found == counts["events"][g]
        assert set(found) == set(SPRSOUND_EVENT_TYPES), g
    assert [s.reason for s in ds.skipped] == ["Poor Quality record"] * counts["poor_quality"]
    assert counts["poor_quality"] >= 1 and counts["no_record_annotation"] >= 1
    assert sum("record_annotation" not in r.metadata for r in ds.recordings) == counts["no_record_annotation"]
    assert sum(bool(s.metadata.get("clipped")) for r in ds.recordings for s in r.segments) == counts["clipped"] == 1
    assert {sf.info(str(r.wav)).samplerate for r in ds.recordings} == {8000, 16000}
    assert {r.patient for r in ds.recordings if group(r) == "intra"} <= {
        r.patient for r in ds.recordings if r.split == "train"
    }
    assert not {r.patient for r in ds.recordings if group(r) == "inter"} & {
        r.patient for r in ds.recordings if r.split == "train"
    }


def test_demo_jsons_are_out_of_order_ms_strings_and_seeded(tmp_path: Path):
    write_demo_sprsound(tmp_path / "a", seed=1)
    write_demo_sprsound(tmp_path / "b", seed=1)
    files = sorted((tmp_path / "a").rglob("*.json"))
    for path in files:
        events = json.loads(path.read_text())["event_annotation"]
        assert all(isinstance(e["start"], str) and isinstance(e["end"], str) for e in events)
        starts = [int(e["start"]) for e in events]
        assert len(starts) < 2 or starts != sorted(starts), path
    same = [p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes() for p in files]
    assert all(same) and files
    assert (tmp_path / "a" / "test2022_json" / "inter_test_json").is_dir()
    assert (tmp_path / "a" / "test2022_json" / "intra_test_json").is_dir()
