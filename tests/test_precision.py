"""`precision = "fp16"` (paper.toml): autocast + a gradient scaler, as the reference's
torch.cuda.amp.autocast() + GradScaler(). Needs CUDA (skipped on CPU machines)."""

import math

import pytest
import torch
from accelerate import Accelerator
from test_lr_schedule import settings, tiny_run

from respgen.classifier import training
from respgen.classifier.specaugment import PAPER_P
from respgen.classifier.training import train_classifier

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 training needs CUDA")


@cuda
def test_fp16_trains_with_a_grad_scaler_and_the_paper_settings(monkeypatch):
    accelerator = Accelerator(mixed_precision="fp16")
    assert accelerator.scaler is not None  # the reference's GradScaler
    dtypes = []
    forward = training.AFTClassifier.forward

    def spy(self, x, lambda_=0.0):
        logits, domain = forward(self, x, lambda_)
        dtypes.append(logits.dtype)
        return logits, domain

    monkeypatch.setattr(training.AFTClassifier, "forward", spy)
    model, data = tiny_run()
    s = settings(
        epochs=3,
        lambda_mode="paper",
        specaug=PAPER_P,
        specaug_mode="batch",
        lr_schedule="epoch",
        lr_min_factor=1e-3,
        min_se=0.05,
    )
    metrics = train_classifier(model, data, s, 1, "test", accelerator)
    assert torch.float16 in dtypes  # autocast ran the model in half precision
    assert all(math.isfinite(h["loss"]) for h in metrics["history"])
    assert next(model.parameters()).dtype == torch.float32  # master weights stay fp32
