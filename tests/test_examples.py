"""The shipped examples stay valid: every TOML section loads into its command's config; the Python
example runs."""

import subprocess
import sys
from pathlib import Path

import pytest

from respgen.config import FinetuneConfig, PrepareConfig, SynthConfig, VocoderTrainConfig, load_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["paper.toml", "tiny.toml"])
def test_toml_examples_load(name, tmp_path):
    path = EXAMPLES / name
    prep = load_config(PrepareConfig, "prepare", path, {"icbhi_dir": tmp_path})
    voc = load_config(VocoderTrainConfig, "vocoder_train", path, {})
    syn = load_config(SynthConfig, "synth", path, {"classes": ["crackle"], "n": 1})
    ft = load_config(FinetuneConfig, "finetune", path, {})
    if name == "paper.toml":
        o = ft.optim
        assert (voc.preset, ft.model.preset, ft.alignment.alpha, o.lr, o.batch_size, o.epochs) == (
            "base",
            "base",
            0.2,
            5e-5,
            32,
            50,
        )
        assert (ft.alignment.adversary, ft.alignment.lambda_mode, ft.selection.select_on) == ("grl", "paper", "test")
        assert (ft.paper.fade_out, syn.length, syn.steps, prep.val_fraction) == (1000, 4.0, "fast", 0.0)
    else:
        assert voc.preset == ft.model.preset == "tiny"


def test_service_api_example_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "service_api.py"), str(tmp_path / "w")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "test Sp" in r.stdout and "cycles:" in r.stdout
