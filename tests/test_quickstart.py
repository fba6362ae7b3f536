"""The quickstart runs every stage on the demo data and leaves consistent outputs (small step counts)."""

import json
from pathlib import Path

import pytest

from respgen.data.manifest import read_rows


@pytest.fixture(scope="module")
def quick(quickstart_small):
    return quickstart_small


def test_quickstart_end_to_end(quick):
    work, out = quick
    assert [s["name"] for s in out["stages"]] == [
        "demo-data",
        "prepare",
        "vocoder train",
        "synth (diffwave)",
        "synth (griffinlim)",
        "compare",
        "synthetic quality",
        "classify",
    ]
    # demo data and prepare
    assert len(list((work / "demo-icbhi").glob("*.wav"))) == 24
    real = read_rows(work / "data" / "manifest.jsonl")
    assert all((work / "data" / row["path"]).is_file() for row in real)
    # vocoder
    assert (work / "vocoder" / "latest").resolve().name == "step-00000004"
    # synth: 2 per minority class, conditioned on real train cycles of the same class
    syn = read_rows(work / "synth" / "diffwave" / "manifest.jsonl")
    by_id = {row["id"]: row for row in real}
    assert sorted(row["label"] for row in syn) == ["both", "both", "crackle", "crackle", "wheeze", "wheeze"]
    for row in syn:
        src = by_id[row["conditioned_on"]]
        assert (
            src["label"] == row["label"]
            and src["split"] == "train"
            and (work / "synth" / "diffwave" / row["path"]).is_file()
        )
    # the training-free set: same sources, near its conditioning; the comparison runs on it (class-bearing)
    gl = read_rows(work / "synth" / "griffinlim" / "manifest.jsonl")
    assert [r["conditioned_on"] for r in gl] == [r["conditioned_on"] for r in syn]
    assert all(r["vocoder"]["kind"] == "griffinlim" for r in gl)
    assert out["compared_set"] == "griffinlim" and "noise baseline" in out["why"]
    # both sets measured against the real-only model: fidelity, realism and diversity per minority class
    assert set(out["synthetic_sets"]) == {"diffwave", "griffinlim"}
    for quality in out["synthetic_sets"].values():
        for part in ("fidelity", "realism", "diversity"):
            assert set(quality[part]) == {"crackle", "wheeze", "both"}
        assert all(f["label_agreement"] is not None for f in quality["fidelity"].values())
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
    # compare: the four arms with the same seed; every run with synthetic cycles has its probe accuracy
    arms = out["comparison"]["arms"]
    assert [a["arm"] for a in arms] == ["ce", "ce-over", "ce-syn", "aft"] and arms[-1]["run_dir"] == str(run)
    assert [a["synthetic_set"] for a in arms] == [None, "griffinlim", "griffinlim", "griffinlim"]
    for a in arms:
        m = json.loads((work / "models" / f"quickstart-{a['arm']}" / "metrics.json").read_text())
        assert m["seed"] == 1 and m["test"] == a["metrics"]["test"]
        assert ("alignment" in m) == (a["arm"] in ("ce-syn", "aft"))
    # oversampling: as many extra real cycles per class as the synthetic set has, and no synthetic one
    over = json.loads((work / "models" / "quickstart-ce-over" / "respgen.json").read_text())["data"]["counts"]
    assert over["train_oversampled"] == {"normal": 0, "crackle": 2, "wheeze": 2, "both": 2}
    assert sum(over["train_synthetic"].values()) == 0
    assert 0 <= metrics["alignment"]["probe_acc"] <= 1 and set(metrics["alignment"]["frechet"]) == set(info["labels"])
    # classify: the held-out recording is a demo test recording, one prediction per annotated cycle
    held = out["held_out"]
    name = Path(held["file"]).stem
    assert any(row["recording"] == name and row["split"] == "test" for row in real)
    assert len(held["predicted"]) == held["cycles"] == len(held["truth"])


