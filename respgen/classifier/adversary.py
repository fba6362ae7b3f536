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

The discriminator's steps use the pooled features of the forward pass that the encoder step used
(computed before that step), so each batch costs one encoder forward/backward plus `disc_steps`
cheap head-only steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

KINDS = ("grl", "confusion")


@dataclass(frozen=True)
class AdversarySettings:
    kind: str = "grl"  # grl | confusion
    disc_lr: float | None = None  # None: the encoder's learning rate
    disc_steps: int = 0  # discriminator-only steps per batch; 0 (grl only): the paper's joint step
    disc_hidden: int = 0  # 0: LayerNorm + Linear head; > 0: MLP with this many hidden units

    @property
    def separate(self) -> bool:
        """Whether the discriminator has its own optimiser (everything but the paper's joint step)."""
        return self.kind != "grl" or self.disc_steps > 0


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

    @property
    def reverse(self) -> bool:
        """Whether the discriminator sees the pooled feature through the reversal layer in the encoder's pass."""
        return self.settings.kind == "grl"

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
