"""`vocoder train`: DiffWave on the prepared real train cycles, through accelerate
(CPU, one GPU, bf16/fp16, several processes via `accelerate launch` or `torchrun`)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from dataclasses import dataclass
from typing import Callable

import torch
from accelerate import Accelerator
from accelerate.utils import parse_flag_from_env
from safetensors.torch import load_file

from respgen import compute_log
from respgen.accelerator import new_accelerator
from respgen.atomic import check_pointer, staged_dir, write_jsonl
from respgen.audio import write_wav
from respgen.config import VocoderTrainConfig
from respgen.errors import RespgenError
from respgen.lock import locked
from respgen.vocoder.checkpoint import (
    clear_checkpoints,
    latest_checkpoint,
    load_train_state,
    load_weights,
    save_checkpoint,
    set_rng_state,
)
from respgen.vocoder.data import CycleCrops
from respgen.vocoder.diffusion import noise_levels
from respgen.vocoder.evaluation import EvalSet, eval_rows, evaluate, make_eval_set
from respgen.vocoder.fast import make_optimizer, resolve_precision
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS, VocoderParams
from respgen.vocoder.training import StepResult, train_step, update_ema, weights_digest
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
    val_mel_l1: float | None = None  # the last evaluation's mean mel L1 of re-vocoded held-out cycles
    val_mel_l1_noise: float | None = None  # the noise baseline of the same cycles

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class _Run:
    """What every step of one `train_vocoder` run shares."""

    cfg: VocoderTrainConfig
    ws: Workspace
    accelerator: Accelerator
    params: VocoderParams
    model: torch.nn.Module  # prepared by accelerate
    optimizer: torch.optim.Optimizer
    ema: dict[str, torch.Tensor] | None
    data: CycleCrops
    levels: torch.Tensor  # the noise schedule's alpha-bar per training step, on the device
    train_cfg: dict  # what every checkpoint records
    evalset: EvalSet | None  # main process, with `eval_every`
    start: int  # the step this run resumed from
    started: float  # perf_counter() at the start, for steps per second


@locked("vocoder-train")
def train_vocoder(cfg: VocoderTrainConfig, progress: Callable[..., None] | None = None) -> VocoderTrainResult:
    """Train (or resume) the vocoder to `cfg.max_steps`.

    Reads `data/manifest.jsonl` (train cycles, + val with `include_val`) and the latest checkpoint in
    `vocoder/`; writes `vocoder/checkpoints/step-N/` every `save_every` steps (and at the end),
    moves `vocoder/latest` to it, and appends `{step, loss, grad_norm, ...}` to `vocoder/metrics.jsonl`."""
    started = time.perf_counter(), time.process_time()
    run = _start_run(cfg, Workspace(cfg.workdir))
    loss = None
    step = run.start
    val = None
    run.model.train()
    while step < cfg.max_steps:
        result = _optimise(run, step)
        loss = result.loss
        step += 1
        if run.accelerator.is_main_process:
            val = _report(run, step, result, progress, val)
        if step % cfg.save_every == 0 or step == cfg.max_steps:
            _save(run, step)
    if run.accelerator.is_main_process and step > run.start:
        wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
        compute_log.append(run.ws.vocoder, {"steps": step - run.start, "wall_seconds": wall, "cpu_seconds": cpu})
    return _finish(run, step, loss, val)


def _start_run(cfg: VocoderTrainConfig, ws: Workspace) -> _Run:
    """Everything before the first step: the accelerator, the model and optimiser (resumed from the latest
    checkpoint unless `fresh`), the crops, the held-out cycles and the trackers."""
    params = PRESETS[cfg.preset]
    rows = ws.real_rows(("train", "val") if cfg.include_val else ("train",))
    if not rows:
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    precision = resolve_precision(cfg.precision, _device_type(cfg.cpu))
    accelerator = new_accelerator(
        cpu=cfg.cpu, mixed_precision=precision, log_with=_trackers(cfg.log_with) or None, project_dir=ws.vocoder
    )
    check_pointer(ws.vocoder / "latest")  # a real folder there would only fail at the first save
    ckpt = None if cfg.fresh else latest_checkpoint(ws.vocoder)
    imported_from = ckpt.config.get("imported_from") if ckpt is not None else None
    if imported_from:
        params = ckpt.params  # a vocoder brought in by `vocoder import` keeps its own hyper-parameters
    model, optimizer, start, ema = _model(cfg, ws, ckpt, params, accelerator)
    clip_samples = round(cfg.clip_length * params.sample_rate) if cfg.clip_length else None
    data = CycleCrops(ws.manifest, rows, params, clip_samples, cfg.fade_out)
    model, optimizer = accelerator.prepare(model, optimizer)
    levels = noise_levels(params).to(accelerator.device)
    train_cfg = {**cfg.model_dump(mode="json"), "precision": precision}  # what `auto` resolved to
    if imported_from:
        train_cfg["imported_from"] = imported_from  # later resumes keep the imported params
    started = time.perf_counter()
    if accelerator.is_main_process:
        ws.vocoder.mkdir(parents=True, exist_ok=True)
    evalset = _eval_set(cfg, ws, params) if accelerator.is_main_process and cfg.eval_every else None
    if cfg.log_with:
        hparams = {k: v for k, v in train_cfg.items() if isinstance(v, (int, float, str, bool))}
        accelerator.init_trackers("logs", config=hparams)
    return _Run(cfg, ws, accelerator, params, model, optimizer, ema, data, levels, train_cfg, evalset, start, started)


def _model(cfg: VocoderTrainConfig, ws: Workspace, ckpt, params: VocoderParams, accelerator: Accelerator):
    """(model, optimiser, start step, EMA weights or None): a DiffWave of `params` and its optimiser,
    resumed from `ckpt` when there is one."""
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = DiffWave(params)
    optimizer = make_optimizer(model, cfg.lr)
    start, ema = _resume(cfg, ws, ckpt, model, optimizer, accelerator)
    if cfg.ema_decay > 0 and ema is None:
        ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return model, optimizer, start, ema


def _optimise(run: _Run, step: int) -> StepResult:
    """Step `step` -> `step + 1`: this process's batch of crops, one `train_step` with noise seeded by step
    and rank, then the EMA of the weights."""
    cfg, accelerator = run.cfg, run.accelerator
    rank, world = accelerator.process_index, accelerator.num_processes
    audio, mel = (x.to(accelerator.device) for x in run.data.batch(step, cfg.batch_size, rank, world, cfg.seed))
    g = torch.Generator().manual_seed((cfg.seed * 1_000_003 + step) * 64 + rank)
    result = train_step(run.model, run.optimizer, accelerator, audio, mel, run.levels, g, cfg.grad_clip)
    if run.ema is not None:
        update_ema(run.ema, accelerator.unwrap_model(run.model), cfg.ema_decay)
    return result


def _report(
    run: _Run, step: int, result: StepResult, progress: Callable[..., None] | None, val: float | None
) -> float | None:
    """Main process, after `step`: progress; an evaluation every `eval_every` steps; a metrics line every
    `log_every` steps, at the last step and at each evaluation. Returns the latest validation distance."""
    cfg, evalset = run.cfg, run.evalset
    elapsed = time.perf_counter() - run.started
    rate = (step - run.start) / elapsed if elapsed > 0 else 0.0
    if progress:
        progress(step, cfg.max_steps, loss=result.loss, steps_s=rate)
    evaluated = evalset is not None and step % cfg.eval_every == 0
    if evaluated:
        val = _validate(run.ws, run.accelerator, run.model, evalset, step, run.params.sample_rate, cfg.seed)
    if step % cfg.log_every == 0 or step == cfg.max_steps or evaluated:
        entry = {"step": step, "loss": result.loss, "grad_norm": result.grad_norm, "steps_per_s": rate, "lr": cfg.lr}
        if evaluated:
            entry.update(val_mel_l1=val, val_mel_l1_noise=evalset.noise_l1)
        _log_metrics(run, entry)
    return val


def _log_metrics(run: _Run, entry: dict) -> None:
    """Append `entry` to `vocoder/metrics.jsonl`, and send it to the trackers when there are any."""
    if run.cfg.log_with:
        run.accelerator.log({k: v for k, v in entry.items() if k != "step"}, step=entry["step"])
    with open(run.ws.vocoder_metrics, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def _save(run: _Run, step: int) -> None:
    """Checkpoint `step` (weights, optimiser, RNG, EMA) once every process got there; `vocoder/latest` moves to it."""
    accelerator = run.accelerator
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        model = accelerator.unwrap_model(run.model)
        save_checkpoint(run.ws.vocoder, step, model, run.train_cfg, run.optimizer, run.ema, run.cfg.keep)


def _finish(run: _Run, step: int, loss: float | None, val: float | None) -> VocoderTrainResult:
    """Wait for every process, close the trackers; the run's summary."""
    accelerator, evalset = run.accelerator, run.evalset
    accelerator.wait_for_everyone()
    if run.cfg.log_with:
        accelerator.end_training()
    final = latest_checkpoint(run.ws.vocoder)
    return VocoderTrainResult(
        checkpoint=str(final.path) if final else "",
        start_step=run.start,
        step=step,
        loss=loss,
        clips=len(run.data),
        processes=accelerator.num_processes,
        weights_digest=weights_digest(accelerator.unwrap_model(run.model)),
        val_mel_l1=val,
        val_mel_l1_noise=evalset.noise_l1 if evalset is not None and val is not None else None,
    )


