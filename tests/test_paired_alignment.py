"""The paired Mahalanobis alignment loss (classifier.paired_alignment) and its wiring into finetune."""

import json
from pathlib import Path

import pytest
import torch

from respgen.classifier.adversary import AdversarySettings
from respgen.classifier.dataset import source_rows
from respgen.classifier.paired_alignment import PairedMahalanobis, ramp_weight
from respgen.config import FinetuneConfig
from respgen.finetune import finetune, resolved_alpha

FAST = {"preset": "tiny", "epochs": 5, "length": 1.0}


def _features(n=64, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    scales = torch.linspace(0.1, 3.0, d)  # very different variance per direction
    return torch.randn(n, d, generator=g) * scales


def test_zero_for_identical_pairs_positive_for_a_shift():
    real = _features()
    assert float(PairedMahalanobis()(real.clone(), real)) == pytest.approx(0.0, abs=1e-10)
    shifted = real + torch.linspace(-1, 1, real.shape[1])
    assert float(PairedMahalanobis()(shifted, real)) > 0.1


def test_a_shift_along_a_low_variance_direction_costs_more():
    """The same Euclidean shift separates a linear probe far better along a low-variance direction:
    Mahalanobis sees that, a plain squared distance would not."""
    real = _features()
    low, high = torch.zeros(real.shape[1]), torch.zeros(real.shape[1])
    low[0], high[-1] = 0.3, 0.3  # direction 0 has std 0.1, the last std 3
    batch = torch.cat([real, real])
    along_low = float(PairedMahalanobis()(real + low, real, batch))
    along_high = float(PairedMahalanobis()(real + high, real, batch))
    assert along_low > 10 * along_high


def test_scale_invariant_and_descent_lowers_it():
    real = _features(seed=1)
    synthetic = real + torch.linspace(-0.5, 0.5, real.shape[1])  # (a constant shift is layer-normed away)
    assert float(PairedMahalanobis()(5 * synthetic, 5 * real)) == pytest.approx(
        float(PairedMahalanobis()(synthetic, real)), rel=1e-4
    )
    loss_fn = PairedMahalanobis(momentum=0.0)
    moved = synthetic.clone().requires_grad_(True)
    first = None
    for _ in range(20):
        loss = loss_fn(moved, real)
        first = float(loss.detach()) if first is None else first
        (grad,) = torch.autograd.grad(loss, moved)
        moved = (moved - 0.5 * grad / grad.norm()).detach().requires_grad_(True)
    assert first > 0.1 and float(loss_fn(moved, real).detach()) < 0.5 * first


def test_running_covariance_keeps_history_without_its_gradient():
    loss_fn = PairedMahalanobis(momentum=0.9)
    real = _features(seed=2)
    loss_fn(real + 0.1, real)
    assert loss_fn.covariance is not None and not loss_fn.covariance.requires_grad
    before = loss_fn.covariance.clone()
    loss_fn(3 * real + 0.1, 3 * real)  # layer norm: the same normalised features, so S barely moves
    torch.testing.assert_close(loss_fn.covariance, before, rtol=0.05, atol=1e-3)


def test_ramp_and_first_full_epoch():
    assert [ramp_weight(p, 0.2, 0.2) for p in (0.0, 0.19, 0.3, 0.4, 0.9)] == pytest.approx([0, 0, 0.5, 1, 1])
    assert ramp_weight(0.5, 0.2, 0.0) == 1.0
    s = AdversarySettings(kind="mahalanobis", warmup=0.2, ramp=0.2)
    assert s.paired and s.first_full_epoch(40) == 16 and s.first_full_epoch(2) == 1
    assert AdversarySettings(kind="confusion").first_full_epoch(40) == 1


def test_source_rows_point_at_the_real_train_cycle():
    real = [{"id": "a"}, {"id": "b"}]
    synthetic = [{"id": "s1", "conditioned_on": "b"}, {"id": "s2", "conditioned_on": "gone"}, {"id": "s3"}]
    assert source_rows(real, synthetic).tolist() == [-1, -1, 1, -1, -1]


def test_finetune_mahalanobis_default_and_missing_sources(cli, demo_synth: Path):
    cfg = FinetuneConfig(workdir=demo_synth, aft=True, name="maha", **FAST)
    assert cfg.adversary == "mahalanobis" and resolved_alpha(cfg) == 0.1
    assert resolved_alpha(FinetuneConfig(workdir=demo_synth, adversary="grl")) == 0.2
    result = finetune(cfg)
    info = json.loads((Path(result.run_dir) / "respgen.json").read_text())
    assert info["training"]["alpha"] == 0.1 and info["training"]["adversary"] == "mahalanobis"
    assert result.metrics["best_epoch"] >= 2  # selected among the epochs with the loss at full weight (2 of 5)
    assert 0.0 <= result.metrics["alignment"]["probe_acc"] <= 1.0
    # without a real source for any synthetic cycle: one line, exit 2, nothing written
    manifest = demo_synth / "synth" / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    manifest.write_text("".join(json.dumps({**r, "conditioned_on": "elsewhere"}) + "\n" for r in rows))
    before = sorted(p.name for p in (demo_synth / "models").iterdir())
    r = cli("finetune", "--aft", "--workdir", demo_synth, "--preset", "tiny", "--epochs", "1", "--length", "1")
    assert r.exit_code == 2 and "--adversary mahalanobis needs synthetic cycles" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (demo_synth / "models").iterdir()) == before
    r = cli("finetune", "--workdir", demo_synth, "--align-warmup", "0.6", "--align-ramp", "0.5")
    assert r.exit_code == 2 and "align_warmup + align_ramp" in r.stderr
