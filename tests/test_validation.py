"""Careless input is caught before any work: every manifest row is checked when read (one line naming
`file:line` and the field), every numeric option is finite and bounded (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respgen.data.manifest import read_rows
from respgen.errors import RespgenError
from respgen.labels import CLASSES
from respgen.workspace import Workspace
from tests.test_prepare_errors import assert_clean_error

# --- manifest rows -------------------------------------------------------------------------------------


def corrupt_copy(demo_workdir: Path, tmp_path: Path, line: int, change) -> tuple[Path, Path]:
    """A workdir sharing the demo clips whose real manifest's `line` (1-based) is `change(row)`."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    for item in (demo_workdir / "data").iterdir():
        if item.name != "manifest.jsonl":
            (work / "data" / item.name).symlink_to(item, target_is_directory=item.is_dir())
    lines = (demo_workdir / "data" / "manifest.jsonl").read_text().splitlines()
    new = change(json.loads(lines[line - 1]))
    lines[line - 1] = new if isinstance(new, str) else json.dumps(new)
    manifest = work / "data" / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return work, manifest


def without(key):
    return lambda row: {k: v for k, v in row.items() if k != key}


def with_(**changes):
    return lambda row: {**row, **changes}


BAD_REAL = [
    (without("label"), "missing field 'label'"),
    (with_(duration="abc"), "invalid duration 'abc'"),
    (with_(split="weird"), "invalid split 'weird'"),
    (with_(label="bogus"), "invalid label 'bogus'"),
    (with_(start=-1.0), "invalid start -1.0"),
    (with_(sample_rate=0), "invalid sample_rate 0"),
    (with_(source="synthetic"), "invalid source 'synthetic'"),
    (lambda row: '{"id": "x", "duration": NaN', "not JSON"),
    (lambda row: "[1, 2]", "not a JSON object"),
]
IDS = ["no-label", "duration-abc", "split-weird", "label-bogus", "start-negative", "rate-0", "source", "json", "list"]


@pytest.mark.parametrize("change, fragment", BAD_REAL, ids=IDS)
@pytest.mark.parametrize("args", [("report",), ("synth", "--class", "crackle", "--n", "1")], ids=["report", "synth"])
def test_bad_real_row_is_one_line_naming_file_and_line(cli, demo_workdir, tmp_path, change, fragment, args):
    work, manifest = corrupt_copy(demo_workdir, tmp_path, 3, change)
    r = cli(*args, "--workdir", work)
    assert_clean_error(r, fragment, f"{manifest}:3")
    assert not (work / "report").exists() and not (work / "synth").exists()  # nothing was made


@pytest.mark.parametrize("workdir", ["demo_workdir", "mini_workdir"])
def test_good_rows_read_unchanged(request, workdir: str):
    """Checking changes nothing (demo and real ICBHI rows): same keys in the same order, extra keys kept."""
    manifest = request.getfixturevalue(workdir) / "data" / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    rows = read_rows(manifest, kind="real")
    assert rows == lines and [list(r) for r in rows] == [list(x) for x in lines]


SYNTHETIC = {
    "id": "crackle_00000",
    "path": "crackle/crackle_00000.wav",
    "label": "crackle",
    "split": "train",
    "source": "synthetic",
    "conditioned_on": "x",
    "vocoder": {"step": 0},
    "note": "kept",
}


def write_rows(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    "row, fragment",
    [
        ({**SYNTHETIC, "label": "bogus"}, "invalid label 'bogus'"),
        ({**SYNTHETIC, "label": "Bad Label"}, "not a class name"),
        ({k: v for k, v in SYNTHETIC.items() if k != "path"}, "missing field 'path'"),
        ({**SYNTHETIC, "split": "test"}, "invalid split 'test'"),
        ({**SYNTHETIC, "mel_l1": float("inf")}, "invalid mel_l1 inf"),
        ({**SYNTHETIC, "source": "real"}, "invalid source 'real'"),
        (SYNTHETIC, "given twice (first on line 1)"),
        ({**SYNTHETIC, "path": "../../../elsewhere/x.wav"}, "invalid path '../../../elsewhere/x.wav'"),
        ({**SYNTHETIC, "path": "crackle/../../x.wav"}, "inside the manifest's folder"),
        ({**SYNTHETIC, "path": "/etc/passwd"}, "invalid path '/etc/passwd'"),
    ],
    ids=[
        "label",
        "class name",
        "path",
        "split",
        "mel_l1",
        "source",
        "duplicate id",
        "climbing path",
        "climbing later",
        "absolute",
    ],
)
def test_bad_synthetic_row(tmp_path: Path, row, fragment):
    path = write_rows(tmp_path / "manifest.jsonl", [SYNTHETIC, "", row])
    with pytest.raises(RespgenError) as e:
        read_rows(path, kind="synthetic", classes=CLASSES)  # the workspace's classes, as Workspace reads rows
    assert e.value.exit_code == 2
    assert fragment in e.value.message and e.value.where == f"{path}:3"
    assert "\n" not in str(e.value)


def test_synthetic_rows_kept_as_written(tmp_path: Path):
    row = {**SYNTHETIC, "mel_l1": 0.5, "mel_l1_noise": 1.5, "mel_l1_other_seed": 0.7, "seed": 3, "steps": "fast"}
    assert read_rows(write_rows(tmp_path / "m.jsonl", [row]), kind="synthetic") == [row]
    binary = {**SYNTHETIC, "label": "abnormal"}  # the binary label set is known too
    assert read_rows(write_rows(tmp_path / "m.jsonl", [binary]), kind="synthetic") == [binary]


def test_bad_synthetic_row_through_the_cli(cli, demo_copy: Path):
    path = Workspace(demo_copy).synth_manifest
    path.parent.mkdir(parents=True)
    write_rows(path, [SYNTHETIC, {**SYNTHETIC, "id": "crackle_00001", "label": "bogus"}])
    assert_clean_error(cli("report", "--workdir", demo_copy), "invalid label 'bogus'", f"{path}:2")


# --- numeric options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("synth", "--class", "crackle", "--n", "1", "--length", "inf"), "invalid length: Input should be a finite"),
        (("synth", "--class", "crackle", "--n", "1", "--length", "nan"), "invalid length: Input should be a finite"),
        (("synth", "--class", "crackle", "--n", "1", "--length", "1e9"), "invalid length"),
        (("synth", "--class", "crackle", "--n", "1", "--max-cache-gb", "inf"), "invalid max-cache-gb"),
        (("vocoder", "train", "--lr", "inf"), "invalid lr"),
        (("vocoder", "train", "--clip-length", "1e9"), "invalid clip-length"),
        (("vocoder", "train", "--eval-seconds", "1e9"), "invalid eval-seconds"),
        (("classify", "x.wav", "--hop", "inf"), "invalid hop"),
        (("classify", "x.wav", "--hop", "1e9"), "invalid hop"),
        (("prepare", "x", "--val-fraction", "nan"), "invalid val-fraction"),
        (("finetune", "--lr", "inf"), "invalid lr"),
        (("finetune", "--lr", "nan"), "invalid lr"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else None,
)
def test_numeric_option_finite_and_bounded(cli, tmp_path: Path, args, fragment):
    r = cli(*args, "--workdir", tmp_path / "w")
    assert_clean_error(r, fragment)
    assert not (tmp_path / "w").exists()  # refused before any work


def test_toml_inf_refused(cli, tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text("[synth]\nlength = inf\n")
    r = cli("synth", "--class", "crackle", "--n", "1", "--config", config, "--workdir", tmp_path / "w")
    assert_clean_error(r, "invalid length: Input should be a finite number", str(config))