KEEP_SAMPLES = 3  # evaluations whose audio samples stay under vocoder/samples/
TRACKER_PACKAGES = {"tensorboard": "tensorboard"}  # tracker -> module, when it is not the tracker's own name


def _trackers(names: list[str]) -> list[str]:
    """The `--log-with` trackers, each checked to be installed (one clear error, not accelerate's warning)."""
    for name in names:
        module = TRACKER_PACKAGES.get(name, name)
        if importlib.util.find_spec(module) is None:
            hint = "pip install 'respgen[tensorboard]'" if name == "tensorboard" else f"pip install {module}"
            raise RespgenError(f"--log-with {name} needs the {module} package: {hint}")
    return list(names)


def _eval_set(cfg: VocoderTrainConfig, ws: Workspace, params) -> EvalSet:
    """The held-out cycles re-vocoded at every evaluation: val cycles when there is a val split (and it is
    not trained on), else a fixed sample of train."""
    val = [] if cfg.include_val else ws.real_rows(("val",))
    rows = eval_rows(val or ws.real_rows(("train",)), cfg.eval_clips, cfg.seed)
    return make_eval_set(ws.manifest, rows, params, cfg.eval_seconds)


def _validate(
    ws: Workspace, accelerator: Accelerator, model, evalset: EvalSet, step: int, sample_rate: int, seed: int
) -> float:
    """Re-vocode the held-out cycles; keep their audio as `vocoder/samples/step-N/<id>.wav` (the last
    KEEP_SAMPLES evaluations) and send it to a TensorBoard tracker when there is one."""
    distance, audio = evaluate(accelerator.unwrap_model(model), evalset, accelerator.device, seed)
    root = ws.vocoder / "samples"
    with staged_dir(root / f"step-{step}") as staging:
        for cid, wave in zip(evalset.ids, audio):
            write_wav(staging / f"{cid}.wav", wave, sample_rate)
    done = sorted((p for p in root.glob("step-*") if p.name[5:].isdigit()), key=lambda p: int(p.name[5:]))
    for old in done[:-KEEP_SAMPLES]:
        shutil.rmtree(old, ignore_errors=True)
    if any(t.name == "tensorboard" for t in accelerator.trackers):
        writer = accelerator.get_tracker("tensorboard", unwrap=True)
        for cid, wave in zip(evalset.ids, audio):
            writer.add_audio(f"val/{cid}", wave.unsqueeze(0), step, sample_rate=sample_rate)
    return distance


