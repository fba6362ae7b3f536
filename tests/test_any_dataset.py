"""Any dataset: the real ICBHI recordings written as an annotation table prepare to the same clips as the
ICBHI path; a SPRSound folder prepares to exactly the counts its JSON files imply (seven classes, binary,
ICBHI's four through a label map); classes come from the data everywhere."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.config import PrepareConfig
from respgen.data.icbhi import SPLIT_FILE_NAME, RecordingName, SplitTable, parse_annotation
from respgen.data.manifest import read_rows
from respgen.errors import RespgenError
from respgen.labels import label_for
from respgen.services.prepare import prepare


def _icbhi_as_table(icbhi: Path, out: Path) -> Path:
    """The ICBHI folder's recordings as an annotation table (audio reached through a link in `out`)."""
    out.mkdir(parents=True)
    (out / "audio").symlink_to(icbhi, target_is_directory=True)
    splits = SplitTable(icbhi / SPLIT_FILE_NAME)
    table = out / "cycles.csv"
    with open(table, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "start", "end", "label", "patient", "split", "crackle", "wheeze"])
        for wav in sorted(icbhi.glob("*.wav")):
            name = RecordingName.parse(wav.stem)
            for c in parse_annotation(wav.with_suffix(".txt")):
                label = label_for(c.crackle, c.wheeze)
                row = [f"audio/{wav.name}", repr(c.start), repr(c.end), label, name.patient, splits.split_of(name)]
                w.writerow(row + [c.crackle, c.wheeze])
    return table


def _by_cycle(work: Path) -> dict[tuple, dict]:
    rows = read_rows(work / "data" / "manifest.jsonl")
    return {(r["provenance"]["file"], r["start"], r["end"]): r for r in rows}


def test_icbhi_as_a_table_prepares_the_same_clips(icbhi_mini: Path, tmp_path: Path):
    table = _icbhi_as_table(icbhi_mini, tmp_path / "table")
    a, b = tmp_path / "icbhi-work", tmp_path / "table-work"
    ra = prepare(PrepareConfig(icbhi_dir=icbhi_mini, workdir=a, workers=1))
    rb = prepare(PrepareConfig(icbhi_dir=table, workdir=b, workers=1))
    assert ra.classes == ("normal", "crackle", "wheeze", "both")
    assert rb.classes == ("normal", "both", "crackle", "wheeze")  # a table's classes: normal first, then sorted
    assert ra.counts == rb.counts and sum(sum(c.values()) for c in ra.counts.values()) > 0
    ca, cb = _by_cycle(a), _by_cycle(b)
    assert ca.keys() == cb.keys()
    for key, x in ca.items():
        y = cb[key]
        assert (x["label"], x["split"], x["patient"], x["duration"]) == (
            y["label"],
            y["split"],
            y["patient"],
            y["duration"],
        )
        assert y["metadata"]["crackle"] == str(x["crackle"])  # the table's other columns kept as metadata
        audio_a, _ = sf.read(a / "data" / x["path"], dtype="float32")
        audio_b, _ = sf.read(b / "data" / y["path"], dtype="float32")
        assert np.array_equal(audio_a, audio_b), key
    info = json.loads((b / "data" / "prepare.json").read_text())
    assert info["format"] == "table" and info["normal_class"] == "normal"


EVENTS = {  # recording -> (split, subset, events as written: out of order, times in ms as strings)
    "101_5.2_1_p1_1": (
        "train",
        None,
        [("3000", "4000", "Fine Crackle"), ("0", "1500", "Normal"), ("1500", "2900", "Wheeze")],
    ),
    "101_5.2_1_p2_2": ("train", None, [("500", "1000", "Rhonchi"), ("1200", "9000", "Coarse Crackle")]),  # past the end
    "102_3.0_0_p1_1": ("train", None, [("100", "900", "Stridor"), ("1000", "2000", "Wheeze+Crackle")]),
    "103_4.0_1_p1_1": ("train", None, "Poor Quality"),
    "201_6.0_0_p3_1": ("test", "inter", [("2000", "3000", "Normal"), ("0", "1000", "Fine Crackle")]),
    "101_5.2_1_p3_3": ("test", "intra", [("0", "800", "Wheeze"), ("900", "1900", "Normal")]),
}


