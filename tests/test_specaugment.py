"""SpecAugment as the reference applies it (`specaug_mode = "batch"`): one mask set per batch, widths
int(U[0, F)), inclusive start positions, fill = the batch mean (recomputed before the time masks),
applied with probability Phi(1) for the reference's p = 1.0."""

import math

import pytest
import torch

from respgen.classifier.data import spec_augment
from respgen.classifier.specaugment import PAPER_P, augment, draw_masks, spec_augment_batch


def test_paper_probability_is_phi_of_one():
    # the reference applies SpecAugment when `1.0 >= torch.randn(1)`
    assert PAPER_P == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), abs=1e-15)
    assert float(
        (torch.randn(200_000, generator=torch.Generator().manual_seed(0)) <= 1.0).float().mean()
    ) == pytest.approx(PAPER_P, abs=0.005)


def test_mask_widths_and_starts_within_the_reference_bounds():
    g = torch.Generator().manual_seed(0)
    fw, tw, f_end, t_end = set(), set(), set(), set()
    for _ in range(4000):
        freq, time = draw_masks(498, 128, g)
        assert len(freq) == len(time) == 2
        for f0, f in freq:
            assert 0 <= f <= 47 and 0 <= f0 <= 128 - f
            fw.add(f)
            f_end.add(f0 + f == 128)
        for t0, t in time:
            assert 0 <= t <= 159 and 0 <= t0 <= 498 - t
            tw.add(t)
            t_end.add(t0 + t == 498)
    assert fw == set(range(48)) and tw == set(range(160))  # every width 0..F-1 occurs, never F
    assert True in f_end and True in t_end  # randint's upper end is reachable (inclusive)


def test_one_mask_set_for_the_whole_batch_filled_with_the_batch_mean():
    x = torch.randn(4, 498, 128) + torch.arange(4.0)[:, None, None]  # per-clip means differ
    seed = 3
    out = spec_augment_batch(x, 1.0, torch.Generator().manual_seed(seed))
    g = torch.Generator().manual_seed(seed)
    torch.rand((), generator=g)  # the application draw
    freq, time = draw_masks(498, 128, g)
    expected = x.clone()
    fill_f = x.mean()
    for f0, f in freq:
        expected[:, :, f0 : f0 + f] = fill_f
    fill_t = expected.mean()  # recomputed after the frequency masks
    for t0, t in time:
        expected[:, t0 : t0 + t, :] = fill_t
    assert torch.equal(out, expected)
    assert not torch.equal(out, x) and fill_f != fill_t
    changed = out != x
    assert all(torch.equal(changed[0], changed[i]) for i in range(1, 4))  # the same positions in every clip
    assert torch.equal(x, x.clone())  # the input is not modified


def test_applied_with_probability_p_per_batch():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 170, 48)
    n = 2000
    applied = sum(not torch.equal(spec_augment_batch(x, PAPER_P, g, time_width=160), x) for _ in range(n))
    # a drawn set can be empty (all widths 0), which is very rare; the rate matches Phi(1)
    assert applied / n == pytest.approx(PAPER_P, abs=0.03)
    assert torch.equal(spec_augment_batch(x, 0.0, g), x)


def test_short_inputs_and_the_clip_mode_default():
    x = torch.randn(2, 20, 128)  # fewer frames than T = 160: widths are capped, no error
    for s in range(50):
        assert spec_augment_batch(x, 1.0, torch.Generator().manual_seed(s)).shape == x.shape
    torch.manual_seed(0)  # torchaudio's mask_along_axis draws from the global RNG
    a = augment(x, 1.0, "clip", torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    b = spec_augment(x, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
