"""Paired Mahalanobis alignment: the AFT encoder loss that makes a linear real/synthetic probe fail.

Every synthetic cycle is re-vocoded from one real train cycle (`conditioned_on`), so the two differ by
what the vocoder changed and nothing else. The loss takes the batch mean of the differences between
each synthetic cycle's pooled feature and its real source's, and measures it in the metric of the
features' own covariance:

    delta = mean_i (z(synthetic_i) - z(real_i)),   loss = delta^T (S + s * tr(S) / D * I)^-1 delta

z is the pooled feature layer-normed without affine parameters (so shrinking the features cannot
lower the loss), S its covariance over recent batches (an exponential moving average of the batch
covariances; the current batch's part carries gradient, the history does not), s the shrinkage.
Why Mahalanobis and not Euclidean: a shift that is tiny in Euclidean terms but lies along a
low-variance direction still separates the domains perfectly for a linear probe on standardised
features; delta^T S^-1 delta is (up to the shrinkage) the squared separation that the best linear
discriminant (LDA) sees, so driving it to zero is what takes the probe's signal away. It is invariant
to rescaling the features, so it cannot be met by collapsing them.

No discriminator is involved (the fresh probe of `classifier.probe` measures what is left). The loss
is switched on late (`ramp_weight`):
from the first step it collapses the features before the classes are learned (measured on the
distortion testbed, docs/research-notes.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ramp_weight(progress: float, warmup: float, ramp: float) -> float:
    """0 for the first `warmup` of training (progress in [0, 1]), then linear to 1 over `ramp`."""
    if progress < warmup:
        return 0.0
    return 1.0 if ramp <= 0 else min(1.0, (progress - warmup) / ramp)


class PairedMahalanobis:
    """The loss above, holding its running covariance (one instance per training run)."""

    def __init__(self, momentum: float = 0.9, shrinkage: float = 0.1):
        self.momentum = momentum
        self.shrinkage = shrinkage
        self.covariance: torch.Tensor | None = None

    def __call__(self, synthetic: torch.Tensor, real: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        """synthetic [P, D] pooled features and real [P, D] those of their sources (row i made from row i);
        `batch` [N, D] the features whose covariance updates S (default: both sides). Returns a scalar."""
        synthetic, real = _normed(synthetic), _normed(real)
        batch = torch.cat([synthetic, real]) if batch is None else _normed(batch)
        centred = batch - batch.mean(0)
        current = centred.T @ centred / max(1, len(centred) - 1)
        if self.covariance is None:
            cov = current
        else:
            cov = self.momentum * self.covariance + (1 - self.momentum) * current
        self.covariance = cov.detach()
        dim = cov.shape[0]
        eye = torch.eye(dim, dtype=cov.dtype, device=cov.device)
        regularised = cov + self.shrinkage * cov.diagonal().sum() / dim * eye
        delta = (synthetic - real).mean(0)
        return delta @ torch.linalg.solve(regularised, delta)


def _normed(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x.float(), x.shape[-1:])
