"""SpecAugment for training batches, in two flavours:

- `clip` (our default): each clip, with probability p, gets its own 2 frequency + 2 time masks filled
  with its own mean (`respgen.classifier.data.spec_augment`).
- `batch` (the reference code, policy `icbhi_ast_sup` of Classification/util/augmentation.py): with
  probability p per batch, ONE set of masks for the whole batch: 2 frequency masks of width
  int(U[0, 48)) in {0..47} starting at randint(0, bins - width) (inclusive), filled with the mean of the
  whole batch; then 2 time masks of width int(U[0, 160)) starting at randint(0, frames - width), filled
  with the batch mean recomputed after the frequency masks. The reference applies it when
  `1.0 >= torch.randn(1)`, i.e. with probability Phi(1) = 0.8413 (`PAPER_P`).
"""

from __future__ import annotations

import torch

from respgen.classifier.data import spec_augment

PAPER_P = 0.8413447460685429  # P(N(0,1) <= 1): the reference's `p >= torch.randn(1)` with p = 1.0
FREQ_WIDTH, TIME_WIDTH, N_MASKS = 48, 160, 2


def _width(limit: int, generator: torch.Generator | None) -> int:
    """int(uniform(0, limit)): 0..limit-1."""
    return int(float(torch.rand((), generator=generator)) * limit)


def _start(size: int, width: int, generator: torch.Generator | None) -> int:
    """randint(0, size - width), both ends included."""
    return int(torch.randint(0, size - width + 1, (), generator=generator))


def draw_masks(
    frames: int,
    bins: int,
    generator: torch.Generator | None = None,
    freq_width: int = FREQ_WIDTH,
    time_width: int = TIME_WIDTH,
    n_masks: int = N_MASKS,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """One mask set: ([(f0, f), ...] frequency masks, [(t0, t), ...] time masks), in the reference's order."""
    freq = []
    for _ in range(n_masks):
        f = min(_width(freq_width, generator), bins)
        freq.append((_start(bins, f, generator), f))
    time = []
    for _ in range(n_masks):
        t = min(_width(time_width, generator), frames)
        time.append((_start(frames, t, generator), t))
    return freq, time


def spec_augment_batch(
    x: torch.Tensor,
    p: float,
    generator: torch.Generator | None = None,
    freq_width: int = FREQ_WIDTH,
    time_width: int = TIME_WIDTH,
    n_masks: int = N_MASKS,
) -> torch.Tensor:
    """The reference's per-batch SpecAugment. x: [B, frames, bins] -> a masked copy (x when not applied)."""
    if p <= 0 or float(torch.rand((), generator=generator)) >= p:
        return x
    frames, bins = x.shape[1], x.shape[2]
    freq, time = draw_masks(frames, bins, generator, freq_width, time_width, n_masks)
    out = x.clone()
    fill = out.mean()
    for f0, f in freq:
        out[:, :, f0 : f0 + f] = fill
    fill = out.mean()  # recomputed after the frequency masks, as the reference does
    for t0, t in time:
        out[:, t0 : t0 + t, :] = fill
    return out


def augment(x: torch.Tensor, p: float, mode: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """SpecAugment a training batch [B, frames, bins]: mode `clip` or `batch` (see the module docstring)."""
    if mode == "batch":
        return spec_augment_batch(x, p, generator)
    return spec_augment(x, p, generator)
