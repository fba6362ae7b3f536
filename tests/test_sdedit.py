"""DiffWave sampling started from a noised Griffin-Lim estimate (SDEdit, `synth --guide-strength`)."""

import json
from pathlib import Path

import torch
from test_synth import copy_work

from respgen.data.manifest import read_rows
from respgen.vocoder.diffusion import sample, start_step
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS


def test_start_step_rounds_up_to_a_step_of_the_schedule():
    assert [start_step(6, s) for s in (1.0, 0.9, 0.84, 0.5, 0.34, 0.17, 0.01)] == [5, 5, 5, 2, 2, 1, 0]


def test_strength_one_or_no_init_is_the_plain_sampler_and_low_strength_stays_near_init():
    torch.manual_seed(0)
    model = DiffWave(PRESETS["tiny"]).eval()
    mel = torch.rand(1, 80, 4)
    init = 0.3 * torch.sin(torch.linspace(0, 200, 4 * 256))[None]

    def run(**kw):
        return sample(model, mel, "fast", [torch.Generator().manual_seed(1)], **kw)

    plain = run()
    torch.testing.assert_close(run(init=init, strength=1.0), plain)
    near = run(init=init, strength=0.01)  # one denoising step from a barely noised init
    assert (near - init).abs().mean() < (plain - init).abs().mean()


def test_synth_records_the_guide(cli, demo_vocoder: Path, tmp_path: Path):
    work = copy_work(demo_vocoder, tmp_path / "w")
    r = cli("synth", "--class", "crackle", "--n", "2", "--workdir", work, "--length", "1.0", "--guide-strength", "0.5",
            "--set", "sdedit", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = read_rows(work / "synth" / "sdedit" / "manifest.jsonl")
    assert all(row["vocoder"]["kind"] == "diffwave" and row["vocoder"]["guide"]["strength"] == 0.5 for row in rows)
    assert json.loads(r.stdout)["set"] == "sdedit"
    bad = cli("synth", "--class", "crackle", "--n", "2", "--workdir", work, "--guide-strength", "0")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
