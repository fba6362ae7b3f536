"""`finetune`: AST on real (+ synthetic) cycles; with `--aft`, adversarial fine-tuning aligns real and
synthetic features through a gradient-reversal discriminator: loss = CE(class) + alpha * CE(real/synth)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed
from torch.utils.data import DataLoader, TensorDataset
from transformers import ASTFeatureExtractor

from respgen import __version__
from respgen.atomic import write_json
from respgen.classifier.data import features_for_rows, n_frames, spec_augment
from respgen.classifier.grl import dann_lambda, paper_lambda
from respgen.classifier.metrics import confusion_matrix, icbhi_scores
from respgen.classifier.model import AFTClassifier, load_pretrained_ast
from respgen.classifier.presets import PRESETS
from respgen.config import FinetuneConfig
from respgen.data.manifest import real_rows, synthetic_rows
from respgen.errors import RespgenError
from respgen.labels import CLASSES
from respgen.workspace import Workspace

METRIC_KEYS = ("sp", "se", "score", "accuracy")


@dataclass
class RunData:
    classes: tuple[str, ...]
    train: tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # features, labels, domains (0 real, 1 synthetic)
    evals: dict[str, tuple[torch.Tensor, torch.Tensor]]  # split -> (features, labels)
    counts: dict
    vocoder: list


@dataclass
class FinetuneResult:
    run_dir: str
    metrics: dict
    notes: list[str]

    def to_dict(self) -> dict:
        return {"run_dir": self.run_dir, "notes": self.notes, "metrics": self.metrics}


def load_run_data(cfg: FinetuneConfig, ws: Workspace) -> RunData:
    real = real_rows(ws)
    prep = ws.data / "prepare.json"
    classes = tuple(json.loads(prep.read_text())["classes"]) if prep.is_file() else CLASSES
    train_real = [r for r in real if r["split"] == "train"]
    if not train_real:
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    synthetic: list[dict] = []
    if cfg.synthetic:
        rows = synthetic_rows(ws)
        per_class: dict[str, int] = {}
        for r in sorted(rows, key=lambda r: r["id"]):
            label = r["label"] if r["label"] in classes else ("abnormal" if "abnormal" in classes else None)
            if label is None:
                continue
            if cfg.synthetic_per_class is not None and per_class.get(label, 0) >= cfg.synthetic_per_class:
                continue
            per_class[label] = per_class.get(label, 0) + 1
            synthetic.append({**r, "label": label})
    if cfg.aft and not synthetic:
        raise RespgenError("--aft needs synthetic cycles: run `respgen synth` first (or drop --aft)", ws.synth_manifest)
    index = {c: i for i, c in enumerate(classes)}
    feats = [features_for_rows(ws.manifest, train_real, cfg.length, cfg.pad)]
    if synthetic:
        feats.append(features_for_rows(ws.synth_manifest, synthetic, cfg.length, cfg.pad))
    labels = torch.tensor([index[r["label"]] for r in train_real + synthetic])
    domains = torch.tensor([0] * len(train_real) + [1] * len(synthetic))
    evals = {}
    for split in ("val", "test"):
        rows = [r for r in real if r["split"] == split]
        if rows:
            evals[split] = (features_for_rows(ws.manifest, rows, cfg.length, cfg.pad), torch.tensor([index[r["label"]] for r in rows]))

    def by_class(rows):
        return {c: sum(1 for r in rows if r["label"] == c) for c in classes}

    counts = {"train_real": by_class(train_real), "train_synthetic": by_class(synthetic)}
    counts.update({split: by_class([r for r in real if r["split"] == split]) for split in ("val", "test")})
    vocoders = sorted({json.dumps(r.get("vocoder"), sort_keys=True) for r in synthetic})
    return RunData(classes, (torch.cat(feats), labels, domains), evals, counts, [json.loads(v) for v in vocoders])


def finetune(cfg: FinetuneConfig, progress: Callable[..., None] | None = None) -> FinetuneResult:
    ws = Workspace(cfg.workdir)
    select_on = cfg.select_on
    data = load_run_data(cfg, ws)
    notes: list[str] = []
    if select_on == "val" and "val" not in data.evals:
        select_on = "last"
        notes.append("warning: the workspace has no val split; selecting the last epoch (not test)")
    if select_on == "test":
        notes.append("checkpoint selected on the TEST split (the paper's protocol): test scores are optimistic")
    if cfg.init is None:
        notes.append("warning: no --init: a randomly initialised AST will score poorly on real data; "
                     "start from an AudioSet AST (e.g. --init MIT/ast-finetuned-audioset-10-10-0.4593)")
    accelerator = Accelerator(cpu=cfg.cpu, mixed_precision=cfg.precision)
    main = accelerator.is_main_process
    run = cfg.name or f"{time.strftime('%Y%m%d-%H%M%S')}-{_mode(cfg, data)}"
    name = [_unique(ws.models / run).name]
    broadcast_object_list(name)  # every process agrees on the run name (rank 0's)
    final = ws.models / name[0]
    staging = ws.models / f".{final.name}.partial"
    if main:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir(parents=True)
        except OSError as e:
            raise RespgenError(f"workdir is not writable: {e.strerror or e}", ws.models) from None
    accelerator.wait_for_everyone()
    try:
        per_seed = {}
        for seed in cfg.seeds:
            out = staging if len(cfg.seeds) == 1 else staging / f"seed-{seed}"
            per_seed[seed] = _train_one(cfg, data, seed, select_on, out, notes, accelerator, progress if main else None)
        metrics = per_seed[cfg.seeds[0]] if len(cfg.seeds) == 1 else _summarise(per_seed, select_on)
        if main:
            if len(cfg.seeds) > 1:
                write_json(staging / "metrics.json", metrics)
            staging.rename(final)
            _point_latest(ws.models, final if len(cfg.seeds) == 1 else final / f"seed-{cfg.seeds[0]}")
        accelerator.wait_for_everyone()
    finally:
        if main:
            shutil.rmtree(staging, ignore_errors=True)
    return FinetuneResult(str(final), metrics, notes)


def _mode(cfg: FinetuneConfig, data: RunData) -> str:
    return "aft" if cfg.aft else ("ce-syn" if sum(data.counts["train_synthetic"].values()) else "ce")


def _unique(path: Path) -> Path:
    candidate, k = path, 2
    while candidate.exists():
        candidate, k = path.with_name(f"{path.name}-{k}"), k + 1
    return candidate


def _point_latest(models: Path, target: Path) -> None:
    link = models / "latest"
    tmp = models / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(models), target_is_directory=True)
    os.replace(tmp, link)


def _train_one(cfg: FinetuneConfig, data: RunData, seed: int, select_on: str, out: Path, notes: list[str],
               accelerator: Accelerator, progress) -> dict:
    preset = PRESETS[cfg.preset]
    epochs, batch_size, lr = cfg.epochs or preset.epochs, cfg.batch_size or preset.batch_size, cfg.lr or preset.lr
    ma_beta = cfg.ma_beta if cfg.ma_beta is not None else (0.5 if cfg.lambda_mode == "paper" else 0.0)
    set_seed(seed)
    frames = n_frames(cfg.length)
    config = preset.ast_config(frames, data.classes)
    pretrained = None
    if cfg.init:
        pretrained, note = load_pretrained_ast(cfg.init, config)
        if note not in notes:
            notes.append(note)
    model = AFTClassifier(config, discriminator=cfg.aft, ast=pretrained)
    features, labels, domains = data.train
    loader = DataLoader(TensorDataset(features, labels, domains), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed), drop_last=len(labels) > batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    iters = len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * iters)
    weight = None
    if cfg.class_weights:
        counts = torch.bincount(labels, minlength=len(data.classes)).float().clamp(min=1)
        weight = (counts.sum() / (len(counts) * counts)).to(accelerator.device)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    aug_gen = torch.Generator().manual_seed(seed + 1)
    history, best, best_state = [], None, None
    step = 0
    for epoch in range(epochs):
        model.train()
        totals = {"loss": 0.0, "disc_correct": 0, "n": 0}
        for it, (x, y, d) in enumerate(loader):
            progress_frac = step / max(1, epochs * iters)
            lam = paper_lambda(it, epoch, iters, epochs) if cfg.lambda_mode == "paper" else dann_lambda(progress_frac)
            x = spec_augment(x, cfg.specaug, aug_gen)
            loss, domain = train_step(model, optimizer, scheduler, accelerator, x, y, d, lam,
                                      alpha=cfg.alpha if cfg.aft else 0.0, weight=weight, ma_beta=ma_beta)
            step += 1
            totals["loss"] += float(loss.detach()) * len(y)
            totals["n"] += len(y)
            if domain is not None:
                totals["disc_correct"] += int((domain.argmax(-1) == d).sum())
        unwrapped = accelerator.unwrap_model(model)
        entry = {"epoch": epoch + 1, "loss": totals["loss"] / max(1, totals["n"]), "lr": scheduler.get_last_lr()[0]}
        if cfg.aft:
            entry["disc_acc"] = totals["disc_correct"] / max(1, totals["n"])
        for split, (fx, fy) in data.evals.items():
            entry[split] = evaluate(unwrapped, fx, fy, data.classes, batch_size * 2, accelerator)
        history.append(entry)
        key = entry.get(select_on, {}).get("score") if select_on in ("val", "test") else None
        if select_on == "last" or best is None or (key is not None and key > best[0]):
            best = (key, epoch + 1)
            best_state = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
        if progress:
            shown = entry.get("val") or entry.get("test") or {}
            progress(epoch + 1, epochs, loss=entry["loss"], sp=shown.get("sp", float("nan")), se=shown.get("se", float("nan")),
                     score=shown.get("score", float("nan")))
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.load_state_dict(best_state)
    chosen = history[best[1] - 1]
    metrics = {
        "selected_on": select_on,
        "best_epoch": best[1],
        "classes": list(data.classes),
        **{split: chosen[split] for split in data.evals},
        "history": history,
        "seed": seed,
    }
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        unwrapped.cpu().save(out)
        ASTFeatureExtractor(feature_size=1, sampling_rate=16000, num_mel_bins=128, max_length=frames, do_normalize=True).save_pretrained(out)
        write_json(out / "respgen.json", {
            "respgen_version": __version__,
            "labels": list(data.classes),
            "features": {"sample_rate": 16000, "length": cfg.length, "pad": cfg.pad, "frames": frames, "num_mel_bins": 128},
            "training": {**cfg.model_dump(mode="json"), "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                         "ma_beta": ma_beta, "selected_on": select_on},
            "data": {"counts": data.counts, "vocoder": data.vocoder},
            "notes": notes,
        })
        write_json(out / "metrics.json", metrics)
    accelerator.wait_for_everyone()
    return metrics


def train_step(model, optimizer, scheduler, accelerator: Accelerator, x, y, d, lam: float, alpha: float,
               weight: torch.Tensor | None = None, ma_beta: float = 0.0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimiser step on CE(class) + alpha * CE(real/synthetic) (alpha 0: plain CE)."""
    prev = [p.detach().clone() for p in model.parameters()] if ma_beta > 0 else None
    with accelerator.autocast():
        logits, domain = model(x, lam)
        loss = F.cross_entropy(logits.float(), y, weight=weight)
        if alpha > 0:
            loss = loss + alpha * F.cross_entropy(domain.float(), d)
    accelerator.backward(loss)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    if prev is not None:  # the paper's ma_update: average with the previous step's weights
        with torch.no_grad():
            for p, q in zip(model.parameters(), prev):
                p.mul_(1 - ma_beta).add_(q, alpha=ma_beta)
    return loss, domain


