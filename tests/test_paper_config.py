"""examples/paper.toml reproduces the reference run setting by setting (checked through the CLI's
--print-config), our defaults stay as they were, and Mixed-500 means 500 per class for all four."""

import json
from pathlib import Path

import pytest

from respgen.classifier.dataset import pick_synthetic
from respgen.classifier.specaugment import PAPER_P
from respgen.labels import CLASSES, parse_classes

PAPER = Path(__file__).resolve().parents[1] / "examples" / "paper.toml"


def resolved(cli, *args: str) -> dict:
    r = cli(*args, "--print-config", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_paper_toml_prepare_and_vocoder(cli):
    prep = resolved(cli, "prepare", "DIR", "--config", PAPER)
    assert prep["val_fraction"] == 0 and prep["recording_fade"] == 1000
    voc = resolved(cli, "vocoder", "train", "--config", PAPER)
    assert (voc["clip_length"], voc["fade_out"], voc["max_steps"], voc["precision"]) == (4.0, 1000, 1_000_008, "no")


def test_paper_toml_synth_makes_mixed_500_of_all_four_classes(cli):
    syn = resolved(cli, "synth", "--config", PAPER)
    assert parse_classes(syn["classes"]) == list(CLASSES)
    assert (syn["n"], syn["length"], syn["conditioning"], syn["trim"], syn["fade_out"]) == (
        500,
        4.0,
        "random",
        False,
        1000,
    )


def test_paper_toml_finetune(cli):
    ft = resolved(cli, "finetune", "--config", PAPER)
    assert ft["synthetic_per_class"] == 500
    assert (ft["lambda_mode"], ft["select_on"], ft["min_se"]) == ("paper", "test", 0.05)
    assert ft["specaug"] == pytest.approx(PAPER_P) and ft["specaug_mode"] == "batch"
    assert ft["precision"] == "fp16"
    assert (ft["lr_schedule"], ft["lr_min_factor"], ft["lr"], ft["epochs"], ft["batch_size"]) == (
        "epoch",
        0.001,
        5e-5,
        50,
        32,
    )
    assert (ft["fade_out"], ft["synthetic_fit"], ft["pos_embed"]) == (1000, "resize", "reference")
    # flags still win over the file
    assert resolved(cli, "finetune", "--config", PAPER, "--specaug", "0", "--select-on", "val")["specaug"] == 0


def test_defaults_are_unchanged(cli):
    ft = resolved(cli, "finetune")
    assert (ft["specaug"], ft["specaug_mode"], ft["lambda_mode"], ft["select_on"], ft["min_se"]) == (
        0.0,
        "clip",
        "dann",
        "val",
        None,
    )
    assert (ft["lr_schedule"], ft["lr_min_factor"], ft["fade_out"], ft["synthetic_fit"], ft["pos_embed"]) == (
        "step",
        0.0,
        0,
        "pad",
        "crop",
    )
    assert ft["precision"] == "no"
    assert resolved(cli, "prepare", "DIR")["val_fraction"] == 0.1
    syn = resolved(cli, "synth", "--class", "crackle", "--n", "1")
    assert (syn["conditioning"], syn["trim"], syn["fade_out"]) == ("permutation", True, 0)
    assert resolved(cli, "vocoder", "train")["clip_length"] is None


def test_mixed_500_takes_500_of_each_of_the_four_classes():
    rows = [{"id": f"{c}_{k:05d}", "label": c} for c in CLASSES for k in range(600)]
    picked = pick_synthetic(rows, CLASSES, 500)
    assert {c: sum(r["label"] == c for r in picked) for c in CLASSES} == {c: 500 for c in CLASSES}
    assert all(int(r["id"][-5:]) < 500 for r in picked)  # the first 500 by id
