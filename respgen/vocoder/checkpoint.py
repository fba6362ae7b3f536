"""The vocoder folder's one owner: `<dir>/checkpoints/step-<N>/` with safetensors weights, the config as
JSON and the training state (`state.pt`, tensors and plain values only, loaded with weights_only=True),
and `<dir>/latest`, a symlink to the newest checkpoint. A checkpoint is built in private staging and
renamed into place before the pointer moves: a killed run never leaves a half-written one visible."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from respgen.atomic import point_latest, read_latest, staged_dir
from respgen.errors import RespgenError
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import VocoderParams


@dataclass
class Checkpoint:
    path: Path
    step: int
    params: VocoderParams
    config: dict

    @property
    def weights(self) -> Path:
        """EMA weights when the run kept them, else the raw weights."""
        ema = self.path / "ema.safetensors"
        return ema if ema.is_file() else self.path / "model.safetensors"

    def digest(self) -> str:
        return hashlib.sha256(self.weights.read_bytes()).hexdigest()[:12]


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2])},
        "python": [int(x) for x in random.getstate()[1]],
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", state["numpy"]["keys"].numpy().astype(np.uint32), state["numpy"]["pos"], 0, 0.0))
    random.setstate((3, tuple(state["python"]), None))


def save_checkpoint(
    root: Path,
    step: int,
    model: DiffWave,
    config: dict,
    optimizer: torch.optim.Optimizer,
    ema: dict[str, torch.Tensor] | None,
    keep: int,
) -> Path:
    ckpt_dir = root / "checkpoints"
    final = ckpt_dir / f"step-{step:08d}"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    with staged_dir(final) as tmp:
        weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / "model.safetensors"), metadata={"step": str(step)})
        if ema is not None:
            save_file(
                {k: v.cpu().contiguous() for k, v in ema.items()},
                str(tmp / "ema.safetensors"),
                metadata={"step": str(step)},
            )
        torch.save({"step": step, "optimizer": optimizer.state_dict(), "rng": rng_state()}, tmp / "state.pt")
        (tmp / "config.json").write_text(
            json.dumps({"step": step, "params": model.params.model_dump(), "train": config}, indent=2)
        )
    point_latest(root / "latest", final)
    for old in sorted(p for p in ckpt_dir.glob("step-*") if p.name != final.name)[: -(keep - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def clear_checkpoints(root: Path) -> None:
    """Forget every checkpoint (`vocoder train --fresh`)."""
    shutil.rmtree(root / "checkpoints", ignore_errors=True)
    (root / "latest").unlink(missing_ok=True)


def latest_checkpoint(root: Path) -> Checkpoint | None:
    pointer = root / "latest"
    if pointer.is_symlink():
        path = read_latest(pointer)
    elif pointer.is_dir():  # a copy of the workspace that followed the link: the checkpoint itself
        path = pointer
    elif pointer.is_file():  # the pointer of respgen 0.1: a text file naming the checkpoint
        path = root / "checkpoints" / pointer.read_text().strip()
    else:
        return None
    try:
        meta = json.loads((path / "config.json").read_text())
        params = VocoderParams(**meta["params"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RespgenError(f"unreadable vocoder checkpoint: {e.__class__.__name__}", path) from None
    return Checkpoint(path, int(meta["step"]), params, meta.get("train", {}))


def load_weights(model: DiffWave, path: Path) -> None:
    """Load safetensors weights, refusing a checkpoint whose shapes or names do not fit the model."""
    try:
        state = load_file(str(path))
    except (OSError, SafetensorError) as e:
        raise RespgenError(f"unreadable vocoder weights: {e}", path) from None
    expected = model.state_dict()
    if state.keys() != expected.keys() or any(state[k].shape != expected[k].shape for k in state):
        raise RespgenError("vocoder checkpoint does not match its config (incompatible weights)", path)
    model.load_state_dict(state)


TRAIN_STATE_KEYS = ("step", "optimizer", "rng")


def load_train_state(path: Path) -> dict:
    """`state.pt` of a checkpoint: {step, optimizer, rng}; a RespgenError for anything else."""
    import warnings

    try:
        with warnings.catch_warnings():  # torch's pickle warnings are not for our users
            warnings.simplefilter("ignore")
            state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    except Exception as e:  # a corrupt or foreign file: never unpickle arbitrary objects
        raise RespgenError(f"unreadable training state: {e.__class__.__name__}", path / "state.pt") from None
    missing = [k for k in TRAIN_STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise RespgenError(
            f"training state lacks {', '.join(missing)} (not written by respgen? pass --fresh to start over)",
            path / "state.pt",
        )
    return state


def load_vocoder(root: Path) -> tuple[DiffWave, Checkpoint]:
    ckpt = latest_checkpoint(root)
    if ckpt is None:
        raise RespgenError("no trained vocoder in the workdir (run `respgen vocoder train` first)", root)
    model = DiffWave(ckpt.params)
    load_weights(model, ckpt.weights)
    return model.eval(), ckpt
