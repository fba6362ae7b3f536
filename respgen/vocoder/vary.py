"""`synth --vary`: change a conditioning mel within its class before it is vocoded, so that a synthetic
cycle is not a re-vocoded copy of one real cycle. On the vocoder mel (`features.vocoder_mel`: [n_mels, F],
values in [0, 1], 1.0 = 100 dB), in this order:

1. mix with a second real cycle of the same class, weight w ~ U(0, mix), in the **linear-magnitude**
   domain: (1 - w) * |A| + w * |B|, mapped back to the log-mel. Adding magnitudes is what adding the two
   recordings does (up to phase), so the events of both cycles stay audible (B's at weight w); a mix of
   the log values would instead be a geometric mean that dims an event present in only one of them;
2. time stretch by a factor s ~ U(1 - stretch, 1 + stretch): linear interpolation along time to
   round(F * s) frames, then refit to F frames (cut, or repeat-padded as the waveform is before its mel);
3. frequency shift by an integer k ~ U{-shift..shift} mel bins (> 0: up), the edge bin repeated into the
   bins that are uncovered;
4. loudness change by g ~ U(-gain_db, gain_db) dB: g / 100 added to the log-mel (its units), clamped to
   [0, 1] as vocoder_mel clamps.

Every draw comes from the clip's seed (`draw`), so a resumed run varies a clip the same way.

Domain code on tensors: no workspace, no config."""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from respgen.vocoder.griffinlim import mel_amplitude

DB_PER_UNIT = 100.0  # vocoder_mel: (db + 100) / 100


@dataclass(frozen=True)
class VaryStrength:
    """The largest change of each transform (symmetric, +/-; `mix`: the largest weight of the second cycle)."""

    stretch: float = 0.1
    shift: int = 2
    mix: float = 0.3
    gain_db: float = 3.0


@dataclass(frozen=True)
class VaryDraw:
    """One clip's variation, as applied: `mixed_with` is the second cycle's id (None: no mixing, mix 0)."""

    stretch: float
    shift: int
    mix: float
    gain_db: float
    mixed_with: str | None = None

    def as_dict(self) -> dict:
        """The manifest row's `vary`."""
        return {
            "stretch": round(self.stretch, 6),
            "shift": self.shift,
            "mix": round(self.mix, 6),
            "gain_db": round(self.gain_db, 6),
        }


def draw(strength: VaryStrength, seed: int, partners: list[str]) -> VaryDraw:
    """The clip's variation, a pure function of its seed; the second cycle is one of `partners` (real cycles
    of the clip's class other than its source), none when there are none or `strength.mix` is 0."""
    rng = random.Random(f"vary:{seed}")
    s = strength
    stretch = rng.uniform(1 - s.stretch, 1 + s.stretch)
    shift = rng.randint(-s.shift, s.shift)
    gain_db = rng.uniform(-s.gain_db, s.gain_db)
    weight = rng.uniform(0, s.mix)
    if not partners or weight <= 0:
        return VaryDraw(stretch, shift, 0.0, gain_db)
    return VaryDraw(stretch, shift, weight, gain_db, rng.choice(sorted(partners)))


def vary_mel(mel: torch.Tensor, params: VaryDraw, other: torch.Tensor | None = None) -> torch.Tensor:
    """`mel` [n_mels, F] varied by `params`; `other` [n_mels, F] is the second cycle's mel (needed when
    `params.mix` > 0)."""
    if params.mix > 0:
        if other is None:
            raise ValueError("mixing needs the second cycle's mel")
        mel = mix(mel, other, params.mix)
    return gain(shift_frequency(stretch_time(mel, params.stretch), params.shift), params.gain_db)


def mix(mel: torch.Tensor, other: torch.Tensor, weight: float) -> torch.Tensor:
    """(1 - weight) * mel + weight * other in linear magnitude, back to the log-mel."""
    amplitude = (1 - weight) * mel_amplitude(mel) + weight * mel_amplitude(other)
    db = 20 * torch.log10(torch.clamp(amplitude, min=1e-5)) - 20
    return torch.clamp((db + DB_PER_UNIT) / DB_PER_UNIT, 0.0, 1.0)


def stretch_time(mel: torch.Tensor, factor: float) -> torch.Tensor:
    """Stretched along time by `factor` (> 1: slower, longer), refitted to the input's frame count (cut, or
    repeat-padded)."""
    frames = mel.shape[-1]
    stretched = max(1, round(frames * factor))
    if stretched == frames:
        return mel
    out = torch.nn.functional.interpolate(mel[None], size=stretched, mode="linear", align_corners=True)[0]
    reps = -(-frames // stretched)
    return out.repeat(1, reps)[:, :frames]


def shift_frequency(mel: torch.Tensor, bins: int) -> torch.Tensor:
    """Shifted by `bins` mel bins (> 0: up to higher bins), the edge bin repeated into the uncovered ones."""
    if bins == 0:
        return mel
    n = mel.shape[-2]
    index = torch.clamp(torch.arange(n, device=mel.device) - bins, 0, n - 1)
    return mel[..., index, :]


def gain(mel: torch.Tensor, gain_db: float) -> torch.Tensor:
    """`gain_db` dB louder (an offset of gain_db / 100 in the log-mel's units), clamped to [0, 1]."""
    if gain_db == 0:
        return mel
    return torch.clamp(mel + gain_db / DB_PER_UNIT, 0.0, 1.0)
