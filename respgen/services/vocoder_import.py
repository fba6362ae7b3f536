"""`vocoder import`: start from a reference DiffWave checkpoint instead of training from scratch."""

from __future__ import annotations

from dataclasses import dataclass

from respgen.config import VocoderImportConfig
from respgen.errors import RespgenError
from respgen.lock import locked
from respgen.vocoder.checkpoint import clear_checkpoints, latest_checkpoint, save_checkpoint
from respgen.vocoder.fast import make_optimizer
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS
from respgen.vocoder.reference import load_reference
from respgen.workspace import Workspace


@dataclass
class VocoderImportResult:
    checkpoint: str
    step: int
    preset: str | None  # the preset whose hyper-parameters the imported model has, if any
    params: dict
    optimizer: str  # "reference" (its Adam state carried over) or "fresh"

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@locked("vocoder-import")
def import_vocoder(cfg: VocoderImportConfig) -> VocoderImportResult:
    """Convert a reference DiffWave `weights.pt` (lmnt-com/diffwave's learner format) into the
    workspace's vocoder.

    Reads `cfg.ckpt` (outside the workspace; loaded with weights_only=True, never executing code).
    Writes `<workdir>/vocoder/checkpoints/step-<N>/` (`model.safetensors`, `config.json` with the
    converted hyper-parameters and `train.imported_from`, `state.pt` with the reference's step and
    its Adam state when it fits, else none) and points `<workdir>/vocoder/latest` at it, so `synth`
    uses it and `vocoder train` continues from step N. Refuses to replace an existing vocoder unless
    `cfg.force`, which first removes the old checkpoints, `latest` and `metrics.jsonl`.
    """
    ws = Workspace(cfg.workdir)
    ref = load_reference(cfg.ckpt)
    existing = latest_checkpoint(ws.vocoder)
    if existing is not None and not cfg.force:
        raise RespgenError(
            f"the workdir already has a vocoder (step {existing.step}); pass --force to replace it", ws.vocoder
        )
    if cfg.force:
        clear_checkpoints(ws.vocoder)
        ws.vocoder_metrics.unlink(missing_ok=True)

    model = DiffWave(ref.params)
    model.load_state_dict(ref.weights)
    optimizer = make_optimizer(model, ref.learning_rate or 2e-4)
    carried = ref.optimizer is not None
    if carried:
        try:
            optimizer.load_state_dict(ref.optimizer)
        except (ValueError, KeyError, TypeError):  # an Adam state from a torch version we cannot read
            optimizer = make_optimizer(model, ref.learning_rate or 2e-4)
            carried = False
    preset = next((name for name, p in PRESETS.items() if p == ref.params), None)
    config = {"imported_from": str(cfg.ckpt.resolve()), "reference": "lmnt-com/diffwave", "preset": preset}
    path = save_checkpoint(ws.vocoder, ref.step, model, config, optimizer, None, keep=1)
    return VocoderImportResult(
        checkpoint=str(path),
        step=ref.step,
        preset=preset,
        params=ref.params.model_dump(mode="json"),
        optimizer="reference" if carried else "fresh",
    )
