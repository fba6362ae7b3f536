"""The quality of one synthetic set, per class, in three parts (service side: reads the workspace's
manifests and audio, loads a classifier):

- fidelity (`respgen.fidelity`): log-mel L1 to the conditioning cycle, the noise and real-vs-real
  baselines, and a real-only classifier's label agreement;
- realism (`respgen.realism`): can a fresh logistic regression tell the class's synthetic cycles from
  held-out real cycles of the class, on a real-only model's pooled features and on model-free log-mel
  statistics (50% = no);
- diversity (`respgen.diversity`): are the synthetic cycles near-copies of their sources?

`measure_set` keeps its result in `cache/quality/<set>.json` with the fingerprints of what it read (the
set's and the workspace's manifests, the set's clip files, the real-only model dir's files) and the
settings, and reads it back while they still match: compare, quickstart and report then measure a set
once, not once each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import features_for_rows
from respgen.classifier.store import load_model_dir
from respgen.data.manifest import load_clip, read_rows
from respgen.disk_memo import dir_fingerprint, file_fingerprint, memo
from respgen.diversity import diversity_summary
from respgen.features import fit_length
from respgen.fidelity import class_summary, label_agreement, real_l1, rows_fidelity
from respgen.realism import MIN_ROWS, logmel_stats_batch, two_sample_accuracy
from respgen.sample_rate import SAMPLE_RATE
from respgen.set_quality import SetQuality
from respgen.workspace import Workspace

MAX_PER_CLASS = 200
QUALITY_VERSION = 2  # bump when what `set_quality` computes changes: older cached results are then recomputed
HELD_OUT_SPLITS = ("val", "test")


def capped(rows: list[dict], n: int, seed: int = 0) -> list[dict]:
    """At most `n` rows, in id order: all of them, or a seeded random subset (deterministic)."""
    rows = sorted(rows, key=lambda r: r["id"])
    if len(rows) <= n:
        return rows
    keep = np.sort(np.random.default_rng(seed).permutation(len(rows))[:n])
    return [rows[i] for i in keep]


def held_out_real(real_rows: list[dict], synthetic: list[dict], label: str) -> tuple[list[dict], str]:
    """(rows, where from) of the real cycles a class's synthetic cycles are compared with: the class's
    val+test cycles when there are at least 4, else its train cycles that no synthetic cycle was
    conditioned on (a synthetic cycle is never compared with its own source)."""
    mine = [r for r in real_rows if r["label"] == label]
    held = [r for r in mine if r["split"] in HELD_OUT_SPLITS]
    if len(held) >= MIN_ROWS:
        return held, "val+test"
    sources = {r.get("conditioned_on") for r in synthetic}
    return [r for r in mine if r["split"] == "train" and r["id"] not in sources], "train (not sources)"


def clip_samples(manifest: Path, row: dict) -> int:
    """A synthetic clip's length in samples at 16 kHz (its `duration`, else its audio)."""
    if row.get("duration") is not None:
        return int(round(float(row["duration"]) * SAMPLE_RATE))
    return int(load_clip(manifest, row).shape[-1])


class ClassifierOutputs:
    """A loaded real-only classifier's predicted label and pooled feature per clip, each clip run once
    (one forward pass gives both): label agreement and model realism read the same synthetic cycles,
    and every set measured in one process (a report, a compare) the same held-out real cycles. `of`
    keeps the last model dir's outputs for the process."""

    _last: tuple[list, "ClassifierOutputs"] | None = None

    def __init__(self, loaded: tuple) -> None:
        self.model, self.info = loaded
        self._done: dict[tuple[tuple, str], tuple[str, np.ndarray]] = {}

    @classmethod
    def of(cls, model_dir: Path) -> "ClassifierOutputs":
        key = dir_fingerprint(model_dir)
        if cls._last is None or cls._last[0] != key:
            cls._last = (key, cls(load_model_dir(model_dir)))
        return cls._last[1]

    @property
    def labels(self) -> list[str]:
        return self.info.labels

    @torch.no_grad()
    def outputs(self, manifest: Path, rows: list[dict], batch_size: int = 32) -> tuple[list[str], np.ndarray]:
        """(predicted labels, [N, hidden] pooled features) of the rows' clips, with the model's feature spec."""
        spec = self.info.features
        where = (str(manifest.resolve()), manifest.stat().st_mtime_ns)  # a rewritten manifest: clips run again
        todo = [r for r in rows if (where, r["id"]) not in self._done]
        device = next(self.model.parameters()).device
        for i in range(0, len(todo), batch_size):
            batch = todo[i : i + batch_size]
            feats = features_for_rows(manifest, batch, spec.length, spec.pad, spec.fade_out)
            logits, _, pooled = self.model(feats.to(device), with_pooled=True)
            for r, k, f in zip(batch, logits.argmax(-1).tolist(), pooled.float().cpu().numpy()):
                self._done[(where, r["id"])] = (self.labels[k], f)
        done = [self._done[(where, r["id"])] for r in rows]
        return [d[0] for d in done], np.stack([d[1] for d in done]) if done else np.zeros((0, 0))


