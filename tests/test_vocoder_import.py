"""`respgen vocoder import`: a checkpoint of the reference DiffWave (the PyPI `diffwave` package,
lmnt-com) becomes the workspace's vocoder, gives the reference model's outputs, resumes training,
and a hostile or mismatched file is refused without running anything."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from respgen.vocoder.checkpoint import latest_checkpoint, load_vocoder

ref_model = pytest.importorskip(
    "diffwave.model", reason="the reference DiffWave (pip install --no-deps diffwave) is not installed"
)
ref_params = pytest.importorskip("diffwave.params")

SMALL = {"residual_layers": 3, "residual_channels": 8, "dilation_cycle_length": 2, "sample_rate": 16000, "n_mels": 80}


def reference(**overrides):
    """A small reference DiffWave after one Adam step, with non-zero output weights."""
    params = ref_params.AttrDict(ref_params.params)
    params.override({**SMALL, **overrides})
    torch.manual_seed(0)
    model = ref_model.DiffWave(params)
    torch.nn.init.normal_(model.output_projection.weight, std=0.1)
    opt = torch.optim.Adam(model.parameters(), lr=params.learning_rate)
    mel = torch.rand(2, params.n_mels, 3)
    model(torch.randn(2, 3 * 256), mel, torch.tensor([1, 4])).abs().mean().backward()
    opt.step()
    return model, opt, params


def save_reference(path: Path, model, opt, params, step: int = 1234) -> Path:
    """What `DiffWaveLearner.save_to_checkpoint` writes (its `state_dict()`); the learner module itself
    imports tensorboard, which the tests do not need."""
    torch.save(
        {
            "step": step,
            "model": {k: v.cpu() for k, v in model.state_dict().items()},
            "optimizer": opt.state_dict(),
            "params": dict(params),
            "scaler": torch.amp.GradScaler("cuda", enabled=False).state_dict(),
        },
        path,
    )
    return path


def test_imported_model_equals_reference(cli, tmp_path: Path):
    model, opt, params = reference()
    ckpt = save_reference(tmp_path / "weights.pt", model, opt, params)
    work = tmp_path / "work"
    result = cli("vocoder", "import", ckpt, "--workdir", work)
    assert result.exit_code == 0, result.output
    assert "imported step 1234" in result.stdout

    ours, meta = load_vocoder(work / "vocoder")
    assert meta.step == 1234 and meta.path.name == "step-00001234"
    p = ours.params
    assert (p.residual_layers, p.residual_channels, p.dilation_cycle, p.sample_rate, p.f_max) == (
        3,
        8,
        2,
        16000,
        8000.0,
    )
    assert (p.beta_start, p.beta_end, p.diffusion_steps) == (1e-4, 0.05, 50)
    model.eval()
    torch.manual_seed(1)
    audio, mel = torch.randn(2, 5 * 256), torch.rand(2, 80, 5)
    with torch.no_grad():
        for step in (torch.tensor([0, 49]), torch.tensor([22.992])):
            torch.testing.assert_close(ours(audio, step, mel), model(audio, mel, step).squeeze(1), atol=1e-5, rtol=0)
    state = torch.load(meta.path / "state.pt", weights_only=True)
    assert (
        state["step"] == 1234 and state["optimizer"]["state"][0]["exp_avg"].shape == model.input_projection.weight.shape
    )
    assert json.loads((meta.path / "config.json").read_text())["train"]["imported_from"] == str(ckpt.resolve())


def test_base_sized_import_matches_preset(tmp_path: Path):
    from respgen.config import VocoderImportConfig
    from respgen.services.vocoder_import import import_vocoder

    params = ref_params.AttrDict(ref_params.params)
    params.override({"sample_rate": 16000})  # the paper's DiffWave_BASE at 16 kHz
    model = ref_model.DiffWave(params)
    ckpt = save_reference(tmp_path / "w.pt", model, torch.optim.Adam(model.parameters()), params, step=7)
    result = import_vocoder(VocoderImportConfig(ckpt=ckpt, workdir=tmp_path / "work"))
    assert result.preset == "base" and result.step == 7 and result.optimizer == "reference"


def test_training_continues_from_import(cli, tmp_path: Path, demo_copy: Path):
    model, opt, params = reference()
    ckpt = save_reference(tmp_path / "weights.pt", model, opt, params, step=5)
    assert cli("vocoder", "import", ckpt, "--workdir", demo_copy).exit_code == 0
    # --preset tiny would be refused for a trained workdir; an imported vocoder keeps its own params
    result = cli(
        "vocoder",
        "train",
        "--preset",
        "tiny",
        "--max-steps",
        "7",
        "--batch-size",
        "2",
        "--save-every",
        "1",
        "--workdir",
        demo_copy,
        "--quiet",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["start_step"], out["step"]) == (5, 7)
    after = latest_checkpoint(demo_copy / "vocoder")
    assert after.step == 7 and after.params.residual_channels == 8 and after.config["imported_from"]
    again = cli("vocoder", "train", "--max-steps", "8", "--batch-size", "2", "--workdir", demo_copy, "--quiet")
    assert again.exit_code == 0, again.output  # still its own params on the next resume


def test_existing_vocoder_needs_force(cli, tmp_path: Path):
    model, opt, params = reference()
    ckpt = save_reference(tmp_path / "weights.pt", model, opt, params)
    work = tmp_path / "work"
    assert cli("vocoder", "import", ckpt, "--workdir", work).exit_code == 0
    result = cli("vocoder", "import", ckpt, "--workdir", work)
    assert result.exit_code == 2 and "--force" in result.stderr
    assert cli("vocoder", "import", ckpt, "--workdir", work, "--force").exit_code == 0


class Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = Path("/tmp/respgen-import-exploit-marker")


@pytest.mark.parametrize("payload", ["params", "top"])
def test_malicious_pickle_is_refused_without_running(cli, tmp_path: Path, payload: str):
    MARKER.unlink(missing_ok=True)
    model, _, params = reference()
    obj = {"step": 1, "model": model.state_dict(), "params": dict(params)}
    if payload == "params":
        obj["params"]["noise_schedule"] = Exploit()
    else:
        obj = Exploit()
    torch.save(obj, tmp_path / "evil.pt")
    result = cli("vocoder", "import", tmp_path / "evil.pt", "--workdir", tmp_path / "work")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to load") and "posix.system" in lines[0]
    assert not MARKER.exists()
    assert not (tmp_path / "work" / "vocoder").exists()


def test_pickled_attrdict_is_refused(cli, tmp_path: Path):
    model, _, params = reference()
    torch.save({"step": 1, "model": model.state_dict(), "params": params}, tmp_path / "w.pt")  # not dict(params)
    result = cli("vocoder", "import", tmp_path / "w.pt", "--workdir", tmp_path / "work")
    assert result.exit_code == 2 and "diffwave.params.AttrDict" in result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        ({"unconditional": True}, "unconditional"),
        ({"hop_samples": 300}, "hop_samples 300"),
        ({"n_fft": 2048}, "n_fft 2048"),
        ({"noise_schedule": [1e-4, 1e-3, 0.05]}, "not linear"),
        ({"residual_channels": 16}, "reference weight"),
        ({"residual_layers": 4}, "do not match its params"),
        ({"inference_noise_schedule": [0.9]}, "outside the training schedule"),
    ],
)
def test_mismatched_params_are_refused(cli, tmp_path: Path, change: dict, message: str):
    model, _, params = reference()
    bad = {**dict(params), **change}
    torch.save({"step": 1, "model": model.state_dict(), "params": bad}, tmp_path / "w.pt")
    result = cli("vocoder", "import", tmp_path / "w.pt", "--workdir", tmp_path / "work")
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "work" / "vocoder").exists()


def test_not_a_checkpoint(cli, tmp_path: Path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    result = cli("vocoder", "import", tmp_path / "junk.pt", "--workdir", tmp_path / "work")
    assert result.exit_code == 2 and "refusing to load" in result.stderr
    result = cli("vocoder", "import", tmp_path / "missing.pt", "--workdir", tmp_path / "work")
    assert result.exit_code == 2 and "not found" in result.stderr
