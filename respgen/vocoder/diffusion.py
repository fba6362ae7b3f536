"""The diffusion process: training noise schedule, DiffWave's fast-sampling step alignment, the sampler."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from respgen.vocoder.fast import FastDiffWave, default_cache
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import VocoderParams


def training_betas(params: VocoderParams) -> np.ndarray:
    return np.linspace(params.beta_start, params.beta_end, params.diffusion_steps)


def noise_levels(params: VocoderParams) -> torch.Tensor:
    """alpha-bar_t = prod(1 - beta) for each training step t."""
    return torch.tensor(np.cumprod(1 - training_betas(params)), dtype=torch.float32)


def fast_steps(params: VocoderParams, inference_betas: Sequence[float]) -> np.ndarray:
    """The fractional training step whose noise level matches each inference beta's alpha-bar
    (DiffWave's fast-sampling alignment, interpolating sqrt(alpha-bar) between training steps)."""
    talpha_cum = np.cumprod(1 - training_betas(params))
    alpha_cum = np.cumprod(1 - np.asarray(inference_betas, dtype=np.float64))
    steps = []
    for s in range(len(alpha_cum)):
        for t in range(len(talpha_cum) - 1):
            if talpha_cum[t + 1] <= alpha_cum[s] <= talpha_cum[t]:
                twiddle = (talpha_cum[t] ** 0.5 - alpha_cum[s] ** 0.5) / (
                    talpha_cum[t] ** 0.5 - talpha_cum[t + 1] ** 0.5
                )
                steps.append(t + twiddle)
                break
        else:
            raise ValueError(f"inference beta {inference_betas[s]} is outside the training schedule")
    return np.asarray(steps, dtype=np.float32)


def schedule(params: VocoderParams, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(betas, the model step to use for each) for `fast` (6 steps) or `full` (all training steps)."""
    if mode == "full":
        betas = training_betas(params)
        return betas, np.arange(len(betas), dtype=np.float32)
    betas = np.asarray(params.inference_schedule, dtype=np.float64)
    return betas, fast_steps(params, betas)


def start_step(n_steps: int, strength: float) -> int:
    """The reverse process's first step for an SDEdit `strength` in (0, 1]: 1 -> the last (pure noise)."""
    return max(0, min(n_steps - 1, int(np.ceil(strength * n_steps)) - 1))


@torch.inference_mode()
def sample(
    model: DiffWave,
    mel: torch.Tensor,
    mode: str = "fast",
    generators: Sequence[torch.Generator] | None = None,
    autocast_dtype: torch.dtype | None = None,
    fast: bool = True,
    cache: bool | None = None,
    init: torch.Tensor | None = None,
    strength: float = 1.0,
) -> torch.Tensor:
    """Mel [B, n_mels, frames] -> audio [B, frames * hop] in [-1, 1]. One generator per clip makes each
    clip's audio independent of how clips are batched.

    `init` [B, frames * hop] and `strength` < 1 (SDEdit, Meng et al. 2022): instead of pure noise, start
    from `init` noised to the level of the schedule's step `strength` of the way from clean to pure noise
    (rounded up to a step of the schedule, at least one) and run only the steps below it.

    `fast` (default) runs the folded time-major network of `respgen.vocoder.fast` (same result to float
    rounding, deterministic in fp32); `autocast_dtype` (bf16/fp16) is then its compute dtype, on CPU
    too. `cache`: keep every layer's conditioner projection for the whole clip (None: per device, as
    measured). `fast=False` is the plain module under autocast, for reference."""
    params = model.params
    betas, steps = schedule(params, mode)
    alphas = 1 - betas
    alpha_cum = np.cumprod(alphas)
    device = mel.device
    b, n = mel.shape[0], mel.shape[-1] * params.hop
    gens = list(generators) if generators is not None else [None] * b

    def randn() -> torch.Tensor:
        return torch.stack([torch.randn(n, generator=g) for g in gens]).to(device)

    if fast:
        net = FastDiffWave(model, autocast_dtype or torch.float32, default_cache(device) if cache is None else cache)
        condition, denoise, autocast = net.condition, net.denoise, None
    else:
        condition, denoise = model.condition, model.denoise
        autocast = None if autocast_dtype in (None, torch.float32) else autocast_dtype
    with torch.autocast(device.type, dtype=autocast, enabled=autocast is not None):
        cond = condition(mel)  # once per clip, reused by every step
        first = start_step(len(betas), strength if init is not None else 1.0)
        audio = randn()
        if first < len(betas) - 1:  # SDEdit: the estimate, noised to step `first`'s level
            audio = alpha_cum[first] ** 0.5 * init.to(device).float() + (1 - alpha_cum[first]) ** 0.5 * audio
        for i in range(first, -1, -1):
            c1 = 1 / alphas[i] ** 0.5
            c2 = betas[i] / (1 - alpha_cum[i]) ** 0.5
            eps = denoise(audio, torch.tensor([steps[i]], device=device), cond).float()
            audio = c1 * (audio - c2 * eps)
            if i > 0:
                sigma = ((1.0 - alpha_cum[i - 1]) / (1.0 - alpha_cum[i]) * betas[i]) ** 0.5
                audio = audio + sigma * randn()
            audio = torch.clamp(audio, -1.0, 1.0)
    return audio
