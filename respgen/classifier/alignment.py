"""How AFT aligns real and synthetic features: the two methods respgen keeps.

- `grl` (the paper): a real/synthetic discriminator head on the pooled feature, behind a
  gradient-reversal layer; one joint optimiser step on CE(class) + alpha * CE(real/synthetic). The
  reversal strength rises over training (`dann`: 2 / (1 + exp(-10 p)) - 1 of the progress p; `paper`:
  the paper code's formula, ~1 from the first step).
- `paired` (the measured default): every synthetic cycle was re-vocoded from one real train cycle; the
  encoder pulls the batch's synthetic features to their real sources' in the features' covariance
  metric (`paired_alignment.PairedMahalanobis`), switched on after `warmup` and ramped to full weight
  over `ramp` (fractions of training). No discriminator.

Research variants that were measured and not adopted (domain confusion, a two time-scale
discriminator, an MLP discriminator) are described in docs/research-notes.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from respgen.classifier.grl import dann_lambda, paper_lambda
from respgen.classifier.paired_alignment import ramp_weight


@dataclass(frozen=True)
class Alignment:
    method: str  # grl | paired
    alpha: float  # weight of the alignment term in the loss
    lambda_mode: str = "dann"  # grl: dann | paper
    warmup: float = 0.2  # paired: fraction of training before the loss starts
    ramp: float = 0.2  # paired: fraction of training over which it ramps to full weight

    @property
    def uses_discriminator(self) -> bool:
        return self.method == "grl"

    @property
    def paired(self) -> bool:
        """Whether the loss compares each synthetic cycle with its real source."""
        return self.method == "paired"

    def strength(self, iteration: int, epoch: int, iters_per_epoch: int, epochs: int) -> float:
        """grl: the gradient-reversal strength; paired: the loss's ramp weight. `epoch` from 0."""
        progress = (epoch * iters_per_epoch + iteration) / max(1, epochs * iters_per_epoch)
        if self.paired:
            return ramp_weight(progress, self.warmup, self.ramp)
        if self.lambda_mode == "paper":  # the reference counts epochs from 1
            return paper_lambda(iteration, epoch + 1, iters_per_epoch, epochs)
        return dann_lambda(progress)

    def first_selectable_epoch(self, epochs: int) -> int:
        """The first epoch (from 1) a checkpoint may be selected from: for `paired`, the first that ends
        with the loss at full weight (not a model from before alignment); 1 for `grl`."""
        if not self.paired:
            return 1
        return min(epochs, max(1, math.ceil((self.warmup + self.ramp) * epochs)))
