"""The reference's lambda (`lambda_mode = "paper"`): its epoch counter starts at 1, so lambda is ~1.0
from the very first iteration; our DANN default starts at 0."""

import math

import pytest
from accelerate import Accelerator
from test_lr_schedule import settings, tiny_run

from respgen.classifier import training
from respgen.classifier.grl import dann_lambda, paper_lambda
from respgen.classifier.training import train_classifier


def test_paper_lambda_at_the_first_iteration():
    # main.py:360 with epoch = 1 (main.py:574, 584), idx = 0; L = 191 batches (6142 clips / 32)
    p = (0 + 1 * 191) / 50 + 1 / 191
    assert p == pytest.approx(3.8252, abs=1e-4)
    assert paper_lambda(0, 1, 191, 50) == 1.0  # exactly, in float64
    assert paper_lambda(0, 1, 129, 50) == pytest.approx(1.0, abs=1e-10)
    assert paper_lambda(0, 1, 62, 50) == pytest.approx(0.999993, abs=1e-6)
    assert paper_lambda(0, 0, 191, 50) < 0.06  # what counting epochs from 0 gave: ~0.026
    assert dann_lambda(0.0) == 0.0


def lambdas_seen(monkeypatch, mode: str) -> list[float]:
    seen = []
    step = training.train_step

    def spy(model, optimizer, scheduler, accelerator, x, y, d, lam, **kwargs):
        seen.append(lam)
        return step(model, optimizer, scheduler, accelerator, x, y, d, lam, **kwargs)

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
