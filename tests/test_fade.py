"""Fades as the reference's icbhi_util.py: torchaudio's linear Fade(1000, 1000) on the whole recording
before cutting cycles; Fade(0, 1000) on a cycle after repeat-padding it (not on a cycle that was cut)."""

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from respgen.classifier.data import clip_features
from respgen.data.icbhi import Cycle, RecordingName
from respgen.features import ast_fbank, fade, fit_length
from respgen.services.prepare import RecordingJob, _cut_recording
from respgen.vocoder.data import CycleCrops
from respgen.vocoder.params import PRESETS


def test_fade_is_torchaudios_linear_fade():
    x = torch.randn(5000)
    assert torch.equal(fade(x, 1000, 1000), torchaudio.transforms.Fade(1000, 1000, "linear")(x))
    ones = fade(torch.ones(5000), 1000, 1000)
    assert torch.allclose(ones[:1000], torch.linspace(0, 1, 1000))  # 0 ... 1, end points included
    assert torch.allclose(ones[-1000:], torch.linspace(1, 0, 1000))
    assert torch.equal(ones[1000:-1000], torch.ones(3000))
    assert torch.equal(fade(x, 0, 0), x)
    assert fade(torch.ones(10), 1000, 1000).shape == (10,)  # capped at the clip's length


def test_fit_length_fades_out_a_padded_cycle_only():
    short = torch.ones(30000)
    padded = fit_length(short, 80000, "repeat", 1000)
    assert padded.shape == (80000,)
    assert torch.equal(padded[:79000], torch.ones(79000))
    assert torch.allclose(padded[-1000:], torch.linspace(1, 0, 1000)) and padded[-1] == 0
    exact = fit_length(torch.ones(80000), 80000, "repeat", 1000)  # `>` is strict in the reference: faded
    assert exact[-1] == 0 and exact[-1001] == 1
    long = torch.ones(90000)
    assert torch.equal(fit_length(long, 80000, "repeat", 1000), torch.ones(80000))  # cut, no fade
    x = torch.randn(30000)
    assert torch.equal(fit_length(x, 80000, "repeat"), x.repeat(3)[:80000])  # default: no fade, as before


def test_classifier_features_use_the_fade():
    x = torch.randn(20000)
    assert torch.equal(clip_features(x, 5.0, "repeat", fade_out=1000), ast_fbank(fit_length(x, 80000, "repeat", 1000)))
    assert not torch.equal(clip_features(x, 5.0, "repeat", fade_out=1000), clip_features(x, 5.0, "repeat"))


@pytest.mark.parametrize("recording_fade", [0, 1000])
def test_prepare_fades_the_whole_recording_before_cutting(tmp_path, recording_fade):
    sr = 16000
    wav = tmp_path / "101_1b1_Al_sc_Meditron.wav"
    sf.write(wav, np.full(5 * sr, 0.5, dtype=np.float32), sr, subtype="FLOAT")
    cycles = [Cycle(0.0, 1.0, 0, 0), Cycle(2.0, 3.0, 0, 0), Cycle(4.0, 5.0, 0, 0)]
    job = RecordingJob(wav, RecordingName.parse(wav.stem), "train", cycles, None)
    rows, skipped = _cut_recording((job, tmp_path / "staging", sr, "four", recording_fade))
    assert not skipped
    first, middle, last = (sf.read(tmp_path / "staging" / r["path"], dtype="float32")[0] for r in rows)
    ramp = np.linspace(0, 1, 1000) * 0.5 if recording_fade else np.full(1000, 0.5)
    tol = 1 / 32767  # 16-bit clips
    np.testing.assert_allclose(first[:1000], ramp, atol=tol)
    np.testing.assert_allclose(last[-1000:], ramp[::-1], atol=tol)
    np.testing.assert_allclose(middle, 0.5, atol=tol)  # cycles away from the ends are untouched
    np.testing.assert_allclose(first[1000:], 0.5, atol=tol)


def test_vocoder_clips_are_padded_to_clip_length_with_a_fade(tmp_path):
    sr = 16000
    (tmp_path / "clips").mkdir()
    for name, n in (("a", 20000), ("b", 90000)):
        sf.write(tmp_path / "clips" / f"{name}.wav", np.full(n, 0.5, dtype=np.float32), sr, subtype="FLOAT")
    rows = [{"id": k, "path": f"clips/{k}.wav", "sample_rate": sr} for k in ("a", "b")]
    manifest = tmp_path / "manifest.jsonl"
    params = PRESETS["tiny"]
    crops = CycleCrops(manifest, rows, params, clip_samples=4 * sr, fade_out=1000)
    a, b = crops.audio
    assert a.shape == b.shape == (64000,)
    assert torch.allclose(a[-1000:], 0.5 * torch.linspace(1, 0, 1000)) and torch.allclose(a[:63000], torch.tensor(0.5))
    assert torch.allclose(b, torch.tensor(0.5))  # a longer cycle is cut to 4 s, not faded
    assert crops.mels[0].shape[-1] == 64000 // params.hop + 1
    plain = CycleCrops(manifest, rows, params)
    assert [len(x) for x in plain.audio] == [20000, 90000]  # default: cycles as they are
