"""Learning-rate schedules: the reference's per-epoch cosine (set at the start of epochs 1..E, down to
lr * 1e-3) and our default per-step cosine, unchanged."""

import math

import pytest
import torch
from accelerate import Accelerator

from respgen.classifier import training
from respgen.classifier.alignment import Alignment
from respgen.classifier.dataset import RunData
from respgen.classifier.model import AFTClassifier
from respgen.classifier.presets import PRESETS
from respgen.classifier.schedule import EpochCosine, epoch_cosine, make_scheduler, start_epoch
from respgen.classifier.training import TrainSettings, train_classifier

CLASSES = ("normal", "crackle", "wheeze", "both")


def test_epoch_cosine_values_of_the_reference():
    # misc.py adjust_learning_rate with lr 5e-5, lr_decay_rate 0.1 (eta_min = lr * 0.1**3), 50 epochs
    expected = {1: 4.99507e-5, 2: 4.98031e-5, 25: 2.5025e-5, 49: 9.93e-8, 50: 5e-8}
    for epoch, lr in expected.items():
        assert epoch_cosine(5e-5, epoch, 50, 1e-3) == pytest.approx(lr, rel=1e-3)
    for epoch in range(1, 51):
        eta_min = 5e-5 * 0.1**3
        assert epoch_cosine(5e-5, epoch, 50, 1e-3) == pytest.approx(
            eta_min + (5e-5 - eta_min) * (1 + math.cos(math.pi * epoch / 50)) / 2, rel=1e-12
        )


def test_epoch_schedule_is_set_per_epoch_and_held_within_it():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=5e-5)
    sched = make_scheduler(opt, "epoch", epochs=50, iters_per_epoch=7, min_factor=1e-3)
    assert isinstance(sched, EpochCosine)
    for epoch in range(1, 51):
        start_epoch(sched, epoch)
        for _ in range(7):  # the training loop steps the scheduler after every optimiser step
            assert opt.param_groups[0]["lr"] == pytest.approx(epoch_cosine(5e-5, epoch, 50, 1e-3), rel=1e-12)
            sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(5e-8)


def test_step_schedule_is_the_previous_default():
    a = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    b = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    ours = make_scheduler(a, "step", epochs=3, iters_per_epoch=5)
    torch_default = torch.optim.lr_scheduler.CosineAnnealingLR(b, T_max=15)
    for _ in range(15):
        start_epoch(ours, 1)  # a no-op for the step schedule
        assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"]
        a.step(), b.step(), ours.step(), torch_default.step()
    floor = make_scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), "step", 1, 4, 1e-3)
    for _ in range(4):
        floor.optimizer.step(), floor.step()
    assert floor.get_last_lr()[0] == pytest.approx(1e-3)


def tiny_run(n=16, frames=98, seed=0) -> tuple[AFTClassifier, RunData]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, frames, 128, generator=g)
    y = torch.arange(n) % 4
    d = (torch.arange(n) % 2 == 0).long()
    torch.manual_seed(seed)
    model = AFTClassifier(PRESETS["tiny"].ast_config(frames, CLASSES), discriminator=True)
    return model, RunData(CLASSES, (x, y, d), {"test": (x[:8], y[:8])}, {}, [])


def settings(lambda_mode: str = "dann", **kw) -> TrainSettings:
    """Small AFT settings: the paper's GRL step (alpha 0.2) with reversal strength by `lambda_mode`."""
    base = dict(
        epochs=4,
        batch_size=8,
        lr=1e-3,
        weight_decay=0.0,
        ma_beta=0.0,
        specaug=0.0,
        class_weights=False,
        alignment=Alignment("grl", 0.2, lambda_mode),
    )
    return TrainSettings(**{**base, **kw})


def test_training_runs_each_epoch_at_its_cosine_rate(monkeypatch):
    seen = []
    step = training.train_step

    def spy(model, optimizer, *args, **kwargs):
        seen.append(optimizer.param_groups[0]["lr"])
        return step(model, optimizer, *args, **kwargs)

    monkeypatch.setattr(training, "train_step", spy)
    model, data = tiny_run()
    s = settings(lr_schedule="epoch", lr_min_factor=1e-3)
    metrics = train_classifier(model, data, s, 1, "test", Accelerator(cpu=True))
    per_epoch = [epoch_cosine(1e-3, e, 4, 1e-3) for e in range(1, 5)]
    assert seen == pytest.approx([lr for lr in per_epoch for _ in range(2)], rel=1e-12)  # 2 steps per epoch
    assert [h["lr"] for h in metrics["history"]] == pytest.approx(per_epoch, rel=1e-12)
