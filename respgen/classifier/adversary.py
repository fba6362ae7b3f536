"""How the real/synthetic discriminator and the encoder play against each other in AFT.

- `grl` with `disc_steps` 0 (the paper): one joint optimiser step on CE(class) + alpha * CE(domain)
  through the gradient-reversal layer; the discriminator learns in that same step at the encoder's
  learning rate. This path stays in `training.train_step` unchanged.
- `grl` with `disc_steps` >= 1 (two time-scale): the encoder still maximises CE(domain) through the
  reversal layer, but the discriminator has its own optimiser (`disc_lr`) and takes `disc_steps` steps
  on the detached pooled features of each batch, so it can keep up with the encoder.
- `confusion` (Tzeng et al., 2015): the discriminator is trained the same way (own optimiser, CE with
  the true domains on detached features); the encoder minimises the cross-entropy between the
  discriminator's output and the uniform distribution (0.5 / 0.5) instead of maximising its loss, so
  its optimum is "cannot tell", not "always wrong".
- `mahalanobis` (classifier.paired_alignment): no adversarial gradient; the encoder minimises the
  Mahalanobis distance between the mean pooled features of the synthetic cycles in the batch and of
  their real sources, switched on after `warmup` and ramped to full over `ramp` (fractions of
  training). The discriminator is still trained on the detached features, for `disc_acc` only.

The discriminator's steps use the pooled features of the forward pass that the encoder step used
(computed before that step), so each batch costs one encoder forward/backward plus `disc_steps`
cheap head-only steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from respgen.classifier.paired_alignment import PairedMahalanobis

KINDS = ("grl", "confusion", "mahalanobis")


@dataclass(frozen=True)
class AdversarySettings:
    kind: str = "grl"  # grl | confusion | mahalanobis
    disc_lr: float | None = None  # None: the encoder's learning rate
    disc_steps: int = 0  # discriminator-only steps per batch; 0 (grl only): the paper's joint step
    disc_hidden: int = 0  # 0: LayerNorm + Linear head; > 0: MLP with this many hidden units
    warmup: float = 0.2  # mahalanobis: fraction of training before the loss is switched on
    ramp: float = 0.2  # mahalanobis: fraction of training over which it then ramps to full weight

    @property
    def separate(self) -> bool:
        """Whether the discriminator has its own optimiser (everything but the paper's joint step)."""
        return self.kind != "grl" or self.disc_steps > 0

    @property
    def paired(self) -> bool:
        """Whether the encoder's loss compares each synthetic cycle with its real source."""
        return self.kind == "mahalanobis"

    def first_full_epoch(self, epochs: int) -> int:
        """The first epoch (from 1) that ends with the paired loss at full weight (1 for the other kinds)."""
        if not self.paired:
            return 1
        return min(epochs, max(1, math.ceil((self.warmup + self.ramp) * epochs)))


def confusion_loss(domain_logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the discriminator's output against the uniform distribution over the two
    domains: -mean_i sum_k 0.5 * log p_k(x_i). Minimal (log 2) when p = 0.5 / 0.5."""
    return -F.log_softmax(domain_logits.float(), dim=-1).mean(-1).mean()


class Adversary:
    """The discriminator's own optimiser and the encoder's adversarial loss (the separate variants)."""

    def __init__(self, discriminator: nn.Module, settings: AdversarySettings, lr: float, weight_decay: float = 0.0):
        if settings.kind not in KINDS:
            raise ValueError(f"unknown adversary {settings.kind!r}")
        self.settings = settings
        self.discriminator = discriminator
        self.steps = max(1, settings.disc_steps)
        self.optimizer = torch.optim.Adam(
            discriminator.parameters(), lr=settings.disc_lr or lr, weight_decay=weight_decay
        )
        self.paired_loss = PairedMahalanobis() if settings.paired else None

    @property
    def reverse(self) -> bool:
        """Whether the discriminator sees the pooled feature through the reversal layer in the encoder's pass."""
        return self.settings.kind == "grl"

    def paired_term(
        self, pooled: torch.Tensor, source: torch.Tensor, has_source: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """mahalanobis: lam * the paired loss of the batch's synthetic cycles that have a real source
        (`pooled` [B, D] the batch, `source` [P, D] the sources of the P rows where `has_source`)."""
        if not bool(has_source.any()):
            return pooled.new_zeros(())  # (during the warm-up, lam 0, the call still updates the covariance)
        return lam * self.paired_loss(pooled[has_source], source, torch.cat([pooled, source]))

    def encoder_loss(self, domain_logits: torch.Tensor, domains: torch.Tensor, lam: float) -> torch.Tensor:
        """The adversarial term of the encoder's loss. grl: CE(domain) (the reversal layer flips its
        gradient, scaled by lambda); confusion: lambda * CE(domain output, uniform)."""
        if self.settings.kind == "grl":
            return F.cross_entropy(domain_logits.float(), domains)
        return lam * confusion_loss(domain_logits)

    def update(self, pooled: torch.Tensor, domains: torch.Tensor) -> torch.Tensor:
        """`steps` discriminator steps on the detached features; returns the first step's domain logits
        (the discriminator's predictions before it learned from this batch, for its accuracy)."""
        x = pooled.detach().float()
        first = None
        for _ in range(self.steps):
            self.optimizer.zero_grad(set_to_none=True)
            logits = self.discriminator(x)
            F.cross_entropy(logits, domains).backward()
            self.optimizer.step()
            first = logits.detach() if first is None else first
        self.optimizer.zero_grad(set_to_none=True)
        return first
