"""The classifier two-sample test and the model-free log-mel statistics (respgen.realism)."""

import numpy as np
import torch

from respgen.realism import logmel_stats, logmel_stats_batch, two_sample_accuracy

SR = 16000


def _gauss(n: int, d: int = 8, shift: float = 0.0, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d))
    x[:, 0] += shift
    return x


def test_same_distribution_is_near_chance():
    accs = [two_sample_accuracy(_gauss(100, seed=s), _gauss(100, seed=100 + s), seed=s) for s in range(3)]
    assert all(0.35 <= a <= 0.65 for a in accs), accs


def test_separated_is_near_one():
    assert two_sample_accuracy(_gauss(60), _gauss(60, shift=8.0, seed=1)) > 0.97


def test_balanced_deterministic_and_too_few():
    real, syn = _gauss(200), _gauss(20, seed=1)  # a majority guess would score 91%
    assert two_sample_accuracy(real, syn) < 0.75
    assert two_sample_accuracy(real, syn, seed=3) == two_sample_accuracy(real, syn, seed=3)
    assert two_sample_accuracy(_gauss(3), _gauss(10)) is None
    assert two_sample_accuracy(_gauss(10), _gauss(3)) is None
    # folds capped at the smaller side's count: 4 rows a side still gives an answer
    assert two_sample_accuracy(_gauss(4), _gauss(4, shift=8.0, seed=1), folds=10) is not None


def test_logmel_stats_shape():
    t = torch.arange(SR) / SR
    tone = 0.3 * torch.sin(2 * torch.pi * 440 * t)
    assert logmel_stats(tone).shape == (4 * 80,)
    assert logmel_stats(tone, n_mels=40).shape == (4 * 40,)
    assert np.isfinite(logmel_stats(tone[:1000], hop=2048)).all()  # one frame: no frame-to-frame difference
    batch = logmel_stats_batch([tone, 0.1 * torch.randn(SR // 2, generator=torch.Generator().manual_seed(0))])
    assert batch.shape == (2, 320) and not np.allclose(batch[0], batch[1])
    assert logmel_stats_batch([]).shape == (0, 320)
