"""DiffWave model, training, checkpoints and resume (tiny preset, CPU, demo workspace cycles)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import split_counts
from safetensors.torch import load_file

from respgen.config import VocoderTrainConfig
from respgen.services.vocoder_train import train_vocoder
from respgen.vocoder.checkpoint import latest_checkpoint
from respgen.vocoder.diffusion import sample
from respgen.vocoder.fast import FastDiffWave, default_cache
from respgen.vocoder.model import DiffWave, gate
from respgen.vocoder.params import PRESETS


def test_base_architecture():
    p = PRESETS["base"]
    assert (p.residual_layers, p.residual_channels, p.dilation_cycle, p.n_mels, p.hop, p.diffusion_steps) == (
        30,
        64,
        10,
        80,
        256,
        50,
    )
    m = DiffWave(p)
    assert [layer.dilated_conv.dilation[0] for layer in m.residual_layers][:12] == [
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        512,
        1,
        2,
    ]
    assert torch.count_nonzero(m.output_projection.weight) == 0
    mel = torch.rand(2, 80, 5)
    assert m.spectrogram_upsampler(mel).shape == (2, 80, 5 * 256)
    out = m(torch.randn(2, 5 * 256), torch.tensor([3, 7]), mel)
    assert out.shape == (2, 5 * 256) and torch.all(out == out[0, 0])  # zero-initialised output conv: bias only


def test_cached_conditioning_equals_forward():
    torch.manual_seed(0)
    m = DiffWave(PRESETS["tiny"])
    torch.nn.init.normal_(m.output_projection.weight)
    mel, audio, step = torch.rand(1, 80, 4), torch.randn(1, 1024), torch.tensor([2.5])
    torch.testing.assert_close(m.denoise(audio, step, m.condition(mel)), m(audio, step, mel))


@pytest.mark.parametrize("cache", [True, False])
def test_fast_path_equals_forward(cache):
    torch.manual_seed(0)
    m = DiffWave(PRESETS["tiny"])
    torch.nn.init.normal_(m.output_projection.weight)
    net = FastDiffWave(m, cache=cache)
    mel, audio = torch.rand(3, 80, 5), torch.randn(3, 5 * 256)
    for step in (torch.tensor([2.5]), torch.tensor([1, 7, 30]), torch.tensor([40.1, 0.3, 12.0])):
        torch.testing.assert_close(
            net.denoise(audio, step, net.condition(mel)), m(audio, step, mel), atol=2e-5, rtol=1e-4
        )
    bf16 = FastDiffWave(m, torch.bfloat16, cache=cache)
    step = torch.tensor([2.5])
    torch.testing.assert_close(bf16.denoise(audio, step, bf16.condition(mel)), m(audio, step, mel), atol=0.1, rtol=0.05)


def test_fast_sampler_is_deterministic_and_matches_the_module():
    torch.manual_seed(0)
    m = DiffWave(PRESETS["tiny"]).eval()
    torch.nn.init.normal_(m.output_projection.weight, std=0.1)
    mel = torch.rand(2, 80, 6)

    def run(**kw):
        return sample(m, mel, "fast", [torch.Generator().manual_seed(s) for s in (1, 2)], **kw)

    a = run()
    assert torch.equal(a, run())  # fp32: same seed -> same bytes
    torch.testing.assert_close(a, run(fast=False), atol=1e-5, rtol=0)
    torch.testing.assert_close(a, run(cache=not default_cache("cpu")), atol=1e-5, rtol=0)
    one = sample(m, mel[1:], "fast", [torch.Generator().manual_seed(2)])
    torch.testing.assert_close(one[0], a[1], atol=2 / 32768, rtol=0)  # batching changes at most float rounding


def test_fused_gate_gradient():
    y = torch.randn(2, 8, 30, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gate, (y,))
    y = torch.randn(2, 128, 100)
    g, f = y.chunk(2, 1)
    torch.testing.assert_close(gate(y), torch.sigmoid(g) * torch.tanh(f), atol=1e-6, rtol=0)


def tiny(work: Path, **kw) -> VocoderTrainConfig:
    return VocoderTrainConfig(workdir=work, preset="tiny", batch_size=2, **kw)


def test_train_checkpoint_files(demo_copy: Path):
    result = train_vocoder(tiny(demo_copy, max_steps=3, save_every=2, ema_decay=0.9))
    assert (
        result.step == 3 and result.start_step == 0 and result.clips == sum(split_counts(demo_copy, "train").values())
    )
    ckpt = latest_checkpoint(demo_copy / "vocoder")
    assert ckpt.step == 3 and ckpt.params == PRESETS["tiny"]
    assert set(os.listdir(ckpt.path)) == {"model.safetensors", "ema.safetensors", "state.pt", "config.json"}
    assert ckpt.weights.name == "ema.safetensors"
    state = torch.load(ckpt.path / "state.pt", weights_only=True)
    assert state["step"] == 3 and "optimizer" in state
    assert json.loads((ckpt.path / "config.json").read_text())["train"]["preset"] == "tiny"
    (cost,) = [json.loads(x) for x in (demo_copy / "vocoder" / "compute.jsonl").read_text().splitlines()]
    assert cost["steps"] == 3 and cost["wall_seconds"] > 0  # what the training cost, for compare and the report
    assert load_file(str(ckpt.path / "model.safetensors")).keys() == DiffWave(PRESETS["tiny"]).state_dict().keys()
    assert sorted(p.name for p in (demo_copy / "vocoder" / "checkpoints").iterdir()) == [
        "step-00000002",
        "step-00000003",
    ]
    lines = (demo_copy / "vocoder" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == 3


def test_resume_is_exact(demo_copy: Path, tmp_path: Path):
    straight = train_vocoder(tiny(demo_copy, max_steps=6, save_every=100))
    other = tmp_path / "other"
    other.mkdir()
    (other / "data").symlink_to((demo_copy / "data").resolve(), target_is_directory=True)
    first = train_vocoder(tiny(other, max_steps=3, save_every=100))
    resumed = train_vocoder(tiny(other, max_steps=6, save_every=100))
    assert first.step == 3 and resumed.start_step == 3 and resumed.step == 6
    assert resumed.weights_digest == straight.weights_digest
    again = train_vocoder(tiny(other, max_steps=6, fresh=True, save_every=100))
    assert again.start_step == 0 and again.weights_digest == straight.weights_digest


def test_killed_run_resumes_at_its_last_checkpoint(demo_copy: Path):
    cmd = [
        sys.executable,
        "-m",
        "respgen",
        "vocoder",
        "train",
        "--workdir",
        str(demo_copy),
        "--preset",
        "tiny",
        "--batch-size",
        "2",
        "--max-steps",
        "100000",
        "--save-every",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, start_new_session=True)
    pointer = demo_copy / "vocoder" / "latest"
    deadline = time.time() + 120
    while time.time() < deadline and not (pointer.exists() and latest_checkpoint(demo_copy / "vocoder").step >= 4):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    ckpt = latest_checkpoint(demo_copy / "vocoder")
    assert ckpt is not None and ckpt.step >= 4 and ckpt.step % 2 == 0
    target = ckpt.step + 2
    result = train_vocoder(tiny(demo_copy, max_steps=target, save_every=2))
    assert result.start_step == ckpt.step and result.step == target
    assert latest_checkpoint(demo_copy / "vocoder").step == target


def test_cli_train_errors(cli, tmp_path: Path, demo_copy: Path):
    r = cli("vocoder", "train", "--workdir", tmp_path / "empty", "--preset", "tiny", "--max-steps", "1")
    assert r.exit_code == 2 and "run `respgen prepare` first" in r.stderr
    r = cli("vocoder", "train", "--workdir", demo_copy, "--preset", "huge")
    assert r.exit_code == 2 and "preset" in r.stderr
    assert (
        cli(
            "vocoder",
            "train",
            "--workdir",
            demo_copy,
            "--preset",
            "tiny",
            "--max-steps",
            "1",
            "--batch-size",
            "1",
            "--quiet",
        ).exit_code
        == 0
    )
    r = cli("vocoder", "train", "--workdir", demo_copy, "--preset", "base", "--max-steps", "2")
    assert r.exit_code == 2 and "--fresh" in r.stderr


DDP_SCRIPT = """
import json, sys
from pathlib import Path
import torch.distributed as dist
from respgen.config import VocoderTrainConfig
from respgen.services.vocoder_train import train_vocoder
r = train_vocoder(VocoderTrainConfig(workdir=Path(sys.argv[1]), preset="tiny", max_steps=3, batch_size=2, save_every=100))
rank = dist.get_rank() if dist.is_initialized() else 0
Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps(r.to_dict()))
"""


@pytest.mark.slow
def test_two_process_ddp_ranks_end_identical(demo_copy: Path, tmp_path: Path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        str(script),
        str(demo_copy),
    ]
    subprocess.run(cmd, env=env, check=True, timeout=300, capture_output=True)
    r0 = json.loads((demo_copy / "rank0.json").read_text())
    r1 = json.loads((demo_copy / "rank1.json").read_text())
    assert r0["processes"] == r1["processes"] == 2
    assert r0["weights_digest"] == r1["weights_digest"]
    assert r0["step"] == 3 and latest_checkpoint(demo_copy / "vocoder").step == 3
    # the two ranks trained on different data: weights differ from a single-process run of the same steps
    single = train_vocoder(tiny(demo_copy, max_steps=3, fresh=True, save_every=100))
    assert single.weights_digest != r0["weights_digest"]
