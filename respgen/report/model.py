"""The report's numbers, computed once from the workspace: `ReportModel`. The Markdown (and any other
view) is rendered from this model alone (`report.markdown`); nothing here writes a file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import features_for_rows
from respgen.classifier.run_record import RunRecord
from respgen.classifier.store import find_runs, load_model_dir, run_info
from respgen.data.manifest import load_clip
from respgen.errors import RespgenError
from respgen.features import fit_length, vocoder_mel
from respgen.report.frechet import frechet_distance
from respgen.synthetic_quality import measure_set
from respgen.workspace import Workspace

MeanStd = tuple[float | None, float]


@dataclass
class MelPair:
    """A real train cycle and the synthetic cycle vocoded from its mel (both as vocoder mels)."""

    label: str
    real_id: str
    real_mel: np.ndarray
    synthetic_id: str
    synthetic_mel: np.ndarray


@dataclass
class SyntheticSetReport:
    name: str
    counts: dict[str, int]
    vocoder: list[dict]  # the distinct `vocoder` provenance of its rows
    quality: dict  # {"fidelity", "realism", "diversity"} by class (respgen.synthetic_quality)
    pairs: list[MelPair] = field(default_factory=list)


@dataclass
class RunReport:
    name: str
    mode: str
    synthetic_set: str | None
    record: RunRecord
    model_dir: Path | None  # the dir whose curves and confusion are shown (a several-seed run: its first seed)


@dataclass
class FeatureSpace:
    model: str
    frechet: dict[str, float | None]
    discriminator_accuracy: float | None


@dataclass
class ReportModel:
    workspace: str
    classes: list[str]
    real_counts: dict[str, int]
    sets: list[SyntheticSetReport]
    label_model: str | None  # the real-only classifier behind label agreement and model realism
    feature_space: FeatureSpace | None
    runs: list[RunReport]
    vocoder_curve: tuple[list[int], list[float], list[float]] | None
    max_per_class: int
    missing: list[str] = field(default_factory=list)  # one line per part the workspace lacks

    def synthetic_json(self) -> dict:
        """`report --json`'s `synthetic`: every set's quality under `sets.<name>`, and the default
        (first) set's `fidelity` / `realism` / `diversity` at the top, as before sets existed."""
        out: dict = {"sets": {s.name: {"counts": s.counts, **s.quality} for s in self.sets}}
        if self.sets:
            out.update({k: self.sets[0].quality.get(k, {}) for k in ("fidelity", "realism", "diversity")})
        return out


def build_model(ws: Workspace, model: Path | None, max_per_class: int) -> ReportModel:
    """Every number of the report. `model`: the classifier for label agreement and the feature-space
    section (default: the newest real-only run, and `models/latest`)."""
    train = ws.real_rows(("train",))
    classes = list(ws.classes()) if ws.prepare_info.is_file() else sorted({r["label"] for r in train})
    runs = [_run(name, d, record) for name, d, record in find_runs(ws.models)]
    label_model = model if model is not None else _real_only_model(runs)
    missing = []
    names = _ordered_sets(ws)
    sets = [_set(ws, n, train, label_model, max_per_class) for n in names]
    if not sets:
        missing.append("no synthetic cycles (run `respgen synth`, e.g. `--vocoder griffinlim` without a GPU)")
    if not runs:
        missing.append("no finished fine-tuning runs (run `respgen finetune` or `respgen compare`)")
    elif label_model is None:
        missing.append("no real-only model for label agreement (run `respgen finetune --no-synthetic` or pass --model)")
    half = _half_written(ws, runs)
    missing += [f"run folder {n} has no readable metrics.json (interrupted?): left out" for n in half]
    fs_model = model or (ws.models_latest if ws.models_latest.exists() else None)
    feature_space = _feature_space(ws, fs_model, classes, train, sets[0], max_per_class) if sets and fs_model else None
    return ReportModel(
        workspace=str(ws.root),
        classes=classes,
        real_counts={c: sum(1 for r in train if r["label"] == c) for c in classes},
        sets=sets,
        label_model=None if label_model is None else str(label_model),
        feature_space=feature_space,
        runs=runs,
        vocoder_curve=_validation_curve(ws),
        max_per_class=max_per_class,
        missing=missing,
    )


def _ordered_sets(ws: Workspace) -> list[str]:
    """The synthetic sets present, the default one first (`finetune` uses it without --synthetic-set)."""
    names = ws.synthetic_sets()
    try:
        first = ws.default_synthetic_set()
    except RespgenError:  # several sets and none is the default
        first = None
    return ([first] if first else []) + [n for n in names if n != first]


def _run(name: str, d: Path, record: RunRecord) -> RunReport:
    info = run_info(d)
    train = info.get("training", {})
    counts = info.get("data", {}).get("counts", {})
    if train.get("aft"):
        mode = f"AFT ({train['adversary']})" if train.get("adversary") else "AFT"
    elif counts.get("train_oversampled"):
        mode = "CE + oversampling"
    else:
        mode = "CE + synthetic" if sum(counts.get("train_synthetic", {}).values()) else "CE"
    used = train.get("synthetic_set") if mode != "CE" else None
    model_dir = d if (d / "respgen.json").is_file() else next(iter(sorted(d.glob("seed-*"))), None)
    return RunReport(name, mode, used, record, model_dir)


