"""An alignment measure that does not trust the discriminator AFT trained against: a fresh linear probe
(logistic regression) fitted to tell real from synthetic pooled features of the frozen model.

`probe_accuracy`: for every class, as many real as synthetic cycles (the larger side subsampled with
the seed), so chance is 50% and class content cannot give the domain away; each (class, domain) group
split in two halves; fit on one half, score on the other, both ways, mean of the two folds. 50% =
indistinguishable, 100% = linearly separable. `alignment` adds the per-class Fréchet distance.
"""

from __future__ import annotations

import numpy as np
import torch

from respgen.frechet import frechet_distance


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary logistic regression (L-BFGS, L2 penalty on the weights) on features (standardised with
    their own mean / std by the caller). Returns (weights, bias)."""
    xt = torch.as_tensor(x, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(xt.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + l2 * (w @ w)
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def _standardise(fit: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mu, sd = fit.mean(0), fit.std(0) + 1e-6
    return [(a - mu) / sd for a in (fit, *others)]


def probe_accuracy(
    features: np.ndarray, domains: np.ndarray, labels: np.ndarray | None = None, seed: int = 0, l2: float = 1e-2
) -> float | None:
    """Held-out accuracy of a logistic-regression probe telling domain 0 (real) from 1 (synthetic).

    features [N, D], domains [N] in {0, 1}, labels [N] (classes; None: one class). Balanced per class,
    2-fold (see the module doc). None when fewer than 2 cycles per domain remain."""
    features = np.asarray(features, dtype=np.float64)
    domains = np.asarray(domains)
    labels = np.zeros(len(domains), dtype=int) if labels is None else np.asarray(labels)
    rng = np.random.default_rng(seed)
    halves: list[list[int]] = [[], []]
    for c in np.unique(labels):
        groups = [np.flatnonzero((labels == c) & (domains == dom)) for dom in (0, 1)]
        n = min(len(g) for g in groups)
        for g in groups:
            picked = rng.permutation(g)[:n]
            halves[0] += picked[: n // 2].tolist()
            halves[1] += picked[n // 2 : 2 * (n // 2)].tolist()
    if min(len(h) for h in halves) < 2:
        return None
    accs = []
    for fit_idx, test_idx in ((halves[0], halves[1]), (halves[1], halves[0])):
        xf, xt = _standardise(features[fit_idx], features[test_idx])
        w, b = fit_logistic(xf, domains[fit_idx], l2)
        pred = (torch.as_tensor(xt) @ w + b).numpy() > 0
        accs.append(float((pred == domains[test_idx].astype(bool)).mean()))
    return float(np.mean(accs))


def alignment(features: np.ndarray, domains: np.ndarray, labels: np.ndarray, classes, seed: int = 0) -> dict:
    """{probe_acc, frechet: {class: d or None}} of pooled features (real = domain 0, synthetic = 1);
    the Fréchet distance per class with >= 2 cycles of each domain."""
    features, domains, labels = np.asarray(features), np.asarray(domains), np.asarray(labels)
    frechet: dict[str, float | None] = {}
    for i, c in enumerate(classes):
        r, s = features[(labels == i) & (domains == 0)], features[(labels == i) & (domains == 1)]
        frechet[c] = frechet_distance(r, s) if len(r) >= 2 and len(s) >= 2 else None
    return {"probe_acc": probe_accuracy(features, domains, labels, seed), "frechet": frechet}


@torch.no_grad()
def pooled_features(model, features: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """[N, hidden] pooled features of a model in eval mode (restores its train/eval state)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = [
        model.pooled(features[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(features), batch_size)
    ]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0))