@pytest.mark.slow
def test_quickstart_defaults_beat_chance_clearly(tmp_path: Path):
    """The README's main command with its defaults: the AFT model must clearly beat chance (Score 0.5)."""
    from respgen.config import QuickstartConfig
    from respgen.services.quickstart import quickstart

    result = quickstart(QuickstartConfig(workdir=tmp_path / "qs"))
    assert result.test["score"] >= 0.75, result.test
    assert result.held_out["correct"] >= result.held_out["cycles"] // 2


def test_report_on_the_quickstart_workdir(cli, quick, tmp_path: Path):
    import shutil

    import matplotlib.image

    from respgen.config import FinetuneConfig
    from respgen.services.finetune import finetune

    work = tmp_path / "qs"  # a copy: the shared quickstart workspace stays as the quickstart left it
    shutil.copytree(quick[0], work, symlinks=True)
    finetune(FinetuneConfig(workdir=work, preset="tiny", epochs=2, seeds=[1, 2], synthetic=False, name="ce-seeds"))
    r = cli("report", "--workdir", work, "--model", work / "models" / "quickstart-aft", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    report = (work / "report" / "report.md").read_text()
    assert out["runs"] == ["quickstart-ce", "quickstart-ce-over", "quickstart-ce-syn", "quickstart-aft", "ce-seeds"]
    assert set(out["figures"]) == {  # the real vs synthetic mels are per pair, beside their excerpts (media)
        "counts.png",
        "run-ce-seeds.png",
        "vocoder-validation.png",
        *(f"run-quickstart-{a}.png" for a in ("ce", "ce-over", "ce-syn", "aft")),
    }
    assert set(out["synthetic"]["fidelity"]) == {"crackle", "wheeze", "both"}
    for name in ("diffwave", "griffinlim"):  # every set: fidelity and realism per minority class
        one = out["synthetic"]["sets"][name]
        assert set(one["fidelity"]) == set(one["realism"]) == {"crackle", "wheeze", "both"}
    for fig in out["figures"]:
        assert f"]({fig})" in report
        img = matplotlib.image.imread(work / "report" / fig)
        assert img.shape[0] > 100 and img.shape[1] > 100 and img.std() > 0.01  # a real picture, not blank
    # numbers in the report are the ones in metrics.json
    m = json.loads((work / "models" / "quickstart-aft" / "metrics.json").read_text())
    t = m["test"]
    row = next(line for line in report.splitlines() if line.startswith("| quickstart-aft |"))
    assert f"| {100 * t['sp']:.2f} | {100 * t['se']:.2f} | {100 * t['score']:.2f} |" in row
    assert f"| AFT, paired | griffinlim | 1 | {m['selected_on']} | {m['best_epoch']} |" in row
    assert f"| {100 * m['alignment']['probe_acc']:.2f} |" in row  # the probe's accuracy, per run
    row = next(line for line in report.splitlines() if line.startswith("| quickstart-ce-syn |"))
    ce_syn = json.loads((work / "models" / "quickstart-ce-syn" / "metrics.json").read_text())
    assert "| CE + synthetic |" in row and f"| {100 * ce_syn['alignment']['probe_acc']:.2f} |" in row
    s = json.loads((work / "models" / "ce-seeds" / "metrics.json").read_text())
    row = next(line for line in report.splitlines() if line.startswith("| ce-seeds |"))
    assert (
        f"{100 * s['mean']['test']['score']:.2f} ± {100 * s['std']['test']['score']:.2f}" in row
        and "| CE (real only) |" in row
    )
    # class counts: real train vs synthetic added
    assert "| crackle | " in report and "| 2 | 2 |" in report.split("## Synthetic sets")[0]
    assert set(out["frechet"]) == {"normal", "crackle", "wheeze", "both"}
    assert out["frechet"]["normal"] is None and all(out["frechet"][c] >= 0 for c in ("crackle", "wheeze", "both"))
    assert out["discriminator_accuracy"] is None and "The model has no discriminator" in report  # paired AFT
    # an empty workspace is a one-line error
    r = cli("report", "--workdir", tmp_path / "none")
    assert r.exit_code == 2 and "run `respgen prepare` first" in r.stderr
