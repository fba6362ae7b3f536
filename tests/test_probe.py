"""The alignment probe and the adversary variants (small, seconds)."""

import numpy as np
import torch
import torch.nn.functional as F

from respgen.classifier.adversary import Adversary, AdversarySettings, confusion_loss
from respgen.classifier.model import AFTClassifier
from respgen.classifier.presets import PRESETS
from respgen.classifier.probe import alignment, probe_accuracy
from respgen.labels import CLASSES


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


def _model(disc_hidden=0):
    torch.manual_seed(0)
    return AFTClassifier(PRESETS["tiny"].ast_config(100, CLASSES), discriminator=True, disc_hidden=disc_hidden)


def test_confusion_gradient_pushes_towards_uniform():
    model = _model()
    x = torch.randn(8, 100, 128)
    d = torch.tensor([0, 1] * 4)
    adv = Adversary(model.discriminator, AdversarySettings(kind="confusion", disc_steps=1), lr=1e-3)
    with torch.no_grad():  # make the discriminator confident: its output far from 50/50
        model.discriminator[1].bias.copy_(torch.tensor([4.0, -4.0]))
    _, domain, pooled = model(x, 1.0, reverse=adv.reverse, with_pooled=True)
    loss = adv.encoder_loss(domain, d, 1.0)
    grad = torch.autograd.grad(loss, pooled)[0]
    # a small step of the features along -grad moves the discriminator's output towards uniform
    with torch.no_grad():
        before = confusion_loss(model.discriminator(pooled))
        after = confusion_loss(model.discriminator(pooled - 0.5 * grad / grad.norm()))
    assert after < before
    assert float(confusion_loss(torch.zeros(3, 2))) == np.float32(np.log(2))


def test_separate_discriminator_steps_learn_the_domain():
    model = _model(disc_hidden=16)
    assert isinstance(model.discriminator[2], torch.nn.ReLU)
    pooled = torch.randn(32, 64)
    d = (pooled[:, 0] > 0).long()
    adv = Adversary(model.discriminator, AdversarySettings(kind="grl", disc_steps=3, disc_lr=1e-2), lr=1e-4)
    assert adv.reverse and adv.optimizer.param_groups[0]["lr"] == 1e-2
    before = F.cross_entropy(model.discriminator(pooled), d)
    for _ in range(5):
        adv.update(pooled, d)
    assert F.cross_entropy(model.discriminator(pooled), d) < before
    assert all(p.grad is None for p in model.discriminator.parameters())


def test_grl_two_time_scale_encoder_gradient_is_reversed():
    model = _model()
    x = torch.randn(4, 100, 128)
    d = torch.tensor([0, 1, 0, 1])
    adv = Adversary(model.discriminator, AdversarySettings(kind="grl", disc_steps=1), lr=1e-3)
    _, domain, pooled = model(x, 0.5, reverse=adv.reverse, with_pooled=True)
    g_enc = torch.autograd.grad(adv.encoder_loss(domain, d, 0.5), pooled, retain_graph=True)[0]
    plain = torch.autograd.grad(F.cross_entropy(model.discriminator(pooled), d), pooled)[0]
    torch.testing.assert_close(g_enc, -0.5 * plain)
