"""`finetune`: AST on real (+ synthetic) cycles; with `--aft`, fine-tuning aligns real and synthetic
features (`--adversary`: the paired loss by default, or the paper's gradient reversal against a
real/synthetic discriminator; classifier.alignment). Every run with synthetic cycles is scored for
alignment afterwards by a fresh probe (classifier.probe)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed

from respgen.accelerator import new_accelerator
from respgen.arms import run_mode
from respgen.atomic import check_pointer, point_latest, staged_dir
from respgen.classifier.alignment import Alignment
from respgen.classifier.data import n_frames
from respgen.classifier.dataset import RunData, assemble, pick_synthetic
from respgen.classifier.feature_store import FeatureStore
from respgen.classifier.metrics import subset_scores
from respgen.classifier.model import AFTClassifier, load_pretrained_ast
from respgen.classifier.predictions import EvalPredictions
from respgen.classifier.presets import PRESETS
from respgen.classifier.probe import alignment, pooled_features
from respgen.classifier.run_record import RunRecord, SeedRecord, seed_dir
from respgen.classifier.store import FeatureSpec, save_model_dir
from respgen.classifier.training import TrainSettings, train_classifier
from respgen.config import FinetuneConfig, resolve_finetune
from respgen.disk_memo import file_fingerprint
from respgen.errors import RespgenError
from respgen.fidelity import class_summary, rows_fidelity
from respgen.lock import locked
from respgen.noise_like import noise_like
from respgen.sample_rate import SAMPLE_RATE
from respgen.workspace import Workspace


@dataclass
class FinetuneResult:
    run_dir: str
    record: RunRecord
    notes: list[str]
    seconds: dict[str, float] = field(default_factory=dict)  # {"features", "training"} wall time
    features_computed: int = 0  # clips whose features were computed (not read from the feature cache)

    @property
    def metrics(self) -> dict:
        """The run's metrics.json: the seed's record (one seed) or the summary over seeds."""
        return self.record.to_metrics_json()

    def to_dict(self) -> dict:
        return {
            "run_dir": self.run_dir,
            "notes": self.notes,
            "metrics": self.metrics,
            "seconds": self.seconds,
            "features_computed": self.features_computed,
        }


@locked("finetune")
def finetune(cfg: FinetuneConfig, progress: Callable[..., None] | None = None) -> FinetuneResult:
    """Fine-tune one model per seed and keep it as `models/<run>/` (`models/<run>/seed-N/` for several).

    Reads `data/manifest.jsonl` (+ `data/prepare.json` for the classes) and, unless `--no-synthetic`,
    a synthetic set's manifest (`--synthetic-set`); writes the run folder (built in staging, renamed
    into place when every seed is done: see `classifier.store` for its files) and moves `models/latest`
    to it. A run whose loss stops being finite raises `TrainingDiverged` (exit 3) and writes nothing."""
    cfg = resolve_finetune(cfg)
    ws = Workspace(cfg.workdir)
    if cfg.name == ws.models_latest.name:
        raise RespgenError(f"--name {cfg.name!r} is reserved for the pointer to the newest run", ws.models_latest)
    check_pointer(ws.models_latest)  # before training, not after: a real folder named `latest` is never replaced
    t0 = time.perf_counter()
    store = FeatureStore(ws.feature_cache, ws.root) if cfg.data.feature_cache else None
    data, set_name = load_run_data(cfg, ws, store)
    seconds = {"features": time.perf_counter() - t0}
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"synthetic_set": set_name})})  # recorded
    select_on, notes = _selection(cfg, data)
    if set_name is not None:
        notes += synthetic_fidelity_notes(cfg, ws, set_name)
    accelerator = new_accelerator(cpu=cfg.model.cpu, mixed_precision=cfg.model.precision)
    main = accelerator.is_main_process
    wanted = cfg.name or f"{time.strftime('%Y%m%d-%H%M%S')}-{_mode(cfg, data)}"
    name = [_unique(ws.models, wanted)]
    broadcast_object_list(name)  # every process agrees on the run name (rank 0's)
    if name[0] != wanted and cfg.name is not None:
        notes.insert(0, f"note: a run named {wanted!r} exists; this run is {name[0]!r}")
        if progress is not None and main:
            progress(0, cfg.optim.epochs, run=name[0])
    final = ws.model_run(name[0])
    t0 = time.perf_counter()
    with staged_dir(final, replace=False) if main else nullcontext() as staging:
        per_seed = {}
        for seed in cfg.seeds:
            out = None if staging is None else seed_dir(staging, cfg.seeds, seed)
            per_seed[seed] = _train_one(cfg, data, seed, select_on, out, notes, accelerator, progress if main else None)
        record = RunRecord.of(per_seed)
        if staging is not None and len(cfg.seeds) > 1:
            record.write(staging)
    if main:
        point_latest(ws.models_latest, seed_dir(final, cfg.seeds))
    accelerator.wait_for_everyone()
    seconds["training"] = time.perf_counter() - t0
    computed = (
        store.computed
        if store is not None
        else sum(len(x) for x in (data.train[0], *(f for f, _ in data.evals.values())))
    )
    return FinetuneResult(str(final), record, notes, seconds, computed)


def alignment_of(cfg: FinetuneConfig) -> Alignment | None:
    """The AFT alignment of a resolved config (None without --aft)."""
    a = cfg.alignment
    if not a.aft:
        return None
    return Alignment(a.adversary, a.alpha, a.lambda_mode, a.align_warmup, a.align_ramp)


def load_run_data(cfg: FinetuneConfig, ws: Workspace, store: FeatureStore | None = None) -> tuple[RunData, str | None]:
    """The run's data from the workspace manifests (synthetic cycles capped per class, or with
    `oversample` as many copies of real minority cycles), and the synthetic set used (None: none).
    `store`: the feature store the features come from (None: computed into memory)."""
    classes = ws.classes()
    real = ws.real_rows()
    if not any(r["split"] == "train" for r in real):
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    d = cfg.data
    set_name = d.synthetic_set or (ws.default_synthetic_set() if d.synthetic or d.oversample else None)
    synthetic: list[dict] = []
    syn_manifest = ws.synth_manifest
    if set_name is not None and (d.synthetic or d.oversample):
        syn_set = ws.synthetic_set(set_name, must_exist=d.synthetic_set is not None or d.oversample)
        syn_manifest = syn_set.manifest
        synthetic = pick_synthetic(syn_set.rows(require_audio=True), classes, d.synthetic_per_class)
    oversample = None
    if d.oversample:
        if not synthetic:
            raise RespgenError(
                "--oversample repeats real cycles to a synthetic set's per-class counts: run `respgen synth` first"
            )
        oversample = {c: sum(1 for r in synthetic if r["label"] == c) for c in classes}
        synthetic = []
    if cfg.alignment.aft and not synthetic:
        raise RespgenError("--aft needs synthetic cycles: run `respgen synth` first (or drop --aft)", syn_manifest)
    data = assemble(
        classes,
        ws.manifest,
        real,
        syn_manifest,
        synthetic,
        d.length,
        d.pad,
        fade_out=cfg.paper.fade_out,
        synthetic_fit=cfg.paper.synthetic_fit,
        oversample=oversample,
        store=store,
    )
    if cfg.alignment.aft and cfg.alignment.adversary == "paired" and not bool((data.sources >= 0).any()):
        raise RespgenError(
            "--adversary paired needs synthetic cycles whose conditioned_on names a real train cycle "
            "(re-vocoded by `respgen synth`); use --adversary grl for these",
            syn_manifest,
        )
    return data, set_name if synthetic or oversample else None


def _selection(cfg: FinetuneConfig, data: RunData) -> tuple[str, list[str]]:
    notes: list[str] = []
    select_on = cfg.selection.select_on
    if select_on == "val" and "val" not in data.evals:
        select_on = "last"
        notes.append("warning: the workspace has no val split; selecting the last epoch (not test)")
    if select_on == "test":
        notes.append("checkpoint selected on the TEST split (the paper's protocol): test scores are optimistic")
    if cfg.model.init is None:
        notes.append(
            "warning: no --init: a randomly initialised AST will score poorly on real data; "
            "start from an AudioSet AST (e.g. --init MIT/ast-finetuned-audioset-10-10-0.4593)"
        )
    return select_on, notes


def synthetic_fidelity_notes(cfg: FinetuneConfig, ws: Workspace, set_name: str) -> list[str]:
    """One warning when the synthetic cycles this run trains on are, for some class, no closer to the real
    cycles they were conditioned on than loudness-matched noise (`respgen.fidelity`)."""
    if not cfg.data.synthetic:
        return []
    syn_set = ws.synthetic_set(set_name)
    rows = pick_synthetic(syn_set.rows(), ws.classes(), cfg.data.synthetic_per_class)
    if not rows:
        return []
    real = {r["id"]: r for r in ws.real_rows(("train",))}
    summary = class_summary(rows_fidelity(syn_set.manifest, rows, ws.manifest, real), ws.classes())
    bad = noise_like(summary)
    if not bad:
        return []
    detail = ", ".join(f"{c} {summary[c]['mel_l1']:.3f} vs noise {summary[c]['mel_l1_noise']:.3f}" for c in bad)
    return [
        f"warning: the synthetic cycles of set {set_name!r} are noise-like (log-mel L1 to their conditioning no "
        f"better than noise: {detail}); train the vocoder longer, or use `respgen synth --vocoder griffinlim`"
    ]


def _mode(cfg: FinetuneConfig, data: RunData) -> str:
    """The run's arm (`arms.run_mode`): augmented when every synthetic cycle it used came from `synth --vocoder augment`."""
    kinds = {(v or {}).get("kind") for v in data.vocoder}
    return run_mode(
        cfg.alignment.aft,
        bool(data.counts.get("train_oversampled")),
        bool(sum(data.counts["train_synthetic"].values())),
        augmented=kinds == {"augment"},
    )


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
) -> SeedRecord:
    """Train and evaluate one seed (`cfg` resolved); write its model dir into `out` (rank 0)."""
    settings = _train_settings(cfg)
    set_seed(seed)
    spec = FeatureSpec(
        sample_rate=SAMPLE_RATE,
        length=cfg.data.length,
        pad=cfg.data.pad,
        frames=n_frames(cfg.data.length),
        fade_out=cfg.paper.fade_out,
    )
    model = _new_model(cfg, spec, data.classes, settings, notes)
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = train_classifier(model, data, settings, seed, select_on, accelerator, progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics["compute"] = {"wall_seconds": wall, "cpu_seconds": cpu, "epochs": len(metrics.get("history", []))}
    ws = Workspace(cfg.workdir)
    predictions = EvalPredictions(
        list(data.classes),
        {split: (data.eval_ids[split], p.numpy()) for split, p in metrics.pop("predictions").items()},
        file_fingerprint(ws.manifest, ws.root),
    )
    if "test" in predictions.splits:  # per subset of the test split (SPRSound's inter / intra), when it has any
        by_id = {r["id"]: r for r in ws.real_rows(("test",))}
        subsets = subset_scores(*predictions.splits["test"], tuple(data.classes), by_id)
        if subsets:
            metrics["test_subsets"] = subsets
    features, labels, domains = data.train
    if int(domains.sum()) > 0:  # alignment of real and synthetic train features, by a fresh probe
        pooled = pooled_features(accelerator.unwrap_model(model), features, settings.batch_size * 2)
        metrics["alignment"] = alignment(pooled, domains.numpy(), labels.numpy(), data.classes, seed=0)
    record = SeedRecord.model_validate(metrics)
    if out is not None:
        training = {**cfg.flat(), "mode": _mode(cfg, data), "seed": seed, "selected_on": select_on}
        data_info = {"counts": data.counts, "vocoder": data.vocoder}
        save_model_dir(out, model.cpu(), list(data.classes), spec, training, data_info, notes, record, predictions)
    accelerator.wait_for_everyone()
    return record


def _train_settings(cfg: FinetuneConfig) -> TrainSettings:
    """The `TrainSettings` of a resolved config."""
    o, p = cfg.optim, cfg.paper
    return TrainSettings(
        epochs=o.epochs,
        batch_size=o.batch_size,
        lr=o.lr,
        weight_decay=o.weight_decay,
        ma_beta=p.ma_beta,
        specaug=o.specaug,
        class_weights=o.class_weights,
        specaug_mode=p.specaug_mode,
        lr_schedule=p.lr_schedule,
        lr_min_factor=p.lr_min_factor,
        min_se=cfg.selection.min_se,
        alignment=alignment_of(cfg),
    )


def _new_model(
    cfg: FinetuneConfig, spec: FeatureSpec, classes: tuple[str, ...], settings: TrainSettings, notes: list[str]
) -> AFTClassifier:
    """The AST of the preset for `spec`'s frames and `classes` (from `--init`'s weights, its load note
    added to `notes` once), with a discriminator when the alignment uses one."""
    config = PRESETS[cfg.model.preset].ast_config(spec.frames, classes)
    pretrained = None
    if cfg.model.init:
        pretrained, note = load_pretrained_ast(cfg.model.init, config, cfg.paper.pos_embed)
        if note not in notes:
            notes.append(note)
    discriminator = settings.alignment is not None and settings.alignment.uses_discriminator
    return AFTClassifier(config, discriminator=discriminator, ast=pretrained)