def logmel_features(manifest: Path, rows: list[dict], n_samples: int) -> np.ndarray:
    """[N, 4 * 80] `realism.logmel_stats` of each row's clip repeat-padded / cropped to `n_samples` (as
    `synth` fits a real cycle before vocoding it, so padding cannot give the domain away)."""
    return logmel_stats_batch([fit_length(load_clip(manifest, r), n_samples) for r in rows])


def realism_by_class(
    synthetic: list[dict],
    synth_manifest: Path,
    real_rows: list[dict],
    real_manifest: Path,
    classes,
    model: ClassifierOutputs | None = None,
    max_per_class: int = MAX_PER_CLASS,
    seed: int = 0,
) -> dict[str, dict]:
    """{class: {model, logmel, n_synthetic, n_real, real_from}} for each class with synthetic rows: the
    two-sample accuracy (`realism.two_sample_accuracy`) of its synthetic cycles vs held-out real cycles
    (`held_out_real`; at most `max_per_class` of each, deterministic) on the pooled features of `model`
    (None without one) and on `logmel_stats` (always). None where a side has fewer than 4 cycles."""
    out = {}
    for c in classes:
        mine = [r for r in synthetic if r["label"] == c]
        if not mine:
            continue
        syn = capped(mine, max_per_class, seed)
        real, real_from = held_out_real(real_rows, mine, c)
        real = capped(real, max_per_class, seed)
        enough = len(syn) >= MIN_ROWS and len(real) >= MIN_ROWS
        acc_model = acc_logmel = None
        if enough and model is not None:
            acc_model = two_sample_accuracy(
                model.outputs(real_manifest, real)[1], model.outputs(synth_manifest, syn)[1], seed=seed
            )
        if enough:
            n = clip_samples(synth_manifest, syn[0])
            acc_logmel = two_sample_accuracy(
                logmel_features(real_manifest, real, n), logmel_features(synth_manifest, syn, n), seed=seed
            )
        out[c] = {
            "model": acc_model,
            "logmel": acc_logmel,
            "n_synthetic": len(syn),
            "n_real": len(real),
            "real_from": real_from,
        }
    return out


def clip_records(synth_manifest: Path, rows: list[dict], real_manifest: Path, real_by_id: dict) -> list[dict]:
    """Per row with a known source: {label, mel_l1, mel_l1_noise} (`fidelity.rows_fidelity`) plus its
    `mel_l1_other_seed` when the row carries one."""
    out = []
    for row in rows:
        for rec in rows_fidelity(synth_manifest, [row], real_manifest, real_by_id):
            if row.get("mel_l1_other_seed") is not None:
                rec["mel_l1_other_seed"] = row["mel_l1_other_seed"]
            out.append(rec)
    return out


def class_fidelity(records: list[dict], label: str, real_vs_real: float | None, agreement: float | None) -> dict:
    """{n, mel_l1, mel_l1_noise, mel_l1_real, label_agreement} of one class (None where unknown)."""
    s = class_summary(records, [label]).get(label) or {}
    return {
        "n": s.get("n", 0),
        "mel_l1": s.get("mel_l1"),
        "mel_l1_noise": s.get("mel_l1_noise"),
        "mel_l1_real": real_vs_real,
        "label_agreement": agreement,
    }


def class_agreement(model: ClassifierOutputs | None, synth_manifest: Path, rows: list[dict], label: str):
    """Share of the rows the real-only classifier labels `label`; None without a model or that label."""
    if model is None or label not in model.labels:
        return None
    return label_agreement(model.outputs(synth_manifest, rows)[0], label)


