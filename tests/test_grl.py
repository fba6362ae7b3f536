"""Gradient reversal (classifier.grl) and its strength over training: the layer, the DANN and paper
lambda schedules, the reversal inside `AFTClassifier`, and the lambda the training loop uses (the
reference's `lambda_mode = "paper"` counts epochs from 1, so lambda is ~1.0 from the very first
iteration; our DANN default starts at 0)."""

import inspect
import math

import pytest
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from test_lr_schedule import settings, tiny_run

from respgen.classifier import training
from respgen.classifier.grl import dann_lambda, grad_reverse, paper_lambda
from respgen.classifier.model import AFTClassifier
from respgen.classifier.presets import PRESETS
from respgen.classifier.training import train_classifier, train_step

CLASSES = ("normal", "crackle", "wheeze", "both")


def test_grad_reverse_is_identity_forward_and_negated_scaled_backward():
    x = torch.randn(4, 8, requires_grad=True)
    y = grad_reverse(x, 2.0)
    assert torch.equal(y, x)
    (gx,) = torch.autograd.grad((y * 3).sum(), x)
    assert torch.all(gx == -6.0)


def test_lambda_schedules():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert dann_lambda(0.5) == pytest.approx(0.98661, abs=1e-5)
    # the paper formula is ~1 from the first iterations
    assert paper_lambda(0, 0, 10, 50) == pytest.approx(2 / (1 + math.exp(-1)) - 1)
    assert paper_lambda(0, 1, 10, 50) > 0.55 and paper_lambda(5, 10, 10, 50) > 0.999


def test_paper_lambda_at_the_first_iteration():
    # main.py:360 with epoch = 1 (main.py:574, 584), idx = 0; L = 191 batches (6142 clips / 32)
    p = (0 + 1 * 191) / 50 + 1 / 191
    assert p == pytest.approx(3.8252, abs=1e-4)
    assert paper_lambda(0, 1, 191, 50) == 1.0  # exactly, in float64
    assert paper_lambda(0, 1, 129, 50) == pytest.approx(1.0, abs=1e-10)
    assert paper_lambda(0, 1, 62, 50) == pytest.approx(0.999993, abs=1e-6)
    assert paper_lambda(0, 0, 191, 50) < 0.06  # what counting epochs from 0 gave: ~0.026
    assert dann_lambda(0.0) == 0.0


def tiny_model(frames=98, seed=0):
    torch.manual_seed(seed)
    return AFTClassifier(PRESETS["tiny"].ast_config(frames, CLASSES), discriminator=True)


def test_gradient_reversal_flips_and_scales_the_encoder_gradient():
    model = tiny_model()
    x, d = torch.randn(3, 98, 128), torch.tensor([0, 1, 1])
    lam = 0.37
    enc = model.ast.audio_spectrogram_transformer.embeddings.patch_embeddings.projection.weight

    _, domain = model(x, lam)
    (g_rev,) = torch.autograd.grad(F.cross_entropy(domain, d), enc)
    pooled = model.pooled(x)
    (g_plain,) = torch.autograd.grad(F.cross_entropy(model.discriminator(pooled), d), enc)
    assert g_plain.abs().max() > 0
    torch.testing.assert_close(g_rev, -lam * g_plain, rtol=1e-4, atol=1e-7)
    # the discriminator itself gets the plain gradient
    head = model.discriminator[1].weight
    (g_head_rev,) = torch.autograd.grad(F.cross_entropy(model(x, lam)[1], d), head)
    (g_head,) = torch.autograd.grad(F.cross_entropy(model.discriminator(model.pooled(x)), d), head)
    torch.testing.assert_close(g_head_rev, g_head)


def lambdas_seen(monkeypatch, mode: str) -> list[float]:
    seen = []

    def spy(*args, **kwargs):
        seen.append(inspect.signature(train_step).bind(*args, **kwargs).arguments["strength"])
        return train_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", spy)
    model, data = tiny_run()
    train_classifier(model, data, settings(epochs=3, lambda_mode=mode), 1, "test", Accelerator(cpu=True))
    return seen


def test_training_loop_lambda_at_iteration_zero(monkeypatch):
    paper = lambdas_seen(monkeypatch, "paper")
    iters, epochs = 2, 3  # 16 clips / batch 8
    expected = [paper_lambda(i, e, iters, epochs) for e in range(1, epochs + 1) for i in range(iters)]
    assert paper == pytest.approx(expected, rel=1e-15)
    assert paper[0] == pytest.approx(2 / (1 + math.exp(-10 * (2 / 3 + 1 / 2))) - 1) and paper[0] > 0.9999
    dann = lambdas_seen(monkeypatch, "dann")
    assert dann[0] == 0.0 and dann[-1] == pytest.approx(dann_lambda(5 / 6))
