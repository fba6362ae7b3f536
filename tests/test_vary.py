"""respgen.vocoder.vary and `synth --vary`: the conditioning mel varied within its class before vocoding."""

import json
from pathlib import Path

import pytest
import torch

from respgen.data.manifest import read_rows
from respgen.vocoder import vary
from respgen.vocoder.griffinlim import mel_amplitude

N_MELS, FRAMES = 80, 50


@pytest.fixture
def mel() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(N_MELS, FRAMES, generator=g) * 0.6 + 0.2


def test_stretch_keeps_frames_and_resamples_time(mel):
    assert torch.equal(vary.stretch_time(mel, 1.0), mel)
    ramp = torch.linspace(0, 1, FRAMES).expand(N_MELS, FRAMES)
    slow = vary.stretch_time(ramp, 2.0)  # twice as long, cut back: the first half of the ramp
    assert slow.shape == ramp.shape and torch.allclose(slow[:, -1], torch.full((N_MELS,), 0.5), atol=0.02)
    fast = vary.stretch_time(ramp, 0.5)  # half as long, repeat-padded: the ramp twice
    assert fast.shape == ramp.shape and torch.equal(fast[:, :25], fast[:, 25:]) and fast[0, 24] == 1


def test_frequency_shift_repeats_the_edge_bin(mel):
    up = vary.shift_frequency(mel, 2)
    assert torch.equal(up[2:], mel[:-2]) and torch.equal(up[0], mel[0]) and torch.equal(up[1], mel[0])
    down = vary.shift_frequency(mel, -3)
    assert torch.equal(down[:-3], mel[3:]) and all(torch.equal(down[-i], mel[-1]) for i in (1, 2, 3))


def test_gain_is_an_offset_in_the_log_mel_units(mel):
    assert torch.allclose(vary.gain(mel, 3.0), mel + 0.03) and torch.allclose(vary.gain(mel, -6.0), mel - 0.06)
    assert vary.gain(torch.ones(2, 2), 3.0).max() == 1 and vary.gain(torch.zeros(2, 2), -3.0).min() == 0


def test_mix_is_in_linear_magnitude(mel):
    other = torch.full_like(mel, 0.5)
    assert torch.allclose(vary.mix(mel, mel, 0.3), mel, atol=1e-5)
    mixed = vary.mix(mel, other, 0.25)
    assert torch.allclose(mel_amplitude(mixed), 0.75 * mel_amplitude(mel) + 0.25 * mel_amplitude(other), rtol=1e-4)
    assert ((mixed >= torch.minimum(mel, other) - 1e-6) & (mixed <= torch.maximum(mel, other) + 1e-6)).all()


def test_draws_are_seeded_bounded_and_mix_only_partners():
    s = vary.VaryStrength(stretch=0.1, shift=2, mix=0.3, gain_db=3.0)
    partners = ["b", "c", "d"]
    draws = [vary.draw(s, seed, partners) for seed in range(200)]
    assert draws[5] == vary.draw(s, 5, list(reversed(partners)))  # a pure function of the seed
    for d in draws:
        assert 0.9 <= d.stretch <= 1.1 and -2 <= d.shift <= 2 and abs(d.gain_db) <= 3
        assert 0 < d.mix <= 0.3 and d.mixed_with in partners
    assert {d.shift for d in draws} == {-2, -1, 0, 1, 2} and len({d.mixed_with for d in draws}) == 3
    alone = vary.draw(s, 5, [])
    assert alone.mix == 0 and alone.mixed_with is None
    off = vary.draw(vary.VaryStrength(0, 0, 0, 0), 5, partners)
    assert (off.stretch, off.shift, off.mix, off.gain_db, off.mixed_with) == (1, 0, 0, 0, None)


def test_vary_mel_changes_within_bounds(mel):
    assert torch.equal(vary.vary_mel(mel, vary.VaryDraw(1.0, 0, 0.0, 0.0)), mel)
    louder = vary.vary_mel(mel, vary.VaryDraw(1.0, 0, 0.0, 2.5))
    assert torch.allclose(louder - mel, torch.full_like(mel, 0.025))
    d = vary.VaryDraw(1.07, 1, 0.2, -1.5, "other")
    out = vary.vary_mel(mel, d, torch.full_like(mel, 0.5))
    assert out.shape == mel.shape and 0 <= out.min() and out.max() <= 1 and not torch.equal(out, mel)
    with pytest.raises(ValueError):
        vary.vary_mel(mel, d)


GL = ["--vocoder", "griffinlim", "--gl-iters", "4", "--length", "0.5"]


def test_synth_vary_provenance_same_class_and_resume(cli, demo_copy: Path):
    args = [*GL, "--vary", "--vary-mix", "0.4", "--class", "crackle", "--class", "both", "--n", "5"]
    r = cli("synth", *args, "--set", "varied", "--workdir", demo_copy, "--json")
    assert r.exit_code == 0, r.output
    root = demo_copy / "synth" / "varied"
    rows = read_rows(root / "manifest.jsonl", "synthetic")
    real = {x["id"]: x for x in read_rows(demo_copy / "data" / "manifest.jsonl")}
    for row in rows:
        v, source = row["vary"], real[row["conditioned_on"]]
        assert 0.9 <= v["stretch"] <= 1.1 and abs(v["shift"]) <= 2 and 0 < v["mix"] <= 0.4 and abs(v["gain_db"]) <= 3
        partner = real[row["mixed_with"]]  # another real train cycle of the same class
        assert partner["id"] != source["id"] and partner["label"] == source["label"] == row["label"]
        assert partner["split"] == source["split"] == "train"
        assert row["vocoder"]["kind"] == "griffinlim" and row["mel_l1"] < row["mel_l1_noise"]
    # the same clip without --vary is conditioned on the same source, and is closer to it
    r = cli("synth", *GL, "--class", "crackle", "--class", "both", "--n", "5", "--set", "plain", "--workdir", demo_copy)
    plain = read_rows(demo_copy / "synth" / "plain" / "manifest.jsonl")
    assert [p["conditioned_on"] for p in plain] == [row["conditioned_on"] for row in rows]
    assert all("vary" not in p and "mixed_with" not in p for p in plain)
    assert sum(p["mel_l1"] for p in plain) < sum(row["mel_l1"] for row in rows)
    # resume: a lost clip is made again byte-identical (the variation is drawn from the clip's seed)
    lost = root / rows[6]["path"]
    before = lost.read_bytes()
    lost.unlink()
    r = cli("synth", *args, "--set", "varied", "--batch-size", "3", "--workdir", demo_copy, "--json")
    assert r.exit_code == 0 and sum(json.loads(r.stdout)["written"].values()) == 1
    assert lost.read_bytes() == before
    assert read_rows(root / "manifest.jsonl") == rows
