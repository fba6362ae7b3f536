"""Classifier inputs: each cycle repeat-padded (or zero-padded) / cropped to a fixed length, then AST
fbank features, computed once per clip; SpecAugment for training."""

from __future__ import annotations

from pathlib import Path

import torch
import torchaudio

from respgen.data.manifest import load_clip
from respgen.features import ast_fbank, fit_length
from respgen.sample_rate import SAMPLE_RATE


def n_frames(length: float, sample_rate: int = SAMPLE_RATE) -> int:
    """fbank frames (25 ms window, 10 ms shift) of a `length`-second clip."""
    n = int(round(length * sample_rate))
    return 1 + (n - int(0.025 * sample_rate)) // int(0.010 * sample_rate)


def clip_features(
    audio: torch.Tensor, length: float, pad: str, sample_rate: int = SAMPLE_RATE, fade_out: int = 0, fit: str = "pad"
) -> torch.Tensor:
    """[frames, 128] fbank of one clip. fit `pad`: the audio is padded (repeat / zero, then `fade_out`
    samples faded out) or cut to `length` seconds; fit `resize`: the fbank of the clip at its own length
    is resized to `length`'s frame count (the reference's treatment of its 4 s synthetic clips)."""
    if fit == "resize":
        return resize_frames(ast_fbank(audio, sample_rate), n_frames(length, sample_rate))
    return ast_fbank(fit_length(audio, int(round(length * sample_rate)), pad, fade_out), sample_rate)


def resize_frames(fbank: torch.Tensor, frames: int) -> torch.Tensor:
    """[T, bins] -> [frames, bins] by bilinear interpolation (align_corners=False, no antialiasing): what
    the reference's torchvision `transforms.Resize((498, 128))` does to a (1, T, 128) tensor (torchvision
    0.15 uses no antialiasing on tensors by default; for upsampling, e.g. 400 -> 498 frames, there is none anyway)."""
    if fbank.shape[0] == frames:
        return fbank
    out = torch.nn.functional.interpolate(
        fbank[None, None], size=(frames, fbank.shape[1]), mode="bilinear", align_corners=False, antialias=False
    )
    return out[0, 0]


def features_for_rows(
    manifest: Path, rows: list[dict], length: float, pad: str, fade_out: int = 0, fit: str = "pad"
) -> torch.Tensor:
    """[N, frames, 128] features for manifest rows (paths relative to `manifest`); see `clip_features`."""
    if not rows:
        return torch.zeros(0, n_frames(length), 128)
    return torch.stack([clip_features(load_clip(manifest, r), length, pad, fade_out=fade_out, fit=fit) for r in rows])


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
