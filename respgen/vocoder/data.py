"""Training batches for the vocoder: random crops of `crop_frames` mel frames of real cycles (optionally
first repeat-padded / cut to a fixed clip length with a fade-out, as the reference's 4 s training clips).

Batches are a pure function of (seed, step, rank): resuming at step N draws exactly the batches an
uninterrupted run would have, and each DDP rank takes its own slice of the global batch."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from respgen.data.manifest import load_clip
from respgen.features import fit_length, vocoder_mel
from respgen.vocoder.params import VocoderParams


class CycleCrops:
    def __init__(
        self,
        manifest: Path,
        rows: list[dict],
        params: VocoderParams,
        clip_samples: int | None = None,
        fade_out: int = 0,
    ):
        """`clip_samples`: each cycle is first repeat-padded (last `fade_out` samples faded out) or cut to
        this many samples; None: cycles as they are."""
        self.params = params
        self.crop = params.crop_frames * params.hop
        self.audio: list[torch.Tensor] = []
        self.mels: list[torch.Tensor] = []
        for row in rows:
            audio = load_clip(manifest, row, params.sample_rate)
            if clip_samples is not None:
                audio = fit_length(audio, clip_samples, "repeat", fade_out)
            if audio.shape[0] < self.crop:  # shorter cycles are zero-padded to one crop
                audio = F.pad(audio, (0, self.crop - audio.shape[0]))
            self.audio.append(audio)
            self.mels.append(vocoder_mel(audio, **params.mel_kwargs()))

    def __len__(self) -> int:
        return len(self.audio)

    def batch(self, step: int, per_rank: int, rank: int, world: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(audio [per_rank, crop], mel [per_rank, n_mels, crop_frames]) for this rank at this step."""
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        idx = torch.randint(len(self), (per_rank * world,), generator=g)
        offsets = torch.rand(per_rank * world, generator=g)
        audios, mels = [], []
        f = self.params.crop_frames
        for i, u in zip(idx[rank::world].tolist(), offsets[rank::world].tolist()):
            mel = self.mels[i]
            start = int(u * (mel.shape[-1] - f + 1)) if mel.shape[-1] > f else 0
            start = min(start, (self.audio[i].shape[0] - self.crop) // self.params.hop)
            mels.append(mel[:, start : start + f])
            audios.append(self.audio[i][start * self.params.hop : start * self.params.hop + self.crop])
        return torch.stack(audios), torch.stack(mels)
