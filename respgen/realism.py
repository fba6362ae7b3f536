"""Can a fresh classifier tell synthetic cycles from real ones? A classifier two-sample test.

`two_sample_accuracy`: as many real as synthetic feature rows (the larger side subsampled with the
seed), stratified k-fold cross-validation, each training fold standardised with its own statistics and
fitted with a logistic regression (`classifier.probe.fit_logistic`), the held-out predictions of all
folds pooled into one accuracy. 50% = indistinguishable, 100% = trivially separable.

`logmel_stats`: features that need no trained model: per mel bin, the mean and std over time of the
vocoder's log-mel (`features.vocoder_mel`) and the mean absolute value and std of its frame-to-frame
difference (a crude texture statistic: how much the spectrum moves from one frame to the next).

Pure functions: arrays / tensors in, numbers out; no workspace."""

from __future__ import annotations

import numpy as np
import torch

from respgen.classifier.probe import fit_logistic
from respgen.features import vocoder_mel

MIN_ROWS = 4  # per side: fewer and a k-fold accuracy says nothing


def balanced(real: np.ndarray, synthetic: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Both sides cut to the smaller side's count (a random subset of the larger, order shuffled)."""
    n = min(len(real), len(synthetic))
    return real[rng.permutation(len(real))[:n]], synthetic[rng.permutation(len(synthetic))[:n]]


def fold_of(n: int, folds: int, rng: np.random.Generator) -> np.ndarray:
    """[n] fold index of each row of one side: a random permutation dealt round-robin into `folds` folds."""
    out = np.empty(n, dtype=int)
    out[rng.permutation(n)] = np.arange(n) % folds
    return out


def two_sample_accuracy(
    real: np.ndarray, synthetic: np.ndarray, folds: int = 5, seed: int = 0, l2: float = 1e-2
) -> float | None:
    """Pooled held-out accuracy of logistic regressions telling `real` [N, D] from `synthetic` [M, D]
    (see the module doc); folds = min(folds, the smaller side's count), each fold holds the same number
    of rows of each side. None when either side has fewer than 4 rows. Deterministic in `seed`."""
    real, synthetic = np.asarray(real, dtype=np.float64), np.asarray(synthetic, dtype=np.float64)
    if len(real) < MIN_ROWS or len(synthetic) < MIN_ROWS:
        return None
    rng = np.random.default_rng(seed)
    real, synthetic = balanced(real, synthetic, rng)
    n = len(real)
    folds = min(folds, n)
    x = np.concatenate([real, synthetic])
    y = np.repeat([0.0, 1.0], n)
    fold = np.concatenate([fold_of(n, folds, rng), fold_of(n, folds, rng)])
    correct = 0
    for k in range(folds):
        fit, test = fold != k, fold == k
        mu, sd = x[fit].mean(0), x[fit].std(0) + 1e-6
        w, b = fit_logistic((x[fit] - mu) / sd, y[fit], l2)
        pred = (torch.as_tensor((x[test] - mu) / sd) @ w + b).numpy() > 0
        correct += int((pred == y[test].astype(bool)).sum())
    return correct / len(x)


def logmel_stats(audio: torch.Tensor, **mel_kwargs) -> np.ndarray:
    """[4 * n_mels] statistics of one clip [T]'s vocoder log-mel: per bin the mean and std over time,
    then the mean absolute value and std over time of its frame-to-frame difference."""
    mel = vocoder_mel(audio, **mel_kwargs).double()  # [n_mels, frames]
    diff = mel[:, 1:] - mel[:, :-1]
    if diff.shape[1] == 0:  # a single frame: no movement
        diff = torch.zeros_like(mel)
    stats = [mel.mean(1), mel.std(1, correction=0), diff.abs().mean(1), diff.std(1, correction=0)]
    return torch.cat(stats).numpy()


def logmel_stats_batch(clips: list[torch.Tensor], **mel_kwargs) -> np.ndarray:
    """[N, 4 * n_mels] `logmel_stats` of each clip ([0, 4 * n_mels] for none)."""
    if not clips:
        return np.zeros((0, 4 * mel_kwargs.get("n_mels", 80)))
    return np.stack([logmel_stats(a, **mel_kwargs) for a in clips])
