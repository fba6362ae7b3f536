"""The quickstart runs every stage on the demo data and leaves consistent outputs (small step counts)."""

import json

import pytest
from pathlib import Path

from respgen.atomic import read_jsonl


def test_quickstart_end_to_end(cli, tmp_path: Path):
    work = tmp_path / "qs"
    r = cli("quickstart", "--workdir", work, "--vocoder-steps", "4", "--synth-per-class", "2", "--epochs", "4", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [s["name"] for s in out["stages"]] == ["demo-data", "prepare", "vocoder train", "synth", "finetune --aft", "classify"]
    # demo data and prepare
    assert len(list((work / "demo-icbhi").glob("*.wav"))) == 24
    real = read_jsonl(work / "data" / "manifest.jsonl")
    assert all((work / "data" / row["path"]).is_file() for row in real)
    # vocoder
    assert (work / "vocoder" / "latest").read_text().strip() == "step-00000004"
    # synth: 2 per minority class, conditioned on real train cycles of the same class
    syn = read_jsonl(work / "synth" / "manifest.jsonl")
    by_id = {row["id"]: row for row in real}
    assert sorted(row["label"] for row in syn) == ["both", "both", "crackle", "crackle", "wheeze", "wheeze"]
    for row in syn:
        src = by_id[row["conditioned_on"]]
        assert src["label"] == row["label"] and src["split"] == "train" and (work / "synth" / row["path"]).is_file()
    # finetune: AFT model trained on those counts, evaluated on the demo test split
    run = work / "models" / "quickstart-aft"
    info = json.loads((run / "respgen.json").read_text())
    assert info["training"]["aft"] is True
    assert sum(info["data"]["counts"]["train_synthetic"].values()) == 6
    assert sum(info["data"]["counts"]["train_real"].values()) == sum(1 for row in real if row["split"] == "train")
    metrics = json.loads((run / "metrics.json").read_text())
    assert out["test"]["score"] == metrics["test"]["score"]
    assert metrics["test"]["n"] == sum(1 for row in real if row["split"] == "test")
    assert (work / "models" / "latest").resolve() == run.resolve()
    # classify: the held-out recording is a demo test recording, one prediction per annotated cycle
    held = out["held_out"]
    name = Path(held["file"]).stem
    assert any(row["recording"] == name and row["split"] == "test" for row in real)
    assert len(held["predicted"]) == held["cycles"] == len(held["truth"])


@pytest.mark.slow
def test_quickstart_defaults_beat_chance_clearly(tmp_path: Path):
    """The README's main command with its defaults: the AFT model must clearly beat chance (Score 0.5)."""
    from respgen.config import QuickstartConfig
    from respgen.quickstart import quickstart

    result = quickstart(QuickstartConfig(workdir=tmp_path / "qs"))
    assert result.test["score"] >= 0.75, result.test
    assert result.held_out["correct"] >= result.held_out["cycles"] // 2
