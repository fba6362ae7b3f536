"""Learning-rate schedules of the fine-tuning loop.

- `step` (our default): cosine over all optimiser steps, from lr down to lr * min_factor
  (torch's CosineAnnealingLR, stepped after every optimiser step).
- `epoch` (the reference, Classification/util/misc.py adjust_learning_rate): the rate is set at the start
  of each epoch e = 1..E to eta_min + (lr - eta_min) * (1 + cos(pi * e / E)) / 2 with
  eta_min = lr * min_factor (the reference: lr * 0.1**3), and held for the whole epoch; the last epoch
  trains at eta_min.
"""

from __future__ import annotations

import math

import torch


def epoch_cosine(lr: float, epoch: int, epochs: int, min_factor: float) -> float:
    """The learning rate of epoch `epoch` (1-based) of `epochs`."""
    eta_min = lr * min_factor
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * epoch / epochs)) / 2


class EpochCosine:
    """Scheduler-like: `start_epoch(e)` sets every group's rate; `step()` (called per optimiser step) does
    nothing. Not a torch LRScheduler, so accelerate passes it through untouched (and never skips or repeats it)."""

    def __init__(self, optimizer: torch.optim.Optimizer, epochs: int, min_factor: float):
        self.optimizer, self.epochs, self.min_factor = optimizer, epochs, min_factor
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.start_epoch(1)

    def start_epoch(self, epoch: int) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = epoch_cosine(base, epoch, self.epochs, self.min_factor)

    def step(self) -> None:
        pass

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]


def make_scheduler(
    optimizer: torch.optim.Optimizer, mode: str, epochs: int, iters_per_epoch: int, min_factor: float = 0.0
):
    """The scheduler for `mode` `step` or `epoch` (see the module docstring)."""
    if mode == "epoch":
        return EpochCosine(optimizer, epochs, min_factor)
    eta_min = optimizer.param_groups[0]["lr"] * min_factor
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * iters_per_epoch, eta_min=eta_min)


def start_epoch(scheduler, epoch: int) -> None:
    """Call at the start of each epoch (1-based): sets the rate for the per-epoch schedule, no-op otherwise."""
    if isinstance(scheduler, EpochCosine):
        scheduler.start_epoch(epoch)
