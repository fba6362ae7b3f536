import numpy as np
import pytest

from respgen.frechet import frechet_distance


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # same covariance, shifted mean: distance = squared shift
    assert frechet_distance(a, a + np.array([1.0, 2.0, 0.0])) == pytest.approx(5.0, rel=1e-6)
    # isotropic Gaussians N(0, I) vs N(0, 4I) in 3-d: 3 * (1 + 4 - 2*2) = 3
    b = 2 * rng.standard_normal((4000, 3))
    assert frechet_distance(a, b) == pytest.approx(3.0, rel=0.1)
