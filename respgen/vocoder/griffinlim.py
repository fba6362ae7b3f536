"""A training-free vocoder: the package's vocoder mel (`features.vocoder_mel`) back to a waveform by
Griffin-Lim phase reconstruction (torchaudio's fast Griffin-Lim with momentum).

Steps, each undoing one step of `vocoder_mel`:
1. the [0, 1] normalisation: db = mel * 100 - 100, amplitude = 10 ** ((db + 20) / 20) (values clamped to
   0 come back as the floor, 1e-4);
2. the mel filterbank: the linear magnitude is the filterbank's pseudo-inverse applied to the mel, clamped
   at 0 (`inverse="pinv"`, the default), or torchaudio's least-squares `InverseMelScale`
   (`inverse="inverse_mel"`). With 80 mels < 513 bins both give the minimum-norm solution: on real ICBHI
   cycles their spectrograms agree to 1e-6 (same mel L1 after Griffin-Lim), and the pseudo-inverse (one
   cached matrix product) takes about a third of the time of the per-call least-squares solve, both
   negligible next to the Griffin-Lim iterations (`bench/bench_griffinlim.py`);
3. the STFT's `normalized=True`: vocoder_mel's magnitudes are |STFT| / sqrt(sum(window ** 2)); torchaudio's
   Griffin-Lim works on the unnormalised STFT, so the magnitude is multiplied back by that factor (this is
   what brings the loudness back).
Then torchaudio's `griffinlim` with the same n_fft, hop, Hann window and centring as vocoder_mel.

Determinism: torchaudio draws the initial phase from the global RNG; each clip is run under
`torch.random.fork_rng` with the global RNG seeded from that clip's generator, so a clip's audio depends
only on its mel and its generator (not on the batch it is in), and the caller's RNG state is untouched.

Domain code on tensors: no workspace, no config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch
import torchaudio

from respgen.vocoder.params import VocoderParams

Inverse = Literal["pinv", "inverse_mel"]
DEFAULT_INVERSE: Inverse = "pinv"


@dataclass(frozen=True)
class GriffinLimSettings:
    """Griffin-Lim iterations and momentum (torchaudio's fast Griffin-Lim; 0 = the original algorithm),
    and how the mel is mapped back to a linear spectrogram."""

    n_iter: int = 32
    momentum: float = 0.99
    inverse: Inverse = DEFAULT_INVERSE

    def __post_init__(self) -> None:
        if not 1 <= self.n_iter:
            raise ValueError(f"n_iter must be at least 1 (got {self.n_iter})")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1) (got {self.momentum})")
        if self.inverse not in ("pinv", "inverse_mel"):
            raise ValueError(f"inverse must be pinv or inverse_mel (got {self.inverse!r})")

    def provenance(self) -> dict:
        """What a synthetic manifest row records as its `vocoder`."""
        return {"kind": "griffinlim", "n_iter": self.n_iter, "momentum": self.momentum, "inverse": self.inverse}


def mel_amplitude(mel: torch.Tensor) -> torch.Tensor:
    """Undo vocoder_mel's [0, 1] log normalisation: the mel filterbank's (normalised) magnitudes."""
    db = mel * 100 - 100
    return torch.pow(10.0, (db + 20) / 20)


@lru_cache(maxsize=4)
def _pinv_fbank(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int) -> torch.Tensor:
    """[n_freqs, n_mels]: the pseudo-inverse of vocoder_mel's filterbank (mel = fb.T @ spec)."""
    fb = torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate)  # [n_freqs, n_mels]
    return torch.linalg.pinv(fb.T.double()).float()


@lru_cache(maxsize=4)
def _inverse_mel(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int):
    return torchaudio.transforms.InverseMelScale(n_freqs, n_mels, sample_rate, f_min, f_max)


def mel_to_linear(amplitude: torch.Tensor, params: VocoderParams, inverse: Inverse = DEFAULT_INVERSE) -> torch.Tensor:
    """[..., n_mels, F] mel magnitudes -> [..., n_fft // 2 + 1, F] non-negative linear magnitudes."""
    key = (params.n_fft // 2 + 1, float(params.f_min), float(params.f_max), params.n_mels, params.sample_rate)
    if inverse == "inverse_mel":
        transform = _inverse_mel(*key).to(amplitude.device)
        return transform(amplitude)
    pinv = _pinv_fbank(*key).to(amplitude.device)
    return torch.clamp(torch.matmul(pinv, amplitude), min=0.0)


def _window(params: VocoderParams, device: torch.device) -> torch.Tensor:
    return torch.hann_window(params.n_fft, device=device)  # MelSpectrogram's default window_fn


def _clip_seed(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator))


def _seed_global(device: torch.device, seed: int) -> None:
    """Seed the global generator torchaudio's `rand_init` draws from on `device` (and only that one)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        torch.cuda.default_generators[index].manual_seed(seed)
    elif device.type == "cpu":
        torch.random.default_generator.manual_seed(seed)
    else:  # other accelerators: the global seed (fork_rng restores that device's state)
        torch.manual_seed(seed)


def _fork_rng(device: torch.device):
    if device.type == "cpu":
        return torch.random.fork_rng(devices=[])
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.random.fork_rng(devices=[index], device_type="cuda")
    return torch.random.fork_rng(device_type=device.type)


@torch.inference_mode()
def griffinlim_vocode(
    mels: torch.Tensor,
    params: VocoderParams,
    n_iter: int = 32,
    momentum: float = 0.99,
    generators: Sequence[torch.Generator] | None = None,
    inverse: Inverse = DEFAULT_INVERSE,
) -> torch.Tensor:
    """[B, n_mels, F] vocoder mels (values in [0, 1]) -> [B, F * hop] audio, as `vocoder.diffusion.sample`
    returns for the same mels. `generators` (one per clip; default: seed 0 each) pick each clip's
    initial phase."""
    GriffinLimSettings(n_iter, momentum, inverse)  # validates
    if mels.dim() != 3 or mels.shape[1] != params.n_mels:
        raise ValueError(f"expected mels [B, {params.n_mels}, frames], got {tuple(mels.shape)}")
    batch, _, frames = mels.shape
    if generators is None:
        generators = [torch.Generator().manual_seed(0) for _ in range(batch)]
    if len(generators) != batch:
        raise ValueError(f"{len(generators)} generators for {batch} mels")
    mels = mels.float().contiguous()  # (elementwise kernels round strided inputs differently)
    device = mels.device
    window = _window(params, device)
    out = torch.empty(batch, frames * params.hop, device=device)
    with _fork_rng(device):
        for i, generator in enumerate(generators):  # one clip at a time: its audio does not depend on the batch
            # vocoder_mel divides the STFT by sqrt(window energy) (normalized=True): multiply it back
            spec = mel_to_linear(mel_amplitude(mels[i]), params, inverse) * window.pow(2).sum().sqrt()
            # F mel frames -> F * hop samples: one more frame (the last repeated), so that the centred STFT of
            # F * hop samples (F + 1 frames) matches the spectrogram in every iteration
            spec = torch.cat([spec, spec[:, -1:]], dim=-1)
            _seed_global(device, _clip_seed(generator))
            out[i] = torchaudio.functional.griffinlim(
                spec,
                window,
                n_fft=params.n_fft,
                hop_length=params.hop,
                win_length=params.n_fft,
                power=1.0,
                n_iter=n_iter,
                momentum=momentum,
                length=frames * params.hop,
                rand_init=True,
            )
    return out
