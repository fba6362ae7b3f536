"""Re-vocoding mels into new clips: the vocoder a synthetic set is made with (a trained DiffWave, optionally
started from a Griffin-Lim estimate as in SDEdit, Griffin-Lim alone, or no vocoder at all: the real cycle's
waveform through conventional augmentation), how many clips it vocodes at once, and the framing of a clip
of a given length.

Domain code on tensors and checkpoints: no workspace, no config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from respgen import augment
from respgen.vocoder.checkpoint import load_vocoder
from respgen.vocoder.diffusion import sample
from respgen.vocoder.fast import bytes_per_sample, default_cache, fast_dtype, resolve_precision
from respgen.vocoder.griffinlim import GriffinLimSettings, griffinlim_vocode
from respgen.vocoder.params import VocoderParams

# A guided clip's Griffin-Lim estimate draws its initial phase with its generator's seed XOR GUIDE_SEED_XOR.
GUIDE_SEED_XOR = 0x61

Vocode = Callable[[torch.Tensor, list[torch.Generator]], torch.Tensor]


@dataclass(frozen=True)
class ClipFraming:
    frames: int  # mel frames vocoded per clip
    cond_samples: int  # samples the conditioning cycle is repeat-padded / cut to before its mel
    n_samples: int  # samples kept of each vocoded clip


def clip_framing(params: VocoderParams, seconds: float, trim: bool) -> ClipFraming:
    """The framing of `seconds`-long clips. `trim`: vocode whole frames, then cut to the exact length; else
    the reference: vocode every mel frame of the `seconds`-long clip (4 s: 251 frames -> 64256 samples)."""
    n_samples = int(round(seconds * params.sample_rate))
    if trim:
        frames = -(-n_samples // params.hop)
        return ClipFraming(frames, frames * params.hop, n_samples)
    frames = 1 + n_samples // params.hop
    return ClipFraming(frames, n_samples, frames * params.hop)


@dataclass
class Revocoder:
    """A vocoder ready to re-vocode: `vocode(mels [B, n_mels, F] on the device, one generator per clip)` ->
    audio [B, F * hop] on the CPU. One that `takes` "audio" is given the conditioning cycles' waveforms
    instead ([B, n_samples], each already fitted to the clip's length) and returns audio of that length."""

    vocode: Vocode
    params: VocoderParams  # the mel it vocodes (an "audio" one: the mel its clips' fidelity is measured on)
    provenance: dict  # what a synthetic manifest row records as its `vocoder`
    bytes_per_sample: int | None  # memory per audio sample of one clip while vocoding; None: not bounded
    takes: Literal["mel", "audio"] = "mel"

    def batch_size(self, wanted: int, frames: int, max_bytes: float) -> int:
        """Clips vocoded together: `wanted`, fewer when `frames`-frame clips would need more than `max_bytes`."""
        if self.bytes_per_sample is None:
            return wanted
        per_clip_bytes = self.bytes_per_sample * frames * self.params.hop
        return max(1, min(wanted, int(max_bytes // per_clip_bytes)))


def griffinlim_revocoder(settings: GriffinLimSettings) -> Revocoder:
    """Griffin-Lim alone (no checkpoint): each clip's generator draws its initial phase."""
    params = VocoderParams()  # the mel every preset shares (features.vocoder_mel's defaults)

    def vocode(mels: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
        return griffinlim_vocode(mels, params, settings.n_iter, settings.momentum, gens, settings.inverse).cpu()

    return Revocoder(vocode, params, settings.provenance(), None)


def augment_revocoder(snr_db: float) -> Revocoder:
    """No vocoder: each conditioning cycle's waveform through conventional augmentation (`respgen.augment`),
    its parameters and noise drawn from the clip's generator's seed. Takes audio, not mels."""
    params = VocoderParams()  # the mel every preset shares: its clips' fidelity is measured on it
    provenance = augment.provenance(snr_db)  # (also checks that the library is installed)

    def vocode(audio: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
        waves = [
            augment.augment(wave.cpu().numpy(), params.sample_rate, gen.initial_seed(), snr_db)
            for wave, gen in zip(audio, gens)
        ]
        return torch.from_numpy(np.stack(waves))

    return Revocoder(vocode, params, provenance, None, takes="audio")


def diffwave_revocoder(
    root: Path,
    device: torch.device,
    precision: str,
    steps: str,
    guide: GriffinLimSettings | None = None,
    strength: float = 1.0,
) -> Revocoder:
    """The latest DiffWave checkpoint under `root` on `device`, sampling with the `steps` schedule (fast /
    full) at `precision`. With a `guide`, SDEdit: the reverse process starts from the guide's Griffin-Lim
    estimate of the same mel noised to `strength` of the schedule."""
    model, ckpt = load_vocoder(root)
    provenance = {"kind": "diffwave", "step": ckpt.step, "hash": ckpt.digest(), "checkpoint": ckpt.path.name}
    model.to(device)
    params = model.params
    dtype = fast_dtype(resolve_precision(precision, device), device)
    if guide is not None:
        provenance["guide"] = {**guide.provenance(), "strength": strength}

    def vocode(mels: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
        init = None
        if guide is not None:
            seeds = [torch.Generator().manual_seed(g.initial_seed() ^ GUIDE_SEED_XOR) for g in gens]
            init = griffinlim_vocode(mels.cpu(), params, guide.n_iter, guide.momentum, seeds, guide.inverse)
        return sample(model, mels, steps, gens, dtype, init=init, strength=strength).cpu()

    return Revocoder(vocode, params, provenance, bytes_per_sample(params, default_cache(device), dtype))
