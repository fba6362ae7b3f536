"""`finetune`: AST on real (+ synthetic) cycles; with `--aft`, fine-tuning aligns real and synthetic
features (`--adversary`: the paired Mahalanobis loss by default, domain confusion, or the paper's
gradient reversal against a real/synthetic discriminator). Every run with synthetic cycles is scored
for alignment afterwards by a fresh probe (classifier.probe)."""

from __future__ import annotations

import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed

from respgen.accelerator import new_accelerator
from respgen.atomic import check_pointer, point_latest, staged_dir
from respgen.classifier.adversary import AdversarySettings
from respgen.classifier.data import n_frames
from respgen.classifier.dataset import RunData, assemble, pick_synthetic
from respgen.classifier.model import AFTClassifier, load_pretrained_ast
from respgen.classifier.presets import PRESETS
from respgen.classifier.probe import alignment, pooled_features
from respgen.classifier.store import FeatureSpec, save_model_dir, write_metrics
from respgen.classifier.training import TrainSettings, summarise, train_classifier
from respgen.config import FinetuneConfig
from respgen.errors import RespgenError
from respgen.fidelity import class_summary, noise_like, rows_fidelity
from respgen.lock import locked
from respgen.workspace import Workspace


@dataclass
class FinetuneResult:
    run_dir: str
    metrics: dict
    notes: list[str]

    def to_dict(self) -> dict:
        return {"run_dir": self.run_dir, "notes": self.notes, "metrics": self.metrics}


@locked("finetune")
def finetune(cfg: FinetuneConfig, progress: Callable[..., None] | None = None) -> FinetuneResult:
    """Fine-tune one model per seed and keep it as `models/<run>/` (`models/<run>/seed-N/` for several).

    Reads `data/manifest.jsonl` (+ `data/prepare.json` for the classes) and, unless `--no-synthetic`,
    `synth/manifest.jsonl`; writes the run folder (built in staging, renamed into place when every
    seed is done: see `classifier.store` for its files) and moves `models/latest` to it."""
    ws = Workspace(cfg.workdir)
    if cfg.name == ws.models_latest.name:
        raise RespgenError(f"--name {cfg.name!r} is reserved for the pointer to the newest run", ws.models_latest)
    check_pointer(ws.models_latest)  # before training, not after: a real folder named `latest` is never replaced
    data = load_run_data(cfg, ws)
    select_on, notes = _selection(cfg, data)
    notes += synthetic_fidelity_notes(cfg, ws)
    accelerator = new_accelerator(cpu=cfg.cpu, mixed_precision=cfg.precision)
    main = accelerator.is_main_process
    name = [_unique(ws.models, cfg.name or f"{time.strftime('%Y%m%d-%H%M%S')}-{_mode(cfg, data)}")]
    broadcast_object_list(name)  # every process agrees on the run name (rank 0's)
    final = ws.model_run(name[0])
    with staged_dir(final, replace=False) if main else nullcontext() as staging:
        per_seed = {}
        for seed in cfg.seeds:
            out = None if staging is None else (staging if len(cfg.seeds) == 1 else staging / f"seed-{seed}")
            per_seed[seed] = _train_one(cfg, data, seed, select_on, out, notes, accelerator, progress if main else None)
        metrics = (
            per_seed[cfg.seeds[0]]
            if len(cfg.seeds) == 1
            else summarise_alignment(summarise(per_seed, select_on), per_seed)
        )
        if staging is not None and len(cfg.seeds) > 1:
            write_metrics(staging, metrics)
    if main:
        point_latest(ws.models_latest, final if len(cfg.seeds) == 1 else final / f"seed-{cfg.seeds[0]}")
    accelerator.wait_for_everyone()
    return FinetuneResult(str(final), metrics, notes)


def adversary_settings(cfg: FinetuneConfig) -> AdversarySettings:
    """The AFT adversary of a config, its defaults resolved (disc_steps: 0 for grl, else 1)."""
    steps = cfg.disc_steps if cfg.disc_steps is not None else (0 if cfg.adversary == "grl" else 1)
    return AdversarySettings(
        kind=cfg.adversary,
        disc_lr=cfg.disc_lr,
        disc_steps=steps,
        disc_hidden=cfg.disc_hidden,
        warmup=cfg.align_warmup,
        ramp=cfg.align_ramp,
    )