@torch.no_grad()
def evaluate(model: AFTClassifier, features: torch.Tensor, labels: torch.Tensor, classes, batch_size: int, accelerator=None) -> dict:
    model.eval()
    device = next(model.parameters()).device
    preds = []
    for i in range(0, len(labels), batch_size):
        x = features[i : i + batch_size].to(device)
        if accelerator is not None:
            with accelerator.autocast():
                logits, _ = model(x)
        else:
            logits, _ = model(x)
        preds.append(logits.float().argmax(-1).cpu())
    model.train()
    cm = confusion_matrix(labels.numpy(), torch.cat(preds).numpy(), len(classes))
    return icbhi_scores(cm, tuple(classes))


def _summarise(per_seed: dict[int, dict], select_on: str) -> dict:
    """mean ± std of every scalar metric over seeds."""
    out = {"selected_on": select_on, "seeds": list(per_seed), "per_seed": {}, "mean": {}, "std": {}}
    for seed, m in per_seed.items():
        out["per_seed"][seed] = {split: {k: m[split][k] for k in METRIC_KEYS} for split in ("val", "test") if split in m}
    for split in ("val", "test"):
        if all(split in m for m in per_seed.values()):
            for k in METRIC_KEYS:
                values = [m[split][k] for m in per_seed.values()]
                out["mean"].setdefault(split, {})[k] = float(np.mean(values))
                out["std"].setdefault(split, {})[k] = float(statistics.pstdev(values)) if len(values) > 1 else 0.0
    return out
