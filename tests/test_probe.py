"""The alignment probe (classifier.probe): a fresh logistic regression telling real from synthetic."""

import numpy as np

from respgen.classifier.probe import alignment, probe_accuracy


def _two_domains(shift: float, n: int = 120, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    real, syn = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    syn[:, 0] += shift
    labels = np.tile([0, 1], n)  # two classes in both domains
    return np.concatenate([real, syn]), np.repeat([0, 1], n), labels


def test_probe_separable_is_near_100():
    x, d, y = _two_domains(shift=8.0)
    assert probe_accuracy(x, d, y) > 0.97


def test_probe_identical_distributions_is_near_50():
    accs = [probe_accuracy(*_two_domains(shift=0.0, seed=s), seed=s) for s in range(5)]
    assert abs(np.mean(accs) - 0.5) < 0.08


def test_probe_deterministic_and_balanced():
    x, d, y = _two_domains(shift=1.0)
    assert probe_accuracy(x, d, y, seed=3) == probe_accuracy(x, d, y, seed=3)
    # 10x more real than synthetic: balancing keeps chance at 50% (a majority guess would score 91%)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((220, 8))
    d = np.array([0] * 200 + [1] * 20)
    assert probe_accuracy(x, d) < 0.75
    # a class only one domain has is left out (class content cannot give the domain away)
    y = np.array([0] * 100 + [1] * 100 + [1] * 20)
    x[:100, 0] += 10
    assert probe_accuracy(x, d, y) < 0.75
    assert probe_accuracy(x[:4], np.array([0, 0, 0, 1])) is None


def test_alignment_has_frechet_per_class():
    x, d, y = _two_domains(shift=2.0)
    out = alignment(x, d, y, ("a", "b", "c"))
    assert out["probe_acc"] > 0.8 and out["frechet"]["a"] > 1.0 and out["frechet"]["c"] is None