def _write_sprsound(root: Path) -> None:
    """A SPRSound folder from the format's description: 4 s wavs at 8 kHz, one JSON per recording."""
    rng = np.random.default_rng(0)
    for name, (split, subset, events) in EVENTS.items():
        wav_dir = root / ("train2022_wav" if split == "train" else "test2022_wav")
        json_dir = root / ("train2022_json" if split == "train" else f"test2022_json/{subset}_test_json")
        wav_dir.mkdir(parents=True, exist_ok=True)
        json_dir.mkdir(parents=True, exist_ok=True)
        sf.write(wav_dir / f"{name}.wav", 0.1 * rng.standard_normal(4 * 8000).astype(np.float32), 8000)
        if events == "Poor Quality":
            doc = {"record_annotation": "Poor Quality", "event_annotation": []}
        else:
            doc = {"event_annotation": [{"start": s, "end": e, "type": t} for s, e, t in events]}
            if name != "102_3.0_0_p1_1":  # later releases drop record_annotation
                doc["record_annotation"] = "CAS & DAS"
        (json_dir / f"{name}.json").write_text(json.dumps(doc))


def _counts(work: Path) -> dict[tuple, int]:
    return Counter((r["split"], r.get("subset"), r["label"]) for r in read_rows(work / "data" / "manifest.jsonl"))


def test_sprsound_counts_per_split_subset_and_class(tmp_path: Path):
    root = tmp_path / "sprsound"
    _write_sprsound(root)
    seven = prepare(PrepareConfig(icbhi_dir=root, workdir=tmp_path / "w7", val_fraction=0, workers=1))
    assert seven.classes == (
        "normal",
        "rhonchi",
        "wheeze",
        "stridor",
        "coarse-crackle",
        "fine-crackle",
        "wheeze+crackle",
    )
    assert _counts(tmp_path / "w7") == {
        ("train", None, "normal"): 1, ("train", None, "wheeze"): 1, ("train", None, "fine-crackle"): 1,
        ("train", None, "rhonchi"): 1, ("train", None, "coarse-crackle"): 1, ("train", None, "stridor"): 1,
        ("train", None, "wheeze+crackle"): 1, ("test", "inter", "normal"): 1, ("test", "inter", "fine-crackle"): 1,
        ("test", "intra", "wheeze"): 1, ("test", "intra", "normal"): 1,
    }  # fmt: skip
    rows = {r["id"]: r for r in read_rows(tmp_path / "w7" / "data" / "manifest.jsonl")}
    clipped = rows["101_5.2_1_p2_2_001"]  # the event past the end of its 4 s audio
    assert clipped["clipped"] and clipped["duration"] == pytest.approx(4.0 - 1.2)
    assert [s["reason"] for s in seven.skipped] == ["Poor Quality record"]
    info = json.loads((tmp_path / "w7" / "data" / "prepare.json").read_text())
    assert info["subsets"]["inter"]["fine-crackle"] == 1 and info["normal_class"] == "normal"

    binary = prepare(PrepareConfig(icbhi_dir=root, workdir=tmp_path / "w2", labels="binary", val_fraction=0, workers=1))
    assert binary.classes == ("normal", "adventitious")
    assert binary.counts["train"] == {"normal": 1, "adventitious": 6} and binary.counts["test"] == {
        "normal": 2,
        "adventitious": 2,
    }

    label_map = tmp_path / "four.toml"
    label_map.write_text(
        '"Normal" = "normal"\n"Coarse Crackle" = "crackle"\n"Fine Crackle" = "crackle"\n"Wheeze" = "wheeze"\n'
        '"Rhonchi" = "wheeze"\n"Stridor" = "wheeze"\n"Wheeze+Crackle" = "both"\n'
    )
    four = prepare(
        PrepareConfig(icbhi_dir=root, workdir=tmp_path / "w4", label_map=label_map, val_fraction=0, workers=1)
    )
    assert four.classes == ("normal", "crackle", "wheeze", "both")
    assert four.counts["train"] == {"normal": 1, "crackle": 2, "wheeze": 3, "both": 1}
    assert four.counts["test"] == {"normal": 2, "crackle": 1, "wheeze": 1, "both": 0}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"Normal" = "normal"\n', "'Rhonchi' is not in the label map"),
        ('"Normal" = "Not A Class"\n', "cannot name a class"),
        ('"Normal" = 3\n', "give a class name, or false"),
        ('"Normal" = false\n"Rhonchi" = false\n', None),
    ],
)
def test_bad_label_maps_are_one_line(tmp_path: Path, text: str, fragment: str | None):
    root = tmp_path / "sprsound"
    _write_sprsound(root)
    label_map = tmp_path / "map.toml"
    label_map.write_text(text)
    with pytest.raises(RespgenError) as e:
        prepare(PrepareConfig(icbhi_dir=root, workdir=tmp_path / "w", label_map=label_map, workers=1))
    assert "\n" not in str(e.value) and (fragment is None or fragment in e.value.message), str(e.value)
    assert not (tmp_path / "w" / "data").exists()  # nothing written