def _real_only_model(runs: list[RunReport]) -> Path | None:
    """The newest run trained on real cycles only (its model dir), or None."""
    for run in reversed(runs):
        if run.mode == "CE" and run.model_dir is not None:
            return run.model_dir
    return None


def _half_written(ws: Workspace, runs: list[RunReport]) -> list[str]:
    """Run folders under models/ that are not finished runs (no readable metrics.json)."""
    if not ws.models.is_dir():
        return []
    done = {r.name for r in runs}
    return sorted(
        p.name
        for p in ws.models.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in done
    )


def _set(ws: Workspace, name: str, train: list[dict], label_model: Path | None, max_per_class: int):
    syn_set = ws.synthetic_set(name)
    rows = syn_set.rows(require_audio=False)
    counts = {}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    vocoders = sorted({json.dumps(r.get("vocoder"), sort_keys=True) for r in rows})
    quality = measure_set(ws, name, label_model, max_per_class=max_per_class)
    return SyntheticSetReport(
        name, counts, [json.loads(v) for v in vocoders], quality, _pairs(ws, syn_set, rows, train)
    )


def _pairs(ws: Workspace, syn_set, rows: list[dict], train: list[dict]) -> list[MelPair]:
    """Per class, the first synthetic cycle (by id) and the real cycle it was conditioned on."""
    by_id = {r["id"]: r for r in train}
    pairs = []
    for c in sorted({r["label"] for r in rows}):
        mine = sorted((r for r in rows if r["label"] == c and r.get("conditioned_on") in by_id), key=lambda r: r["id"])
        if mine:
            s = mine[0]
            syn_audio = load_clip(syn_set.manifest, s)
            real_audio = fit_length(load_clip(ws.manifest, by_id[s["conditioned_on"]]), syn_audio.shape[0])
            pairs.append(
                MelPair(
                    c, s["conditioned_on"], vocoder_mel(real_audio).numpy(), s["id"], vocoder_mel(syn_audio).numpy()
                )
            )
    return pairs


@torch.no_grad()
def _feature_space(
    ws: Workspace, model_dir: Path, classes: list[str], train: list[dict], syn: SyntheticSetReport, max_per_class: int
) -> FeatureSpace:
    """Per-class Fréchet distance of real vs synthetic train cycles in a model's pooled features, and its
    discriminator's real/synthetic accuracy on them (a `grl` AFT model only)."""
    model, info = load_model_dir(model_dir)
    syn_set = ws.synthetic_set(syn.name)
    synthetic = syn_set.rows(require_audio=False)
    length, pad = info.features.length, info.features.pad
    frechet: dict[str, float | None] = {}
    real_feats, syn_feats = [], []
    for c in classes:
        r_rows = [r for r in train if r["label"] == c][:max_per_class]
        s_rows = sorted((r for r in synthetic if r["label"] == c), key=lambda r: r["id"])[:max_per_class]
        if len(r_rows) < 2 or len(s_rows) < 2:
            frechet[c] = None
            continue
        fr = model.pooled(features_for_rows(ws.manifest, r_rows, length, pad)).numpy()
        fs = model.pooled(features_for_rows(syn_set.manifest, s_rows, length, pad)).numpy()
        frechet[c] = frechet_distance(fr, fs)
        real_feats.append(fr)
        syn_feats.append(fs)
    disc = None
    if model.discriminator is not None and real_feats:
        r, s = torch.from_numpy(np.concatenate(real_feats)), torch.from_numpy(np.concatenate(syn_feats))
        correct = int((model.discriminator(r).argmax(-1) == 0).sum()) + int(
            (model.discriminator(s).argmax(-1) == 1).sum()
        )
        disc = correct / (len(r) + len(s))
    return FeatureSpace(str(model_dir), frechet, disc)


def _validation_curve(ws: Workspace) -> tuple[list[int], list[float], list[float]] | None:
    """(steps, validation mel L1, noise baseline) from `vocoder/metrics.jsonl`; None without evaluations."""
    if not ws.vocoder_metrics.is_file():
        return None
    rows = [json.loads(line) for line in ws.vocoder_metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("val_mel_l1") is not None]
    if not rows:
        return None
    return [r["step"] for r in rows], [r["val_mel_l1"] for r in rows], [r["val_mel_l1_noise"] for r in rows]


def as_json(model: ReportModel) -> dict:
    """The model's numbers as JSON-ready data (no mel arrays)."""
    return {
        "classes": model.classes,
        "real_counts": model.real_counts,
        "synthetic": model.synthetic_json(),
        "label_model": model.label_model,
        "feature_space": None if model.feature_space is None else asdict(model.feature_space),
        "runs": [r.name for r in model.runs],
        "missing": model.missing,
    }