def _device_type(cpu: bool) -> str:
    """The device accelerate will pick (asked before creating the Accelerator, whose precision depends on it)."""
    forced = cpu or parse_flag_from_env("ACCELERATE_USE_CPU")
    return "cuda" if torch.cuda.is_available() and not forced else "cpu"


def _resume(cfg: VocoderTrainConfig, ws: Workspace, ckpt, model: DiffWave, optimizer, accelerator: Accelerator):
    """(start step, EMA weights or None): checkpoint `ckpt`'s state loaded into `model` and
    `optimizer`, or a clean start when it is None (`--fresh` forgets earlier checkpoints)."""
    if ckpt is None:
        if cfg.fresh and accelerator.is_main_process:
            clear_checkpoints(ws.vocoder)
            ws.vocoder_metrics.unlink(missing_ok=True)
        return 0, None
    if ckpt.params != model.params:
        raise RespgenError(
            "the vocoder in the workdir was trained with other settings (preset differs); pass --fresh to start over",
            ckpt.path,
        )
    load_weights(model, ckpt.path / "model.safetensors")
    state = load_train_state(ckpt.path)
    try:
        optimizer.load_state_dict(state["optimizer"])
        for group in optimizer.param_groups:  # the saved state carries the old run's lr: --lr wins
            group["lr"] = cfg.lr
        set_rng_state(state["rng"])
        step = int(state["step"])
    except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:
        raise RespgenError(
            f"training state does not fit this vocoder ({e.__class__.__name__}); pass --fresh to start over",
            ckpt.path / "state.pt",
        ) from None
    ema = load_file(str(ckpt.path / "ema.safetensors")) if (ckpt.path / "ema.safetensors").is_file() else None
    if accelerator.is_main_process:
        _drop_metrics_after(ws.vocoder_metrics, step)
    return step, ema


def _drop_metrics_after(path, step: int) -> None:
    """Resuming from `step`: the lines a killed run logged after its last checkpoint are logged again by
    this one, so drop them (and a line cut short by the kill), atomically."""
    if not path.is_file():
        return
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= step:
            rows.append(row)
    write_jsonl(path, rows)