def resolved_alpha(cfg: FinetuneConfig) -> float:
    """The alignment loss weight: --alpha, else 0.1 for mahalanobis (measured on the distortion testbed:
    0.2 collapses the minority classes there) and the paper's 0.2 for the adversarial kinds."""
    if cfg.alpha is not None:
        return cfg.alpha
    return 0.1 if cfg.adversary == "mahalanobis" else 0.2


def summarise_alignment(summary: dict, per_seed: dict[int, dict]) -> dict:
    """Add to a multi-seed summary: mean ± std of the per-class test accuracy (`test_per_class`:
    {class: [mean, std]}) and of the probe accuracy (with the mean Fréchet distance per class)."""
    if all("test" in m for m in per_seed.values()):
        first = next(iter(per_seed.values()))
        summary["test_per_class"] = {}
        for c in first["test"]["per_class"]:
            values = [m["test"]["per_class"][c] for m in per_seed.values() if m["test"]["per_class"][c] is not None]
            summary["test_per_class"][c] = (
                [float(sum(values) / len(values)), float(statistics.pstdev(values))] if values else [None, None]
            )
    aligned = [m["alignment"] for m in per_seed.values() if "alignment" in m]
    probes = [a["probe_acc"] for a in aligned if a["probe_acc"] is not None]
    if not aligned:
        return summary
    frechet = {}
    for c in aligned[0]["frechet"]:
        values = [a["frechet"][c] for a in aligned if a["frechet"].get(c) is not None]
        frechet[c] = float(sum(values) / len(values)) if values else None
    summary["alignment"] = {
        "probe_acc": float(sum(probes) / len(probes)) if probes else None,
        "probe_acc_std": float(statistics.pstdev(probes)) if len(probes) > 1 else 0.0,
        "frechet": frechet,
        "per_seed": {seed: m["alignment"]["probe_acc"] for seed, m in per_seed.items() if "alignment" in m},
    }
    return summary


def load_run_data(cfg: FinetuneConfig, ws: Workspace) -> RunData:
    """The run's tensors from the workspace manifests (synthetic cycles capped per class)."""
    classes = ws.classes()
    real = ws.real_rows()
    if not any(r["split"] == "train" for r in real):
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    synthetic = pick_synthetic(ws.synthetic_rows(), classes, cfg.synthetic_per_class) if cfg.synthetic else []
    if cfg.aft and not synthetic:
        raise RespgenError("--aft needs synthetic cycles: run `respgen synth` first (or drop --aft)", ws.synth_manifest)
    data = assemble(
        classes,
        ws.manifest,
        real,
        ws.synth_manifest,
        synthetic,
        cfg.length,
        cfg.pad,
        fade_out=cfg.fade_samples,
        synthetic_fit=cfg.synthetic_fit,
    )
    if cfg.aft and cfg.adversary == "mahalanobis" and not bool((data.sources >= 0).any()):
        raise RespgenError(
            "--adversary mahalanobis needs synthetic cycles whose conditioned_on names a real train cycle "
            "(re-vocoded by `respgen synth`); use --adversary confusion for these",
            ws.synth_manifest,
        )
    return data


def _selection(cfg: FinetuneConfig, data: RunData) -> tuple[str, list[str]]:
    notes: list[str] = []
    select_on = cfg.select_on
    if select_on == "val" and "val" not in data.evals:
        select_on = "last"
        notes.append("warning: the workspace has no val split; selecting the last epoch (not test)")
    if select_on == "test":
        notes.append("checkpoint selected on the TEST split (the paper's protocol): test scores are optimistic")
    if cfg.init is None:
        notes.append(
            "warning: no --init: a randomly initialised AST will score poorly on real data; "
            "start from an AudioSet AST (e.g. --init MIT/ast-finetuned-audioset-10-10-0.4593)"
        )
    return select_on, notes


