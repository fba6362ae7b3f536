"""Checkpoints of the reference DiffWave (lmnt-com/diffwave, the `weights.pt` its learner writes:
`{"step", "model": state_dict, "optimizer": Adam state, "params": dict(params), "scaler"}`) converted
to this package's model and hyper-parameters.

The file is read with `torch.load(weights_only=True)` and no extra allowlist: the reference learner
saves `dict(params)` (plain ints, floats, lists, bools), so nothing but tensors and plain values is
needed. Anything else in the pickle (its `AttrDict`, numpy arrays, arbitrary classes) is refused,
never executed. Our module names are the reference's, so the weights map one to one."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from respgen.errors import RespgenError
from respgen.vocoder.diffusion import fast_steps
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import VocoderParams

REQUIRED = (
    "residual_layers",
    "residual_channels",
    "dilation_cycle_length",
    "n_mels",
    "hop_samples",
    "sample_rate",
    "noise_schedule",
    "inference_noise_schedule",
)
UPSAMPLE = 256  # the upsampler's two x16 transposed convs: the only hop the architecture supports


@dataclass
class ReferenceCheckpoint:
    step: int
    params: VocoderParams
    weights: dict[str, torch.Tensor]
    optimizer: dict | None  # the reference's Adam state when it fits our parameter order, else None
    learning_rate: float | None


def load_reference(path: Path) -> ReferenceCheckpoint:
    """Read and convert a reference `weights.pt`; every failure is one RespgenError line."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise RespgenError("checkpoint not found", path) from None
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, OSError) as e:
        if isinstance(e, IsADirectoryError):
            raise RespgenError("expected a weights.pt file, got a folder", path) from None
        raise RespgenError(f"refusing to load: {_refusal(path, e)}", path) from None
    return convert(obj, path)


def _refusal(path: Path, error: Exception) -> str:
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (RuntimeError, ValueError, OSError, pickle.UnpicklingError):  # not a torch zip file at all
        names = []
    if names:
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        return f"the file pickles objects other than tensors and plain values ({shown})"
    return f"not a readable PyTorch checkpoint ({error.__class__.__name__})"


def convert(obj: object, where: Path | str | None = None) -> ReferenceCheckpoint:
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict) or not isinstance(obj.get("params"), dict):
        raise RespgenError("not a reference DiffWave checkpoint (expected a dict with 'model' and 'params')", where)
    params = convert_params(obj["params"], where)
    weights = convert_weights(obj["model"], params, where)
    step = obj.get("step", 0)
    if not isinstance(step, int) or step < 0:
        raise RespgenError(f"invalid step in the checkpoint: {step!r}", where)
    optimizer = obj.get("optimizer")
    if not _adam_fits(optimizer, weights):
        optimizer = None
    lr = obj["params"].get("learning_rate")
    return ReferenceCheckpoint(step, params, weights, optimizer, float(lr) if isinstance(lr, (int, float)) else None)


def convert_params(ref: dict, where: Path | str | None = None) -> VocoderParams:
    """The reference's params -> ours; refuses what our model or mel front-end cannot reproduce."""
    missing = [k for k in REQUIRED if k not in ref]
    if missing:
        raise RespgenError(f"reference params lack {', '.join(missing)}", where)
    if ref.get("unconditional", False):
        raise RespgenError("unconditional DiffWave (no mel conditioning) cannot be used as a vocoder", where)
    if ref["hop_samples"] != UPSAMPLE:
        raise RespgenError(
            f"hop_samples {ref['hop_samples']} is not supported (the upsampler is fixed at x{UPSAMPLE})", where
        )
    n_fft = ref.get("n_fft", 1024)
    if n_fft != 4 * UPSAMPLE:  # the reference's mel window is 4 * hop; ours is n_fft
        raise RespgenError(
            f"n_fft {n_fft} differs from the reference's mel window ({4 * UPSAMPLE}); its mels cannot be reproduced",
            where,
        )
    betas = _floats(ref["noise_schedule"], "noise_schedule", where)
    if len(betas) < 2 or not np.allclose(betas, np.linspace(betas[0], betas[-1], len(betas)), rtol=1e-6, atol=1e-12):
        raise RespgenError(
            "the reference's training noise schedule is not linear (only linspace schedules are supported)", where
        )
    inference = _floats(ref["inference_noise_schedule"], "inference_noise_schedule", where)
    try:
        params = VocoderParams(
            residual_layers=ref["residual_layers"],
            residual_channels=ref["residual_channels"],
            dilation_cycle=ref["dilation_cycle_length"],
            n_mels=ref["n_mels"],
            hop=UPSAMPLE,
            n_fft=n_fft,
            f_min=20.0,
            f_max=ref["sample_rate"] / 2.0,
            sample_rate=ref["sample_rate"],
            beta_start=float(betas[0]),
            beta_end=float(betas[-1]),
            diffusion_steps=len(betas),
            inference_schedule=tuple(float(b) for b in inference),
            crop_frames=ref.get("crop_mel_frames", 62),
        )
        fast_steps(params, params.inference_schedule)
    except (ValueError, TypeError) as e:  # pydantic's ValidationError is a ValueError
        first = str(e).splitlines()[-1 if isinstance(e, TypeError) else 0]
        raise RespgenError(f"unsupported reference params: {first}", where) from None
    return params


def _floats(values: object, name: str, where: Path | str | None) -> np.ndarray:
    if (
        not isinstance(values, (list, tuple))
        or not values
        or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
    ):
        raise RespgenError(f"reference params: {name} must be a list of numbers", where)
    return np.asarray(values, dtype=np.float64)


def convert_weights(state: dict, params: VocoderParams, where: Path | str | None = None) -> dict[str, torch.Tensor]:
    """The reference state_dict -> ours (same names; a DDP `module.` prefix is dropped), checked
    name by name and shape by shape against a model built from `params`."""
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    expected = DiffWave(params).state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        detail = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise RespgenError(
            f"reference weights do not match its params ({len(missing)} missing, {len(extra)} unexpected; {detail})",
            where,
        )
    out = {}
    for k, ref in expected.items():
        v = state[k]
        if not isinstance(v, torch.Tensor) or not v.is_floating_point() or v.shape != ref.shape:
            got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
            raise RespgenError(f"reference weight {k} is {got}, expected {tuple(ref.shape)}", where)
        out[k] = v.detach().to(torch.float32).contiguous()
    return out


def _adam_fits(opt: object, weights: dict[str, torch.Tensor]) -> bool:
    """The reference's Adam state indexes parameters in registration order, which is ours too."""
    if (
        not isinstance(opt, dict)
        or not isinstance(opt.get("state"), dict)
        or not isinstance(opt.get("param_groups"), list)
    ):
        return False
    shapes = list(weights.values())  # every entry of the state dict is a parameter (no persistent buffers)
    ids = [i for g in opt["param_groups"] if isinstance(g, dict) for i in g.get("params", [])]
    if ids != list(range(len(shapes))):
        return False
    for i, s in opt["state"].items():
        if not isinstance(s, dict) or not isinstance(i, int) or i >= len(shapes):
            return False
        for key in ("exp_avg", "exp_avg_sq"):
            if not isinstance(s.get(key), torch.Tensor) or s[key].shape != shapes[i].shape:
                return False
    return True
