import numpy as np
import pytest
import torch
import torchaudio

from respgen.features import ast_fbank, fit_length, vocoder_mel
from respgen.vocoder.diffusion import fast_steps, schedule
from respgen.vocoder.params import PRESETS


def test_vocoder_mel_matches_independent_reference():
    audio = torch.randn(16000) * 0.1
    spec = torchaudio.transforms.Spectrogram(
        n_fft=1024, win_length=1024, hop_length=256, power=1.0, normalized=True, center=True
    )(audio)
    fb = torchaudio.functional.melscale_fbanks(513, f_min=20.0, f_max=8000.0, n_mels=80, sample_rate=16000)
    mel = (spec.T @ fb).T
    ref = torch.clamp((20 * torch.log10(torch.clamp(mel, min=1e-5)) - 20 + 100) / 100, 0, 1)
    ours = vocoder_mel(audio)
    assert ours.shape == (80, 16000 // 256 + 1)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    assert 0 <= ours.min() and ours.max() <= 1


def test_fast_schedule_fractional_steps():
    p = PRESETS["base"]
    steps = fast_steps(p, p.inference_schedule)
    np.testing.assert_allclose(steps, [0.0, 0.894, 4.087, 10.452, 22.992, 42.919], atol=5e-4)
    assert (np.diff(steps) > 0).all()
    betas, steps = schedule(p, "full")
    assert len(betas) == 50 and betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.05)
    assert steps.tolist() == list(range(50))


def test_fit_length_repeat_zero_crop():
    x = torch.arange(1.0, 4.0)
    assert fit_length(x, 7).tolist() == [1, 2, 3, 1, 2, 3, 1]
    assert fit_length(x, 5, pad="zero").tolist() == [1, 2, 3, 0, 0]
    assert fit_length(x, 2).tolist() == [1, 2]


def test_ast_fbank_matches_transformers_feature_extractor():
    from transformers import ASTFeatureExtractor

    audio = torch.randn(16000 * 2) * 0.1
    ours = ast_fbank(audio)
    ext = ASTFeatureExtractor(max_length=ours.shape[0], num_mel_bins=128, do_normalize=True)
    ref = torch.tensor(ext(audio.numpy(), sampling_rate=16000, return_tensors="np")["input_values"][0])
    assert ours.shape == (198, 128)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)
