"""Synthetic sets (`synth/<set>/`), the legacy `synth/manifest.jsonl` layout, and `synth --vocoder griffinlim`."""

import json
from pathlib import Path

import pytest

from respgen.data.manifest import read_rows
from respgen.errors import RespgenError
from respgen.workspace import Workspace

GL = ["--vocoder", "griffinlim", "--gl-iters", "4", "--length", "0.5"]


def synth_json(cli, work: Path, *args: str) -> dict:
    r = cli("synth", *args, "--workdir", work, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_griffinlim_synth_needs_no_vocoder_and_resumes(cli, demo_copy: Path):
    assert not (demo_copy / "vocoder").exists()
    out = synth_json(cli, demo_copy, *GL, "--class", "crackle", "--n", "5")
    assert out["set"] == "griffinlim" and out["written"] == {"crackle": 5}
    assert out["vocoder"] == {"kind": "griffinlim", "n_iter": 4, "momentum": 0.99, "inverse": "pinv"}
    root = demo_copy / "synth" / "griffinlim"
    assert out["manifest"] == str(root / "manifest.jsonl")
    rows = read_rows(root / "manifest.jsonl")
    assert [r["id"] for r in rows] == [f"crackle_{k:05d}" for k in range(5)]
    for k, row in enumerate(rows):
        assert (root / row["path"]).is_file() and row["path"] == f"crackle/crackle_{k:05d}.wav"
        assert row["vocoder"] == out["vocoder"] and "steps" not in row
        assert row["duration"] == 0.5 and row["mel_l1"] < 0.5 * row["mel_l1_noise"]
        assert ("mel_l1_other_seed" in row) == (k < 4)  # the seed spread: first 4 clips of the class
    assert all(0 < r["mel_l1_other_seed"] < r["mel_l1_noise"] for r in rows[:4])
    assert not (demo_copy / "synth" / "manifest.jsonl").exists() and not (demo_copy / "synth" / "crackle").exists()
    # resume: one clip lost -> only it is made again, byte-identical (per-clip seeds, any batch)
    lost = root / "crackle" / "crackle_00002.wav"
    before = lost.read_bytes()
    lost.unlink()
    again = synth_json(cli, demo_copy, *GL, "--class", "crackle", "--n", "5", "--batch-size", "2")
    assert again["written"] == {"crackle": 1} and again["total"] == {"crackle": 5}
    assert lost.read_bytes() == before
    # a set holds one vocoder's clips
    r = cli("synth", "--class", "crackle", "--n", "1", "--set", "griffinlim", "--workdir", demo_copy)
    assert r.exit_code == 2 and "holds griffinlim clips" in r.stderr


def test_legacy_layout_reads_as_diffwave_and_sets_coexist(cli, demo_synth: Path):
    ws = Workspace(demo_synth)
    legacy = read_rows(demo_synth / "synth" / "manifest.jsonl")
    assert ws.synthetic_sets() == ["diffwave"] and ws.default_synthetic_set() == "diffwave"
    diffwave = ws.synthetic_set("diffwave")
    assert diffwave.root == demo_synth / "synth" and diffwave.manifest == ws.synth_manifest
    assert [r["id"] for r in diffwave.rows()] == [r["id"] for r in legacy] == [r["id"] for r in ws.synthetic_rows()]
    # a second set next to the legacy one: the legacy set stays the default
    synth_json(cli, demo_synth, *GL, "--class", "wheeze", "--n", "2", "--set", "gl-a")
    assert ws.synthetic_sets() == ["diffwave", "gl-a"] and ws.default_synthetic_set() == "diffwave"
    assert ws.synth == demo_synth / "synth"
    assert [r["id"] for r in ws.synthetic_set("gl-a").rows()] == ["wheeze_00000", "wheeze_00001"]
    assert len(ws.synthetic_rows()) == len(legacy)
    # a synth/diffwave/ folder hides the legacy manifest
    (demo_synth / "synth" / "diffwave").mkdir()
    assert ws.synthetic_sets() == ["gl-a"] and ws.default_synthetic_set() == "gl-a"
    assert ws.synth == demo_synth / "synth" / "gl-a"


def test_default_set_and_missing_audio(cli, demo_copy: Path):
    ws = Workspace(demo_copy)
    assert ws.synthetic_sets() == [] and ws.default_synthetic_set() is None and ws.synthetic_rows() == []
    assert ws.synth == demo_copy / "synth"
    with pytest.raises(RespgenError, match="no synthetic set 'griffinlim'.*has none.*--set griffinlim"):
        ws.synthetic_set("griffinlim", must_exist=True)
    synth_json(cli, demo_copy, *GL, "--class", "both", "--n", "2")
    assert ws.default_synthetic_set() == "griffinlim" and ws.synth == demo_copy / "synth" / "griffinlim"
    synth_json(cli, demo_copy, *GL, "--class", "both", "--n", "1", "--set", "other")
    with pytest.raises(RespgenError, match="several synthetic sets.*griffinlim, other.*--synthetic-set"):
        ws.default_synthetic_set()
    # a listed clip whose audio is gone: an error with require_audio (the default), skipped without
    gone = demo_copy / "synth" / "other" / "both" / "both_00000.wav"
    gone.unlink()
    with pytest.raises(RespgenError) as e:
        ws.synthetic_set("other").rows()
    assert str(gone) in str(e.value) and "synth/other/manifest.jsonl" in str(e.value)
    assert "--set other" in str(e.value)
    assert ws.synthetic_set("other").rows(require_audio=False) == []
    with pytest.raises(RespgenError, match="not a class name"):
        ws.synthetic_set("crackle")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vocoder", "wavenet"], "invalid vocoder"),
        (["--gl-iters", "0"], "invalid gl-iters"),
        (["--gl-iters", "1001"], "invalid gl-iters"),
        (["--gl-momentum", "1"], "invalid gl-momentum"),
        (["--gl-momentum", "-0.1"], "invalid gl-momentum"),
        (["--set", "Big"], "not a class name; got 'Big'"),
        (["--set", "crackle"], "not a class name; got 'crackle'"),
        (["--set", "a" * 250], "at most 64 characters; got 250"),
        (["--set", "a" * 300], "at most 64 characters; got 300"),
        ([], "run `respgen prepare` first"),  # griffinlim needs no vocoder, but prepared cycles
    ],
)
def test_bad_options_one_line(cli, tmp_path: Path, args: list[str], message: str):
    r = cli("synth", "--vocoder", "griffinlim", "--class", "crackle", "--n", "1", *args, "--workdir", tmp_path)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: ")
    assert message in r.stderr
    assert not (tmp_path / "synth").exists()