def test_normal_class_must_exist(tmp_path: Path):
    root = tmp_path / "t"
    root.mkdir()
    sf.write(root / "a.wav", np.zeros(16000, dtype=np.float32), 16000)
    (root / "t.csv").write_text("file,start,end,label\na.wav,0,0.5,healthy\na.wav,0.5,1.0,sick\n")
    with pytest.raises(RespgenError, match="pass --normal-class"):
        prepare(PrepareConfig(icbhi_dir=root / "t.csv", workdir=tmp_path / "w", workers=1))
    r = prepare(PrepareConfig(icbhi_dir=root / "t.csv", workdir=tmp_path / "w", workers=1, normal_class="healthy"))
    assert r.classes == ("healthy", "sick") and any("own patient" in n for n in r.notes)


def test_seven_class_sprsound_end_to_end(cli, tmp_path: Path, demo_workdir: Path):
    """Every command on a seven-class demo SPRSound workspace (CPU, tiny presets): its classes everywhere."""
    data, work = tmp_path / "sprsound", tmp_path / "work"
    fast = ["--preset", "tiny", "--epochs", "1", "--length", "1.0", "--workdir", work]
    steps = [
        ["demo-data", data, "--layout", "sprsound"],
        ["prepare", data, "--workdir", work, "--workers", "1"],
        ["synth", "--vocoder", "griffinlim", "--class", "all", "--n", "2", "--length", "1.0", "--workdir", work],
        ["finetune", "--aft", "--name", "aft", *fast],
        ["compare", "--arms", "ce,aft", "--name", "cmp", *fast],
    ]
    for args in steps:
        r = cli(*args)
        assert r.exit_code == 0, (args, r.output)
    classes = json.loads((work / "data" / "prepare.json").read_text())["classes"]
    assert len(classes) == 7 and classes[0] == "normal"
    model = json.loads((work / "models" / "aft" / "respgen.json").read_text())
    assert model["labels"] == classes
    metrics = json.loads((work / "models" / "aft" / "metrics.json").read_text())
    assert set(metrics["test"]["per_class"]) == set(classes) and "hs" in metrics["test"]
    subsets = metrics["test_subsets"]  # SPRSound's inter / intra, scored apart too
    assert set(subsets) == {"inter", "intra"} and subsets["inter"]["n"] + subsets["intra"]["n"] == metrics["test"]["n"]

    label_map = tmp_path / "icbhi-to-sprsound.toml"  # the ICBHI demo's classes as the model's
    label_map.write_text('normal = "normal"\ncrackle = "fine-crackle"\nwheeze = "wheeze"\nboth = "wheeze+crackle"\n')
    other = tmp_path / "icbhi"
    other.mkdir()
    (other / "data").symlink_to(demo_workdir / "data", target_is_directory=True)
    r = cli("evaluate", "--model", work / "models" / "aft", "--workdir", other, "--label-map", label_map, "--json")
    assert r.exit_code == 0, r.output
    ev = json.loads(r.stdout)
    assert ev["classes"] == classes and ev["n"] == sum(
        1 for _ in read_rows(demo_workdir / "data" / "manifest.jsonl") if _["split"] == "test"
    )
    assert Path(ev["path"]).is_file() and ev["scores"]["score"] == pytest.approx(
        (ev["scores"]["sp"] + ev["scores"]["se"]) / 2
    )
    r = cli("evaluate", "--model", work / "models" / "aft", "--workdir", other)  # no map: the class lists differ
    assert r.exit_code == 2 and "wheeze+crackle" in r.stderr and "both" in r.stderr
    r = cli("evaluate", "--model", work / "models" / "aft", "--workdir", work, "--json")  # its own test split
    assert r.exit_code == 0 and set(json.loads(r.stdout)["subsets"]) == {"inter", "intra"}

    r = cli("report", "--workdir", work, "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["classes"] == classes and set(report["real_counts"]) == set(classes)
    assert {p["label"] for p in report["listening"]["griffinlim"]} == set(classes)
    assert set(report["synthetic"]["sets"]["griffinlim"]["fidelity"]) == set(classes)
    assert {e["workspace"] for e in report["evaluations"]["aft"]} == {str(other), str(work)}  # shown beside the run
    assert "Other datasets" in (work / "report" / "report.md").read_text()

    wav = next((data / "test2022_wav").glob("*.wav"))
    r = cli("classify", wav, "--model", work / "models" / "aft", "--json")
    assert r.exit_code == 0, r.output
    segments = json.loads(r.stdout)["files"][0]["segments"]
    assert segments and all(s["label"] in classes and set(s["probabilities"]) == set(classes) for s in segments)
