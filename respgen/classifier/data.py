"""Classifier inputs: each cycle repeat-padded (or zero-padded) / cropped to a fixed length, then AST
fbank features, computed once per clip; SpecAugment for training."""

from __future__ import annotations

from pathlib import Path

import torch
import torchaudio

from respgen.data.manifest import load_clip
from respgen.features import ast_fbank, fit_length


def n_frames(length: float, sample_rate: int = 16000) -> int:
    """fbank frames (25 ms window, 10 ms shift) of a `length`-second clip."""
    n = int(round(length * sample_rate))
    return 1 + (n - int(0.025 * sample_rate)) // int(0.010 * sample_rate)


def clip_features(audio: torch.Tensor, length: float, pad: str, sample_rate: int = 16000) -> torch.Tensor:
    return ast_fbank(fit_length(audio, int(round(length * sample_rate)), pad), sample_rate)


def features_for_rows(manifest: Path, rows: list[dict], length: float, pad: str) -> torch.Tensor:
    """[N, frames, 128] features for manifest rows (paths relative to `manifest`)."""
    if not rows:
        return torch.zeros(0, n_frames(length), 128)
    return torch.stack([clip_features(load_clip(manifest, r), length, pad) for r in rows])


def spec_augment(x: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """With probability p per clip: 2 frequency masks (F=48) and 2 time masks (T=160), filled with the
    clip's mean. x: [B, frames, bins]."""
    if p <= 0:
        return x
    out = x.clone()
    for i in range(x.shape[0]):
        if torch.rand((), generator=generator) >= p:
            continue
        spec = out[i].T.unsqueeze(0)  # [1, bins, frames]
        fill = float(spec.mean())
        for _ in range(2):
            spec = torchaudio.functional.mask_along_axis(spec, 48, fill, axis=1)
            spec = torchaudio.functional.mask_along_axis(spec, 160, fill, axis=2)
        out[i] = spec[0].T
    return out
