"""`finetune` (tiny preset, CPU) on the demo workspace's cycles plus a handful of synthetic rows."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import add_synthetic_rows, split_counts
from transformers import ASTForAudioClassification

from respgen.classifier.data import features_for_rows
from respgen.classifier.model import AFTClassifier
from respgen.config import FinetuneConfig
from respgen.data.manifest import read_rows
from respgen.services.finetune import finetune

FAST = dict(preset="tiny", epochs=2, length=1.0, batch_size=16)


def test_ce_run_outputs(cli, demo_copy: Path):
    r = cli(
        "finetune",
        "--workdir",
        demo_copy,
        "--preset",
        "tiny",
        "--epochs",
        "2",
        "--length",
        "1.0",
        "--name",
        "ce",
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    run = demo_copy / "models" / "ce"
    assert out["run_dir"] == str(run)
    assert any("no val split" in n for n in out["notes"]) and any("--init" in n for n in out["notes"])
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "respgen.json", "metrics.json"} <= {
        p.name for p in run.iterdir()
    }
    assert not (run / "discriminator.safetensors").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["selected_on"] == "last" and metrics["best_epoch"] == 2 and len(metrics["history"]) == 2
    test = metrics["test"]
    n_test = sum(split_counts(demo_copy, "test").values())
    assert test["n"] == n_test and sum(map(sum, test["confusion"])) == n_test
    assert test["score"] == pytest.approx((test["sp"] + test["se"]) / 2)
    info = json.loads((run / "respgen.json").read_text())
    assert info["labels"] == ["normal", "crackle", "wheeze", "both"]
    assert info["data"]["counts"]["train_real"] == split_counts(demo_copy, "train")
    assert (demo_copy / "models" / "latest").resolve() == run.resolve()


def test_aft_run_and_reload(demo_synth: Path):
    result = finetune(FinetuneConfig(workdir=demo_synth, aft=True, adversary="grl", name="aft", **FAST))
    run = Path(result.run_dir)
    assert (run / "discriminator.safetensors").is_file()  # the paper's discriminator (grl only)
    info = json.loads((run / "respgen.json").read_text())
    assert info["data"]["counts"]["train_synthetic"] == {"normal": 0, "crackle": 3, "wheeze": 3, "both": 3}
    assert info["data"]["vocoder"] == [{"step": 0, "hash": "test"}]
    assert all("disc_acc" in h for h in result.metrics["history"])
    # the saved dir gives the same logits through plain transformers and through respgen
    rows = [r for r in read_rows(demo_synth / "data" / "manifest.jsonl") if r["split"] == "test"][:4]
    x = features_for_rows(demo_synth / "data" / "manifest.jsonl", rows, 1.0, "repeat")
    with torch.no_grad():
        ref = ASTForAudioClassification.from_pretrained(run).eval()(x).logits
        ours, _ = AFTClassifier.load(run).eval()(x)
    torch.testing.assert_close(ref, ours)
    # the same seed gives the same model
    again = finetune(FinetuneConfig(workdir=demo_synth, aft=True, adversary="grl", name="aft", **FAST))
    assert Path(again.run_dir).name == "aft-2"
    assert "a run named 'aft' exists; this run is 'aft-2'" in again.notes[0]  # said, not silent
    assert again.metrics["test"]["confusion"] == result.metrics["test"]["confusion"]
    assert again.metrics["history"][-1]["loss"] == pytest.approx(result.metrics["history"][-1]["loss"])


def test_aft_needs_synthetic_and_per_class_cap(cli, demo_copy: Path):
    r = cli("finetune", "--aft", "--workdir", demo_copy, "--preset", "tiny", "--epochs", "1")
    assert r.exit_code == 2 and "--aft needs synthetic cycles" in r.stderr
    add_synthetic_rows(demo_copy)
    result = finetune(FinetuneConfig(workdir=demo_copy, synthetic_per_class=1, name="cap", lambda_mode="paper", **FAST))
    info = json.loads((Path(result.run_dir) / "respgen.json").read_text())
    assert info["data"]["counts"]["train_synthetic"] == {"normal": 0, "crackle": 1, "wheeze": 1, "both": 1}
    assert info["training"]["ma_beta"] == 0.5  # paper mode default
    none = finetune(FinetuneConfig(workdir=demo_copy, synthetic=False, name="nosyn", **FAST))
    assert (
        sum(json.loads((Path(none.run_dir) / "respgen.json").read_text())["data"]["counts"]["train_synthetic"].values())
        == 0
    )


def test_select_on_test_and_seeds(demo_copy: Path):
    r = finetune(FinetuneConfig(workdir=demo_copy, select_on="test", name="paper", **FAST))
    assert any("TEST split" in n for n in r.notes)
    best = max(h["test"]["score"] for h in r.metrics["history"])
    assert r.metrics["test"]["score"] == best
    multi = finetune(FinetuneConfig(workdir=demo_copy, seeds=[1, 2], name="seeds", **FAST))
    run = Path(multi.run_dir)
    assert (run / "seed-1" / "model.safetensors").is_file() and (run / "seed-2" / "model.safetensors").is_file()
    summary = json.loads((run / "metrics.json").read_text())
    scores = [summary["per_seed"][s]["test"]["score"] for s in ("1", "2")]
    assert summary["mean"]["test"]["score"] == pytest.approx(sum(scores) / 2)
    assert summary["std"]["test"]["score"] == pytest.approx(abs(scores[0] - scores[1]) / 2)
    assert (demo_copy / "models" / "latest").resolve() == (run / "seed-1").resolve()


def test_val_selection_when_val_exists(demo_workdir: Path, tmp_path: Path):
    work = tmp_path / "w"
    shutil.copytree(demo_workdir / "data", work / "data")
    rows = read_rows(work / "data" / "manifest.jsonl")
    patient = min(r["patient"] for r in rows if r["split"] == "train")
    for r in rows:  # make one train patient a val patient (a test of selection, not of prepare)
        if r["split"] == "train" and r["patient"] == patient:
            r["split"] = "val"
    (work / "data" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = finetune(FinetuneConfig(workdir=work, name="val", **{**FAST, "epochs": 3}))
    assert result.metrics["selected_on"] == "val"
    history = result.metrics["history"]
    best = max(range(3), key=lambda i: (history[i]["val"]["score"], -i))
    assert result.metrics["best_epoch"] == best + 1
    assert result.metrics["test"] == history[best]["test"]
    assert not any("no val split" in n for n in result.notes)


@pytest.mark.slow
def test_two_process_finetune(demo_synth: Path, tmp_path: Path):
    """torchrun with 2 CPU processes: one run dir, written once, loadable; only rank 0 prints."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29537",
        "-m",
        "respgen",
        "finetune",
        "--workdir",
        str(demo_synth),
        "--preset",
        "tiny",
        "--epochs",
        "2",
        "--length",
        "1.0",
        "--aft",
        "--name",
        "ddp",
        "--json",
    ]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count('"run_dir"') == 1  # rank 0 only
    models = sorted(p.name for p in (demo_synth / "models").iterdir())
    assert models == ["ddp", "latest"]
    metrics = json.loads((demo_synth / "models" / "ddp" / "metrics.json").read_text())
    assert metrics["test"]["n"] == sum(split_counts(demo_synth, "test").values()) and len(metrics["history"]) == 2
    AFTClassifier.load(demo_synth / "models" / "ddp")


