"""Validation while the vocoder trains: re-vocode a fixed set of held-out cycles from their mels with
the fast schedule and measure the log-mel L1 distance to the originals (`respgen.fidelity`)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from respgen.data.manifest import load_clip
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import mel_l1, noise_l1, noise_seed
from respgen.vocoder.diffusion import sample
from respgen.vocoder.params import VocoderParams


@dataclass
class EvalSet:
    ids: list[str]
    audio: torch.Tensor  # [N, frames * hop] the real cycles (repeat-padded / cropped)
    mels: torch.Tensor  # [N, n_mels, frames] their mels: the conditioning
    noise_l1: float  # mean noise baseline of these cycles


def eval_rows(rows: list[dict], n: int, seed: int) -> list[dict]:
    """A fixed choice of n rows (the same for every evaluation and every resume)."""
    return sorted(rows, key=lambda r: (zlib.crc32(f"{seed}:{r['id']}".encode()), r["id"]))[:n]


def make_eval_set(manifest: Path, rows: list[dict], params: VocoderParams, seconds: float) -> EvalSet:
    frames = max(1, int(round(seconds * params.sample_rate)) // params.hop)
    n = frames * params.hop
    audio = torch.stack([fit_length(load_clip(manifest, r, params.sample_rate), n) for r in rows])
    mels = torch.stack([vocoder_mel(a, **params.mel_kwargs())[:, :frames] for a in audio])
    baseline = sum(noise_l1(a, n, noise_seed(r["id"]), **params.mel_kwargs()) for a, r in zip(audio, rows)) / len(rows)
    return EvalSet([r["id"] for r in rows], audio, mels, baseline)


def evaluate(model, evalset: EvalSet, device: torch.device, seed: int = 0) -> tuple[float, torch.Tensor]:
    """(mean mel L1 of the re-vocoded held-out cycles, their audio [N, T] on the CPU)."""
    was_training = model.training
    model.eval()
    gens = [torch.Generator().manual_seed(zlib.crc32(f"{seed}:eval:{i}".encode())) for i in evalset.ids]
    audio = sample(model, evalset.mels.to(device), "fast", gens).float().cpu()
    model.train(was_training)
    params = model.params
    dist = [mel_l1(a, r, **params.mel_kwargs()) for a, r in zip(audio, evalset.audio)]
    return sum(dist) / len(dist), audio
