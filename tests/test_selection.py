"""`min_se`: the reference keeps the best test Score among epochs with Se > 5 % (main.py:529); ours
has no guard by default. Scores are scripted per epoch; the training itself is a tiny real run."""

import pytest
import torch
from accelerate import Accelerator
from test_lr_schedule import settings, tiny_run

from respgen.classifier import training
from respgen.classifier.training import EpochSelection, train_classifier

# (score, se) per epoch: epoch 1 has the best Score but Se 1 %; epoch 3 is the best with Se > 5 %
SCRIPT = [(0.60, 0.01), (0.52, 0.20), (0.55, 0.30), (0.50, 0.05)]


def scripted(monkeypatch):
    calls = iter(SCRIPT)

    def fake_evaluate(*args, **kwargs):
        score, se = next(calls)
        return {"sp": 2 * score - se, "se": se, "score": score, "accuracy": score}

    monkeypatch.setattr(training, "split_scores", fake_evaluate)


@pytest.mark.parametrize("min_se, best", [(None, 1), (0.05, 3), (0.5, 1)])
def test_selection_on_test_with_an_se_guard(monkeypatch, min_se, best):
    scripted(monkeypatch)
    model, data = tiny_run()
    metrics = train_classifier(model, data, settings(epochs=4, min_se=min_se), 1, "test", Accelerator(cpu=True))
    assert metrics["best_epoch"] == best
    if min_se is not None:
        # 0.05 is not > 0.05 (strict, as the reference); with no epoch above 0.5 the first is kept, flagged
        assert metrics["min_se"] == min_se and metrics["min_se_met"] == (min_se < 0.5)
    else:
        assert "min_se" not in metrics


def _entry(epoch: int, score: float, se: float) -> dict:
    return {"epoch": epoch, "test": {"score": score, "se": se}}


def test_no_epoch_before_the_alignment_loss_is_at_full_weight():
    """`first_eligible` (the paired loss's `Alignment.first_selectable_epoch`): a better Score from
    before the loss reached full weight is not kept; selecting the last epoch ignores it."""
    model = torch.nn.Linear(2, 2)
    selection = EpochSelection("test", first_eligible=3)
    for epoch, (score, se) in enumerate(SCRIPT, start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        selection.consider(_entry(epoch, score, se), model)
    assert selection.epoch == 3 and selection.score == 0.55 and float(selection.state["weight"][0, 0]) == 3
    last = EpochSelection("last", first_eligible=3)
    for epoch, (score, se) in enumerate(SCRIPT, start=1):
        last.consider(_entry(epoch, score, se), model)
    assert last.epoch == 4