def set_quality(
    ws: Workspace,
    rows: list[dict],
    real_by_id: dict[str, dict],
    model_dir: Path | None,
    synth_manifest: Path,
    classes=None,
    max_per_class: int = MAX_PER_CLASS,
    seed: int = 0,
) -> dict[str, dict]:
    """Fidelity, realism and diversity of one synthetic set (`rows` as read from `synth_manifest`), per
    class with rows (`classes` default: the workspace's), at most `max_per_class` rows each:
    {"fidelity": {class: class_fidelity}, "realism": realism_by_class, "diversity": diversity_summary}.
    `real_by_id`: real rows by id, holding the conditioning sources; the held-out real cycles and the
    real-vs-real baseline (train cycles) come from the workspace's manifest. `model_dir`: a real-only
    classifier for label agreement and model-feature realism (None: both left None)."""
    classes = [c for c in (classes or ws.classes()) if any(r["label"] == c for r in rows)]
    model = ClassifierOutputs.of(model_dir) if model_dir is not None else None
    real_rows = ws.real_rows()
    fidelity, records, real_vs_real = {}, [], {}
    for c in classes:
        mine = capped([r for r in rows if r["label"] == c], max_per_class, seed)
        recs = clip_records(synth_manifest, mine, ws.manifest, real_by_id)
        train = [r for r in real_rows if r["label"] == c and r["split"] == "train"]
        real_vs_real[c] = real_vs_real_l1(ws.manifest, train, clip_samples(synth_manifest, mine[0]))
        fidelity[c] = class_fidelity(recs, c, real_vs_real[c], class_agreement(model, synth_manifest, mine, c))
        records += recs
    return {
        "fidelity": fidelity,
        "realism": realism_by_class(
            rows, synth_manifest, real_rows, ws.manifest, classes, model, max_per_class=max_per_class, seed=seed
        ),
        "diversity": diversity_summary(records, real_vs_real, classes),
    }


_REAL_VS_REAL: dict[tuple, float | None] = {}


def real_vs_real_l1(manifest: Path, rows: list[dict], n_samples: int) -> float | None:
    """`fidelity.real_l1` of a class's real cycles, computed once per process for the same manifest, cycles
    and length (every synthetic set of a report or a compare shares it)."""
    key = (str(manifest), manifest.stat().st_mtime_ns, tuple(sorted(r["id"] for r in rows)), n_samples)
    if key not in _REAL_VS_REAL:
        _REAL_VS_REAL[key] = real_l1(rows, manifest, n_samples)
    return _REAL_VS_REAL[key]


def measure_set(ws: Workspace, name: str, model_dir: Path | None, max_per_class: int = MAX_PER_CLASS) -> SetQuality:
    """`set_quality` of the workspace's synthetic set `name` (its rows with audio), against the real
    train cycles it was conditioned on; `model_dir`: a real-only classifier, or None. Kept in
    `cache/quality/<name>.json` and read from there while nothing it depends on (`quality_key`) changed."""
    syn_set = ws.synthetic_set(name, must_exist=True)

    def compute() -> dict:
        real_by_id = {r["id"]: r for r in ws.real_rows(("train",))}
        return set_quality(ws, syn_set.rows(), real_by_id, model_dir, syn_set.manifest, max_per_class=max_per_class)

    key = quality_key(ws, syn_set.manifest, model_dir, max_per_class)
    return memo(ws.quality_cache / f"{name}.json", key, compute, parse=SetQuality.model_validate)


def quality_key(ws: Workspace, synth_manifest: Path, model_dir: Path | None, max_per_class: int) -> dict:
    """What a set's measured quality depends on: the set's and the workspace's manifests (a re-run
    `synth` or `prepare` rewrites them), the set's clip files (`clip_fingerprints`: a deleted or
    rewritten clip is a miss), every file of the model dir, the settings and `QUALITY_VERSION`."""
    return {
        "version": QUALITY_VERSION,
        "synthetic": file_fingerprint(synth_manifest, ws.root),
        "clips": clip_fingerprints(ws, synth_manifest),
        "real": file_fingerprint(ws.manifest, ws.root),
        "model": None if model_dir is None else dir_fingerprint(model_dir, ws.root),
        "max_per_class": max_per_class,
    }


def clip_fingerprints(ws: Workspace, synth_manifest: Path) -> list:
    """`file_fingerprint` of each clip file the set's manifest lists, in manifest order ([name, None]
    for a missing one), so that a deleted or rewritten clip changes the key. Stat only: no audio is read."""
    out = []
    for row in read_rows(synth_manifest):
        path = synth_manifest.parent / str(row.get("path"))
        try:
            out.append(file_fingerprint(path, ws.root))
        except OSError:  # missing (or unreadable): recorded as such
            out.append([str(row.get("path")), None])
    return out
