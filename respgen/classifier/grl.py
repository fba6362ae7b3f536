"""Gradient reversal (Ganin & Lempitsky, 2015): identity forward, gradient times -lambda backward."""

from __future__ import annotations

import math

import torch


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, lambda_: float) -> torch.Tensor:
        ctx.lambda_ = lambda_
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.lambda_ * grad, None


def grad_reverse(x: torch.Tensor, lambda_: float) -> torch.Tensor:
    return _GradientReversal.apply(x, lambda_)


def dann_lambda(progress: float) -> float:
    """DANN schedule: 2 / (1 + exp(-10 p)) - 1, p = training progress in [0, 1]."""
    return 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0


def paper_lambda(iteration: int, epoch: int, iters_per_epoch: int, epochs: int) -> float:
    """The paper code's formula: p = (iteration + epoch * iters_per_epoch) / epochs + 1 / iters_per_epoch,
    with `epoch` counted from 1 and `iteration` from 0 as the reference does (main.py:360, 584); not a
    [0, 1] progress: lambda is ~1.0 from the first iteration (exactly 1.0 in float64 for 191 iterations)."""
    p = (iteration + epoch * iters_per_epoch) / epochs + 1.0 / iters_per_epoch
    return dann_lambda(p)
