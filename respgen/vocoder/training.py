"""One DiffWave training step (as lmnt-com/diffwave's learner: noise a clean crop at a random step,
predict the noise, L1 loss), with a NaN guard and the gradient norm reported; and the weights' EMA."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from respgen.errors import RespgenError


@dataclass
class StepResult:
    loss: float  # mean over processes
    grad_norm: float  # before clipping


def train_step(
    model,
    optimizer,
    accelerator: Accelerator,
    audio: torch.Tensor,
    mel: torch.Tensor,
    levels: torch.Tensor,
    generator: torch.Generator,
    grad_clip: float | None = None,
) -> StepResult:
    """One optimiser step on a batch of clean crops `audio` [B, T] and their mels `mel` [B, n_mels, F].
    `levels` are the schedule's alpha-bar per training step; `generator` draws the steps and noise."""
    device = accelerator.device
    t = torch.randint(0, len(levels), (audio.shape[0],), generator=generator).to(device)
    noise = torch.randn(audio.shape, generator=generator).to(device)
    scale = levels[t].unsqueeze(1)
    noisy = scale.sqrt() * audio + (1 - scale).sqrt() * noise
    with accelerator.autocast():
        predicted = model(noisy, t, mel)
    loss = F.l1_loss(predicted.float(), noise)
    if not torch.isfinite(loss):
        raise RespgenError("vocoder loss is not finite (NaN/inf): lower --lr or set --grad-clip", exit_code=1)
    accelerator.backward(loss)
    max_norm = grad_clip if grad_clip else float("inf")
    grad_norm = accelerator.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return StepResult(float(accelerator.reduce(loss.detach(), reduction="mean")), float(grad_norm))


@torch.no_grad()
def update_ema(ema: dict[str, torch.Tensor], model: torch.nn.Module, decay: float) -> None:
    for k, v in model.state_dict().items():
        v = v.detach().to(ema[k].device)
        if v.is_floating_point():
            ema[k].mul_(decay).add_(v, alpha=1 - decay)
        else:
            ema[k].copy_(v)


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 (16 hex) of the weights: identical on every DDP rank, equal for equal training."""
    digest = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        digest.update(k.encode() + v.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
