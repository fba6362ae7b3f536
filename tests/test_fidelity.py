"""Synthetic-data fidelity (respgen.fidelity) and where it shows: vocoder validation, synth manifest,
report --json, finetune's warning."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import add_synthetic_rows

from respgen.data.manifest import read_rows
from respgen.features import vocoder_mel
from respgen.fidelity import class_summary, clip_fidelity, label_agreement, mel_l1, mel_l1_to_mel, noise_l1
from respgen.noise_like import is_noise_like, noise_like

SR = 16000


def tone(seconds: float = 1.0, f: float = 440.0) -> torch.Tensor:
    t = torch.arange(int(seconds * SR)) / SR
    return 0.3 * torch.sin(2 * torch.pi * f * t)


def test_metric_definition():
    a = tone()
    assert mel_l1(a, a) == 0.0
    assert mel_l1(a, a[: SR // 2]) == pytest.approx(mel_l1(a, torch.cat([a[: SR // 2]] * 2)))  # repeat-padded
    noise = noise_l1(a, a.shape[0], seed=3)
    assert noise > 0.05 and noise == noise_l1(a, a.shape[0], seed=3) and noise != noise_l1(a, a.shape[0], seed=4)
    assert mel_l1(tone(f=445.0), a) < noise  # a near-copy is closer than loudness-matched noise
    # against a conditioning mel: the same distance; a generated clip longer than the mel is cut to its frames
    b = tone(f=445.0)
    assert mel_l1_to_mel(b, vocoder_mel(a)) == pytest.approx(mel_l1(b, a))
    far = tone(f=2000.0)
    assert mel_l1_to_mel(torch.cat([a, far]), vocoder_mel(a)) < 0.01 < 0.1 < mel_l1_to_mel(far, vocoder_mel(a))
    fid = clip_fidelity(a, a, "x")
    assert fid["mel_l1"] == 0.0 and fid["mel_l1_noise"] > 0
    s = class_summary(
        [{"label": "crackle", "mel_l1": 0.5, "mel_l1_noise": 0.4}, {"label": "wheeze", **fid}], ["crackle", "wheeze"]
    )
    assert noise_like(s) == ["crackle"]
    assert is_noise_like({"mel_l1": 0.4, "mel_l1_noise": 0.4}) and not is_noise_like(
        {"mel_l1": 0.39, "mel_l1_noise": 0.4}
    )
    assert not is_noise_like({"mel_l1": None, "mel_l1_noise": 0.4})  # not measured: no verdict
    assert (
        label_agreement(["crackle", "normal", "crackle", "crackle"], "crackle") == 0.75
        and label_agreement([], "x") is None
    )


def test_vocoder_validation_in_metrics(demo_copy: Path):
    from respgen.config import VocoderTrainConfig
    from respgen.services.vocoder_train import train_vocoder

    r = train_vocoder(
        VocoderTrainConfig(
            workdir=demo_copy,
            preset="tiny",
            max_steps=4,
            batch_size=2,
            save_every=4,
            log_every=1,
            eval_every=2,
            eval_clips=2,
            eval_seconds=0.5,
        )
    )
    rows = [json.loads(x) for x in (demo_copy / "vocoder" / "metrics.jsonl").read_text().splitlines()]
    evals = [x for x in rows if "val_mel_l1" in x]
    assert [x["step"] for x in evals] == [2, 4] and all("loss" in x for x in evals)
    assert all(0 < x["val_mel_l1"] <= 1 and x["val_mel_l1_noise"] > 0 for x in evals)
    assert r.val_mel_l1 == evals[-1]["val_mel_l1"]
    samples = sorted(p.name for p in (demo_copy / "vocoder" / "samples").iterdir())
    assert (
        samples == ["step-2", "step-4"] and len(list((demo_copy / "vocoder" / "samples" / "step-4").glob("*.wav"))) == 2
    )


def test_log_with_missing_tracker_is_one_line(cli, demo_copy: Path):
    try:
        import tensorboard  # noqa: F401

        pytest.skip("tensorboard is installed")
    except ImportError:
        pass
    r = cli(
        "vocoder", "train", "--workdir", demo_copy, "--preset", "tiny", "--max-steps", "1", "--log-with", "tensorboard"
    )
    assert r.exit_code == 2 and "respgen[tensorboard]" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_synth_manifest_carries_distance(cli, demo_vocoder: Path, tmp_path: Path):
    import shutil

    work = tmp_path / "w"
    work.mkdir()
    (work / "data").symlink_to((demo_vocoder / "data").resolve(), target_is_directory=True)
    shutil.copytree(demo_vocoder / "vocoder", work / "vocoder", symlinks=True)
    r = cli("synth", "--class", "wheeze", "--n", "2", "--workdir", work, "--length", "0.5")
    assert r.exit_code == 0, r.output
    assert "wheeze: mel L1" in r.stdout and "noise baseline" in r.stdout
    rows = read_rows(work / "synth" / "diffwave" / "manifest.jsonl")
    assert all(0 < row["mel_l1"] <= 1 and 0 < row["mel_l1_noise"] <= 1 for row in rows)


def test_report_json_fidelity_keys(cli, demo_copy: Path):
    add_synthetic_rows(demo_copy, per_class=2)
    r = cli("report", "--workdir", demo_copy, "--json")
    assert r.exit_code == 0, r.output
    synthetic = json.loads(r.stdout)["synthetic"]
    fid = synthetic["fidelity"]
    assert set(fid) == {"crackle", "wheeze", "both"}
    for c, v in fid.items():
        assert set(v) == {"n", "mel_l1", "mel_l1_noise", "mel_l1_real", "label_agreement"}
        assert v["n"] == 2
        assert v["label_agreement"] is None  # no real-only model in the workspace
        assert v["mel_l1"] < v["mel_l1_noise"]  # real cycles + faint noise: far closer than noise
    # the same numbers per set (here the legacy layout's set), with realism and diversity beside them
    assert set(synthetic["sets"]) == {"diffwave"}
    one = synthetic["sets"]["diffwave"]
    assert one["fidelity"] == fid and set(one["realism"]) == set(fid) and set(one["diversity"]) == set(fid)
    assert all(v["model"] is None for v in one["realism"].values())  # no real-only model: fbank features only
    report = (demo_copy / "report" / "report.md").read_text()
    assert "## Synthetic sets" in report and "### diffwave" in report


def test_finetune_warns_on_noise_like_synthetic(demo_copy: Path):
    from respgen.audio import write_wav
    from respgen.config import FinetuneConfig
    from respgen.services.finetune import finetune

    add_synthetic_rows(demo_copy, per_class=2)
    rng = np.random.default_rng(0)
    for row in read_rows(demo_copy / "synth" / "manifest.jsonl"):  # replace the audio by loud noise
        write_wav(demo_copy / "synth" / row["path"], 0.5 * rng.standard_normal(SR))
    result = finetune(FinetuneConfig(workdir=demo_copy, preset="tiny", epochs=1, length=1.0, batch_size=16, name="n"))
    warn = [n for n in result.notes if "noise-like" in n]
    assert len(warn) == 1 and "\n" not in warn[0]
    assert warn == [
        n for n in json.loads((demo_copy / "models" / "n" / "respgen.json").read_text())["notes"] if "noise-like" in n
    ]