def synthetic_fidelity_notes(cfg: FinetuneConfig, ws: Workspace) -> list[str]:
    """One warning when the synthetic cycles this run trains on are, for some class, no closer to the real
    cycles they were conditioned on than loudness-matched noise (`respgen.fidelity`)."""
    if not cfg.synthetic:
        return []
    rows = pick_synthetic(ws.synthetic_rows(), ws.classes(), cfg.synthetic_per_class)
    if not rows:
        return []
    real = {r["id"]: r for r in ws.real_rows(("train",))}
    summary = class_summary(rows_fidelity(ws.synth_manifest, rows, ws.manifest, real), ws.classes())
    bad = noise_like(summary)
    if not bad:
        return []
    detail = ", ".join(f"{c} {summary[c]['mel_l1']:.3f} vs noise {summary[c]['mel_l1_noise']:.3f}" for c in bad)
    return [
        f"warning: the synthetic cycles are noise-like (log-mel L1 to their conditioning no better than noise: "
        f"{detail}); train the vocoder longer (e.g. --preset demo on the demo data) before relying on them"
    ]


def _mode(cfg: FinetuneConfig, data: RunData) -> str:
    return "aft" if cfg.aft else ("ce-syn" if sum(data.counts["train_synthetic"].values()) else "ce")


def _unique(models: Path, name: str) -> str:
    candidate, k = name, 2
    while (models / candidate).exists() or (models / candidate).is_symlink():
        candidate, k = f"{name}-{k}", k + 1
    return candidate


def _train_one(
    cfg: FinetuneConfig,
    data: RunData,
    seed: int,
    select_on: str,
    out: Path | None,
    notes: list[str],
    accelerator: Accelerator,
    progress,
) -> dict:
    preset = PRESETS[cfg.preset]
    settings = TrainSettings(
        epochs=cfg.epochs or preset.epochs,
        batch_size=cfg.batch_size or preset.batch_size,
        lr=cfg.lr or preset.lr,
        weight_decay=cfg.weight_decay,
        aft=cfg.aft,
        alpha=resolved_alpha(cfg),
        lambda_mode=cfg.lambda_mode,
        ma_beta=cfg.ma_beta if cfg.ma_beta is not None else (0.5 if cfg.lambda_mode == "paper" else 0.0),
        specaug=cfg.specaug,
        class_weights=cfg.class_weights,
        specaug_mode=cfg.specaug_mode,
        lr_schedule=cfg.lr_schedule,
        lr_min_factor=cfg.lr_min_factor,
        min_se=cfg.min_se,
    )
    set_seed(seed)
    spec = FeatureSpec(
        sample_rate=16000, length=cfg.length, pad=cfg.pad, frames=n_frames(cfg.length), fade_out=cfg.fade_samples
    )
    config = preset.ast_config(spec.frames, data.classes)
    pretrained = None
    if cfg.init:
        pretrained, note = load_pretrained_ast(cfg.init, config, cfg.pos_embed)
        if note not in notes:
            notes.append(note)
    adversary = adversary_settings(cfg)
    model = AFTClassifier(config, discriminator=cfg.aft, ast=pretrained, disc_hidden=adversary.disc_hidden)
    metrics = train_classifier(model, data, settings, seed, select_on, accelerator, progress, adversary=adversary)
    features, labels, domains = data.train
    if int(domains.sum()) > 0:  # alignment of real and synthetic train features, by a fresh probe
        pooled = pooled_features(accelerator.unwrap_model(model), features, settings.batch_size * 2)
        metrics["alignment"] = alignment(pooled, domains.numpy(), labels.numpy(), data.classes, seed=0)
    if out is not None:
        training = {
            **cfg.model_dump(mode="json"),
            "seed": seed,
            "epochs": settings.epochs,
            "batch_size": settings.batch_size,
            "lr": settings.lr,
            "ma_beta": settings.ma_beta,
            "alpha": settings.alpha,
            "selected_on": select_on,
            "disc_steps": adversary.disc_steps,
        }
        save_model_dir(
            out,
            model.cpu(),
            list(data.classes),
            spec,
            training,
            {"counts": data.counts, "vocoder": data.vocoder},
            notes,
            metrics,
        )
    accelerator.wait_for_everyone()
    return metrics
