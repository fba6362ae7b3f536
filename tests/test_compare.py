"""`respgen compare` on the demo workspace with a handful of synthetic rows (tiny preset, 2 epochs, 1 s inputs)."""

import json
from pathlib import Path

import numpy as np
import pytest

from respgen.classifier.data import features_for_rows
from respgen.classifier.probe import alignment, pooled_features
from respgen.classifier.run_record import RunRecord
from respgen.classifier.store import load_model_dir
from respgen.data.manifest import read_rows
from respgen.services.compare import arm_summary


def test_compare_writes_one_run_per_arm_with_probe(cli, demo_synth: Path):
    r = cli(
        "compare",
        "--workdir",
        demo_synth,
        "--preset",
        "tiny",
        "--epochs",
        "2",
        "--length",
        "1.0",
        "--arms",
        "ce,ce-syn,aft",
        "--name",
        "cmp",
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [a["arm"] for a in out["arms"]] == ["ce", "ce-syn", "aft"]
    assert [a["synthetic_set"] for a in out["arms"]] == [None, "diffwave", "diffwave"]
    assert set(out["synthetic_sets"]) == {"diffwave"}
    for arm in ("ce", "ce-syn", "aft"):
        run = demo_synth / "models" / f"cmp-{arm}"
        m = json.loads((run / "metrics.json").read_text())
        info = json.loads((run / "respgen.json").read_text())
        assert m["seed"] == 1 and info["training"]["epochs"] == 2 and info["training"]["aft"] == (arm == "aft")
        syn = sum(info["data"]["counts"]["train_synthetic"].values())
        assert syn == (0 if arm == "ce" else 9)
        assert ("alignment" in m) == (arm != "ce")
    # an independent probe on the saved AFT model agrees with metrics.json
    run = demo_synth / "models" / "cmp-aft"
    m = json.loads((run / "metrics.json").read_text())
    model, info = load_model_dir(run)
    assert info.raw["training"]["adversary"] == "paired"  # the default adversary
    assert not (run / "discriminator.safetensors").exists()  # paired trains no discriminator
    classes = info.labels
    real = [x for x in read_rows(demo_synth / "data" / "manifest.jsonl") if x["split"] == "train"]
    syn = sorted(read_rows(demo_synth / "synth" / "manifest.jsonl"), key=lambda x: x["id"])
    feats = np.concatenate(
        [
            pooled_features(model, features_for_rows(demo_synth / "data" / "manifest.jsonl", real, 1.0, "repeat")),
            pooled_features(model, features_for_rows(demo_synth / "synth" / "manifest.jsonl", syn, 1.0, "repeat")),
        ]
    )
    labels = np.array([classes.index(x["label"]) for x in real + syn])
    domains = np.array([0] * len(real) + [1] * len(syn))
    again = alignment(feats, domains, labels, classes)
    assert again["probe_acc"] == pytest.approx(m["alignment"]["probe_acc"], abs=1e-6)
    assert again["frechet"]["crackle"] == pytest.approx(m["alignment"]["frechet"]["crackle"], rel=1e-3)
    # the table's numbers for one arm: test scores and the probe as (mean, std), one seed: std 0
    summary = arm_summary(RunRecord.read(run))
    assert summary["score"] == (pytest.approx(m["test"]["score"]), 0.0)
    assert summary["probe_acc"] == (pytest.approx(m["alignment"]["probe_acc"]), 0.0)
    assert summary["per_class"]["crackle"] == (pytest.approx(m["test"]["per_class"]["crackle"]), 0.0)
    assert arm_summary(RunRecord.read(demo_synth / "models" / "cmp-ce"))["probe_acc"] is None
    # the table shows every arm
    r = cli(
        "compare",
        "--workdir",
        demo_synth,
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--length",
        "1.0",
        "--arms",
        "aft-grl",
        "--name",
        "cmp2",
    )
    assert r.exit_code == 0 and "cmp2: test split" in r.stdout and "probe" in r.stdout
    assert "aft-grl (diffwave):" in r.stdout
    run = demo_synth / "models" / "cmp2-aft-grl"
    assert json.loads((run / "respgen.json").read_text())["training"]["adversary"] == "grl"
    assert (run / "discriminator.safetensors").is_file()  # the paper's discriminator


def test_compare_rejects_per_arm_options(cli, tmp_path: Path):
    r = cli("compare", "--workdir", tmp_path, "--aft")  # not even an option of compare
    assert r.exit_code == 2 and "No such option" in r.stderr
    toml = tmp_path / "c.toml"
    toml.write_text("[compare]\naft = true\n")  # nor settable from a config file
    r = cli("compare", "--workdir", tmp_path, "--config", toml)
    assert r.exit_code == 2 and "set by each arm" in r.stderr


@pytest.mark.parametrize("damage", ["unknown set", "deleted clips"])
def test_compare_checks_every_set_before_the_first_arm_trains(cli, demo_synth: Path, damage: str):
    """A bad synthetic set is a one-line error (exit 2) before any arm trains: no run folder, latest untouched."""
    sets = "nonexistent"
    if damage == "deleted clips":
        sets = "diffwave"
        for wav in (demo_synth / "synth").rglob("*.wav"):  # the legacy layout, read as set diffwave
            wav.unlink()
    models = demo_synth / "models"
    before = sorted(p.name for p in models.iterdir()) if models.exists() else []
    args = ["--preset", "tiny", "--epochs", "1", "--arms", "ce,aft", "--synthetic-sets", sets, "--name", "bad"]
    r = cli("compare", "--workdir", demo_synth, *args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert ("nonexistent" in lines[0]) if damage == "unknown set" else ("missing" in lines[0])
    assert (sorted(p.name for p in models.iterdir()) if models.exists() else []) == before  # nothing trained


SWEEP = ["--preset", "tiny", "--epochs", "1", "--length", "1.0", "--arms", "ce,ce-syn", "--synthetic-per-class", "1,2"]


def test_amount_sweep_runs_each_synthetic_arm_per_amount(cli, demo_synth: Path):
    """--synthetic-per-class 1,2: ce once, every synthetic arm once per amount (its cap applied), with its
    compute recorded; the plan puts ce-aug on the augmentation set."""
    from respgen.config import CompareConfig
    from respgen.services.compare import Planned, plan
    from respgen.workspace import Workspace

    cfg = CompareConfig(workdir=demo_synth, arms="ce,ce-aug,aft", synthetic_per_class="1,2", name="x")
    assert plan(cfg, Workspace(demo_synth)) == [
        Planned("ce", None, None),
        Planned("ce-aug", "augment", 1),
        Planned("ce-aug", "augment", 2),
        Planned("aft", "diffwave", 1),
        Planned("aft", "diffwave", 2),
    ]
    r = cli("compare", "--workdir", demo_synth, *SWEEP, "--name", "sw", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(a["arm"], a["amount"]) for a in out["arms"]] == [("ce", None), ("ce-syn", 1), ("ce-syn", 2)]
    for n in (1, 2):
        info = json.loads((demo_synth / "models" / f"sw-ce-syn-n{n}" / "respgen.json").read_text())
        synthetic = info["data"]["counts"]["train_synthetic"]
        assert all(synthetic[c] == n for c in ("crackle", "wheeze", "both")) and synthetic["normal"] == 0
    assert set(out["cost"]) == {"ce", "ce-syn (diffwave) n=1", "ce-syn (diffwave) n=2"}
    assert all(c["wall_seconds"] > 0 and c["cpu_seconds"] > 0 for c in out["cost"].values())
    assert out["cost"]["ce"]["score_gain"] is None and out["cost"]["ce-syn (diffwave) n=1"]["score_gain"] is not None
    assert out["val_choice"] == {}  # the demo workspace has no val split: nothing is chosen on test
    assert set(out["differences"]) == {"ce-syn (diffwave) n=1", "ce-syn (diffwave) n=2"}
    assert out["differences"]["ce-syn (diffwave) n=1"][0]["verdict"]
    bad = cli("compare", "--workdir", demo_synth, "--synthetic-per-class", "1,x", "--print-config")
    assert bad.exit_code == 2 and "synthetic-per-class" in bad.stderr


def test_report_shows_the_amount_sweep_and_costs(cli, demo_synth: Path):
    """After a swept compare, the report plots Score against the amount and lists each run's compute and
    Score gain over the comparison's ce run."""
    assert cli("compare", "--workdir", demo_synth, *SWEEP, "--name", "sw").exit_code == 0
    r = cli("report", "--workdir", demo_synth, "--no-audio", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    (sweep,) = out["sweeps"]
    assert sweep["runs"] == "sw-ce-syn" and [p["amount"] for p in sweep["points"]] == [1, 2]
    assert sweep["chosen"] is None  # no val split: no amount is chosen (never on test)
    costs = {c["run"]: c for c in out["costs"]}
    assert costs["sw-ce-syn-n1"]["reference"] == "sw-ce" and costs["sw-ce"]["gain"] is None
    assert costs["sw-ce-syn-n2"]["hours"] > 0 and "sweep.png" in out["figures"]
    assert "How much synthetic data" in (demo_synth / "report" / "report.md").read_text()
    diffs = out["differences"]  # paired against the comparison's ce run, from the recorded predictions
    assert {d["run"] for d in diffs} == {"sw-ce-syn-n1", "sw-ce-syn-n2"}
    assert all(d["reference"] == "ce (sw-ce)" and d["cycles"] > 0 and d["cycle_interval"] for d in diffs)


def test_differences_say_what_the_data_can_resolve():
    """Paired over seeds (t-interval) and over test cycles (bootstrap): better / worse only when both agree."""
    import numpy as np

    from respgen.classifier.metrics import confusion_matrix, icbhi_scores
    from respgen.classifier.resolution import paired_difference, score

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 2000)

    def guess(accuracy: float, seed: int) -> np.ndarray:
        g = np.random.default_rng(seed)
        return np.where(g.random(truth.size) < accuracy, truth, g.integers(0, 4, truth.size))

    p = guess(0.7, 1)
    assert score(truth, p, 4) == pytest.approx(icbhi_scores(confusion_matrix(truth, p, 4), tuple(range(4)))["score"])
    good = {s: guess(0.8, 10 + s) for s in (1, 2, 3)}
    base = {s: guess(0.6, 20 + s) for s in (1, 2, 3)}
    scores = lambda preds: {s: score(truth, q, 4) for s, q in preds.items()}  # noqa: E731
    clear = paired_difference("ce", scores(good), scores(base), truth, good, base, 4)
    assert clear.verdict == "better" and clear.seed_interval[0] > 0 and clear.cycle_interval[0] > 0
    assert paired_difference("ce", scores(base), scores(good), truth, base, good, 4).verdict == "worse"
    same = {s: guess(0.6, 30 + s) for s in (1, 2, 3)}
    assert (
        paired_difference("ce", scores(same), scores(base), truth, same, base, 4).verdict == "cannot tell at this size"
    )
    small = truth[:40]
    tiny = {1: good[1][:40]}, {1: base[1][:40]}
    one = paired_difference("ce", {1: score(small, tiny[0][1], 4)}, {1: score(small, tiny[1][1], 4)}, small, *tiny, 4)
    assert one.seed_interval is None and one.seeds == 1  # one seed: the seeds' spread is not measured
    assert one.verdict == "cannot tell at this size" or "one seed" in one.verdict


def test_ce_aug_arm_trains_on_the_augmentation_set(cli, demo_copy: Path):
    """`synth --vocoder augment` makes the set `augment`; compare's ce-aug arm trains on it, once, and the
    run records its arm as ce-aug (labelled as compare labels it in the report)."""
    r = cli(
        "synth",
        "--vocoder",
        "augment",
        "--class",
        "crackle,wheeze,both",
        "--n",
        "2",
        "--length",
        "1.0",
        "--workdir",
        demo_copy,
    )
    assert r.exit_code == 0, r.output
    args = ["--preset", "tiny", "--epochs", "1", "--length", "1.0", "--arms", "ce,ce-aug", "--name", "aug", "--json"]
    r = cli("compare", "--workdir", demo_copy, *args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    arms = out["arms"]
    assert [(a["arm"], a["synthetic_set"]) for a in arms] == [("ce", None), ("ce-aug", "augment")]
    record = json.loads((demo_copy / "synth" / "augment" / "compute.jsonl").read_text().splitlines()[0])
    assert record["clips"] == 6 and record["wall_seconds"] > 0  # what making the set cost, as synth recorded it
    assert out["cost"]["ce-aug"]["making_seconds"] == pytest.approx(record["wall_seconds"])
    info = json.loads((demo_copy / "models" / "aug-ce-aug" / "respgen.json").read_text())
    assert info["training"]["mode"] == "ce-aug" and info["training"]["synthetic_set"] == "augment"
    assert sum(info["data"]["counts"]["train_synthetic"].values()) == 6
    report = json.loads(cli("report", "--workdir", demo_copy, "--no-audio", "--json").stdout)
    assert "augment" in report["synthetic"]["sets"]  # listenable and measured like a synthetic set
    cost = {c["run"]: c for c in report["costs"]}["aug-ce-aug"]
    assert cost["making_hours"] == pytest.approx(record["wall_seconds"] / 3600) and cost["reference"] == "aug-ce"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["compare", "--synthetic-per-class", "0,8"], "greater than or equal to 1"),
        (["compare", "--synthetic-per-class", "-8"], "greater than or equal to 1"),
        (["compare", "--synthetic-per-class", "8,8"], "amount 8 given twice"),
        (["compare", "--synthetic-per-class", "8,x"], "comma-separated integers"),
        (["synth", "--vary", "--vary-stretch", "0.9"], "vary-stretch"),
        (["synth", "--vary", "--vary-mix", "2"], "vary-mix"),
        (["synth", "--vocoder", "augment", "--vary"], "--vary varies the mel"),
    ],
)
def test_study_bad_input_is_one_line(cli, demo_copy: Path, args: list[str], fragment: str):
    """Bad amounts or strengths: one `error:` line, exit 2, nothing run (no run folder, no set)."""
    if args[0] == "synth":
        args = [*args, "--class", "crackle", "--n", "1"]
    r = cli(*args, "--workdir", demo_copy)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.stderr
    assert not (demo_copy / "models").exists() and not (demo_copy / "synth").exists()


def test_ce_aug_without_an_augmentation_set_is_refused_before_training(cli, demo_copy: Path):
    r = cli("compare", "--workdir", demo_copy, "--arms", "ce,ce-aug", "--preset", "tiny", "--epochs", "1")
    assert r.exit_code == 2 and "no synthetic set 'augment'" in r.stderr and "synth ... --set augment" in r.stderr
    assert not (demo_copy / "models").exists()
