"""respgen.vocoder.griffinlim: the training-free vocoder inverts the package's vocoder mel."""

import math

import pytest
import torch

from respgen.features import vocoder_mel
from respgen.fidelity import mel_l1_to_mel
from respgen.vocoder.griffinlim import GriffinLimSettings, griffinlim_vocode, mel_amplitude, mel_to_linear
from respgen.vocoder.params import VocoderParams

P = VocoderParams()
FRAMES = 40  # 0.64 s


def tone_and_crackles(n: int) -> torch.Tensor:
    """A 300 Hz tone with a wheeze-like 600 Hz partial, breath-like noise and a few crackle clicks."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(n) / P.sample_rate
    x = 0.3 * torch.sin(2 * math.pi * 300 * t) + 0.1 * torch.sin(2 * math.pi * 600 * t)
    x += 0.02 * torch.randn(n, generator=g)
    for at in (1000, 4000, 7500):
        x[at : at + 40] += 0.5 * torch.exp(-torch.arange(40) / 8.0) * torch.sin(torch.arange(40) * 1.3)
    return x


def gens(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(s) for s in seeds]


@pytest.fixture(scope="module")
def mel() -> torch.Tensor:
    return vocoder_mel(tone_and_crackles(FRAMES * P.hop), **P.mel_kwargs())[:, :FRAMES]


def test_round_trip_is_close_and_loud_enough(mel):
    audio = griffinlim_vocode(mel[None], P, 16, 0.99, gens(0))
    assert audio.shape == (1, FRAMES * P.hop)
    l1 = mel_l1_to_mel(audio[0], mel, **P.mel_kwargs())
    noise = torch.randn(FRAMES * P.hop, generator=torch.Generator().manual_seed(1)) * 0.2  # about as loud
    assert l1 < 0.1 and l1 < 0.2 * mel_l1_to_mel(noise, mel, **P.mel_kwargs())
    # the STFT normalisation is undone: the loudness comes back (within the sub-20 Hz the mel lacks)
    rms_in = float(tone_and_crackles(FRAMES * P.hop).pow(2).mean().sqrt())
    assert 0.7 < float(audio.pow(2).mean().sqrt()) / rms_in < 1.3


def test_deterministic_per_seed_and_batch_invariant(mel):
    state = torch.random.get_rng_state()
    a = griffinlim_vocode(mel[None], P, 4, 0.99, gens(3))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is left alone
    assert torch.equal(a, griffinlim_vocode(mel[None], P, 4, 0.99, gens(3)))
    assert not torch.equal(a, griffinlim_vocode(mel[None], P, 4, 0.99, gens(4)))
    both = griffinlim_vocode(torch.stack([mel, mel]), P, 4, 0.99, gens(4, 3))
    assert torch.equal(both[1], a[0])  # a clip's audio does not depend on its batch


def test_pinv_and_inverse_mel_agree(mel):
    amp = mel_amplitude(mel)
    pinv, lstsq = mel_to_linear(amp, P, "pinv"), mel_to_linear(amp, P, "inverse_mel")
    assert pinv.shape == (P.n_fft // 2 + 1, FRAMES) and float(pinv.min()) >= 0
    assert float((pinv - lstsq).abs().max()) < 1e-3 * float(pinv.max())


def test_settings_validate_and_record():
    assert GriffinLimSettings().provenance() == {
        "kind": "griffinlim",
        "n_iter": 32,
        "momentum": 0.99,
        "inverse": "pinv",
    }
    for bad in ({"n_iter": 0}, {"momentum": 1.0}, {"momentum": -0.1}, {"inverse": "nope"}):
        with pytest.raises(ValueError):
            GriffinLimSettings(**bad)
    with pytest.raises(ValueError, match="generators"):
        griffinlim_vocode(torch.zeros(2, P.n_mels, 4), P, 1, 0.0, gens(0))