def test_predictions_recorded_beside_the_model(demo_copy: Path):
    """`predictions.json`: the saved epoch's probabilities per test cycle, the numbers its confusion counts."""
    from respgen.classifier.predictions import read_predictions
    from respgen.disk_memo import file_fingerprint

    result = finetune(FinetuneConfig(workdir=demo_copy, name="p", **FAST))
    run = Path(result.run_dir)
    labels = json.loads((run / "respgen.json").read_text())["labels"]
    manifest = demo_copy / "data" / "manifest.jsonl"
    test = [r for r in read_rows(manifest) if r["split"] == "test"]
    source = file_fingerprint(manifest, demo_copy)
    probs = read_predictions(run, "test", labels, source)
    assert set(probs) == {r["id"] for r in test}
    cm = [[0] * len(labels) for _ in labels]
    for r in test:
        assert abs(probs[r["id"]].sum() - 1) < 1e-4
        cm[labels.index(r["label"])][int(probs[r["id"]].argmax())] += 1
    assert cm == result.metrics["test"]["confusion"]
    assert read_predictions(run, "test", list(reversed(labels)), source) is None  # not this model's labels
    assert read_predictions(run, "val", labels, source) is None  # the demo has no val split
    manifest.write_text(manifest.read_text())  # prepare wrote the manifest again: the record is not read
    assert read_predictions(run, "test", labels, file_fingerprint(manifest, demo_copy)) is None
