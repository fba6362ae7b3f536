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

    def spy(self, x, reversal=0.0, with_pooled=False):
        out = forward(self, x, reversal, with_pooled)
        dtypes.append(out[0].dtype)
        return out

    monkeypatch.setattr(training.AFTClassifier, "forward", spy)
    model, data = tiny_run()
    s = settings(
        epochs=3,
        lambda_mode="paper",
        ma_beta=0.5,
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


def test_auto_precision_resolves_per_device():
    from respgen.vocoder.fast import cpu_has_bf16, resolve_precision

    assert resolve_precision("auto", "cpu") == ("bf16" if cpu_has_bf16() else "no")
    for given in ("no", "bf16", "fp16"):
        assert resolve_precision(given, "cpu") == given
    if torch.cuda.is_available():
        assert resolve_precision("auto", "cuda") == ("bf16" if torch.cuda.is_bf16_supported() else "no")


def test_vocoder_train_records_the_resolved_precision(tmp_path):
    import json

    from respgen.config import DemoDataConfig, PrepareConfig, VocoderTrainConfig
    from respgen.services.demo_data import make_demo_data
    from respgen.services.prepare import prepare
    from respgen.services.vocoder_train import train_vocoder
    from respgen.vocoder.fast import resolve_precision

    demo = make_demo_data(
        DemoDataConfig(out_dir=tmp_path / "demo", patients=3, recordings_per_patient=1, cycles_per_recording=4)
    )
    prepare(PrepareConfig(icbhi_dir=demo.out_dir, workdir=tmp_path / "w", val_fraction=0, workers=1))
    result = train_vocoder(
        VocoderTrainConfig(workdir=tmp_path / "w", preset="tiny", max_steps=2, batch_size=2, eval_every=0)
    )
    meta = json.loads((tmp_path / "w" / "vocoder" / "latest" / "config.json").read_text())
    assert meta["train"]["precision"] == resolve_precision("auto", "cpu") and result.step == 2
