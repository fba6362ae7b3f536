"""`vocoder train`: DiffWave on the prepared real train cycles, through accelerate
(CPU, one GPU, bf16/fp16, several processes via `accelerate launch` or `torchrun`)."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from respgen.config import VocoderTrainConfig
from respgen.data.manifest import real_rows
from respgen.errors import RespgenError
from respgen.vocoder.checkpoint import latest_checkpoint, load_train_state, load_weights, save_checkpoint, set_rng_state
from respgen.vocoder.data import CycleCrops
from respgen.vocoder.diffusion import noise_levels
from respgen.vocoder.fast import make_optimizer
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS
from respgen.workspace import Workspace


@dataclass
class VocoderTrainResult:
    checkpoint: str
    start_step: int
    step: int
    loss: float | None
    clips: int
    processes: int
    weights_digest: str  # sha256 of this process's final weights (identical on every DDP rank)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def train_vocoder(cfg: VocoderTrainConfig, progress: Callable[..., None] | None = None) -> VocoderTrainResult:
    ws = Workspace(cfg.workdir)
    params = PRESETS[cfg.preset]
    splits = ("train", "val") if cfg.include_val else ("train",)
    rows = real_rows(ws, splits)
    if not rows:
        raise RespgenError("no real train cycles in the manifest", ws.manifest)

    accelerator = Accelerator(cpu=cfg.cpu, mixed_precision=cfg.precision)
    rank, world = accelerator.process_index, accelerator.num_processes
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = DiffWave(params)
    optimizer = make_optimizer(model, cfg.lr)
    ema: dict[str, torch.Tensor] | None = None

    start = 0
    ckpt = None if cfg.fresh else latest_checkpoint(ws.vocoder)
    if ckpt is not None:
        if ckpt.params != params:
            raise RespgenError(
                "the vocoder in the workdir was trained with other settings (preset differs); pass --fresh to start over",
                ckpt.path,
            )
        load_weights(model, ckpt.path / "model.safetensors")
        state = load_train_state(ckpt.path)
        optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        start = int(state["step"])
        if (ckpt.path / "ema.safetensors").is_file():
            from safetensors.torch import load_file

            ema = load_file(str(ckpt.path / "ema.safetensors"))
    elif cfg.fresh and accelerator.is_main_process:
        shutil.rmtree(ws.vocoder / "checkpoints", ignore_errors=True)
        (ws.vocoder / "latest").unlink(missing_ok=True)
        (ws.vocoder / "metrics.jsonl").unlink(missing_ok=True)
    if cfg.ema_decay > 0 and ema is None:
        ema = {k: v.detach().clone() for k, v in model.state_dict().items()}

    data = CycleCrops(ws.manifest, rows, params)
    model, optimizer = accelerator.prepare(model, optimizer)
    levels = noise_levels(params).to(accelerator.device)
    train_cfg = cfg.model_dump(mode="json")
    loss_value = None
    step = start
    t0 = time.perf_counter()
    if accelerator.is_main_process:
        ws.vocoder.mkdir(parents=True, exist_ok=True)
    model.train()
    while step < cfg.max_steps:
        audio, mel = (x.to(accelerator.device) for x in data.batch(step, cfg.batch_size, rank, world, cfg.seed))
        g = torch.Generator().manual_seed((cfg.seed * 1_000_003 + step) * 64 + rank)
        t = torch.randint(0, params.diffusion_steps, (audio.shape[0],), generator=g).to(accelerator.device)
        noise = torch.randn(audio.shape, generator=g).to(accelerator.device)
        scale = levels[t].unsqueeze(1)
        noisy = scale.sqrt() * audio + (1 - scale).sqrt() * noise
        with accelerator.autocast():
            predicted = model(noisy, t, mel)
        loss = F.l1_loss(predicted.float(), noise)
        accelerator.backward(loss)
        if cfg.grad_clip:
            accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        if ema is not None:
            _update_ema(ema, accelerator.unwrap_model(model), cfg.ema_decay)
        loss_value = float(accelerator.reduce(loss.detach(), reduction="mean"))
        if accelerator.is_main_process:
            elapsed = time.perf_counter() - t0
            rate = (step - start) / elapsed if elapsed > 0 else 0.0
            if progress:
                progress(step, cfg.max_steps, loss=loss_value, steps_s=rate)
            if step % cfg.log_every == 0 or step == cfg.max_steps:
                with open(ws.vocoder / "metrics.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": step, "loss": loss_value, "steps_per_s": rate, "lr": cfg.lr}) + "\n")
        if step % cfg.save_every == 0 or step == cfg.max_steps:
            accelerator.wait_for_everyone()
            if accelerator.is_main_process:
                save_checkpoint(ws.vocoder, step, accelerator.unwrap_model(model), train_cfg, optimizer, ema, cfg.keep)
    accelerator.wait_for_everyone()
    final = latest_checkpoint(ws.vocoder)
    unwrapped = accelerator.unwrap_model(model)
    digest = hashlib.sha256()
    for k, v in sorted(unwrapped.state_dict().items()):
        digest.update(k.encode() + v.detach().cpu().contiguous().numpy().tobytes())
    return VocoderTrainResult(
        checkpoint=str(final.path) if final else "",
        start_step=start,
        step=step,
        loss=loss_value,
        clips=len(data),
        processes=world,
        weights_digest=digest.hexdigest()[:16],
    )


@torch.no_grad()
def _update_ema(ema: dict[str, torch.Tensor], model: torch.nn.Module, decay: float) -> None:
    for k, v in model.state_dict().items():
        v = v.detach().to(ema[k].device)
        if v.is_floating_point():
            ema[k].mul_(decay).add_(v, alpha=1 - decay)
        else:
            ema[k].copy_(v)
