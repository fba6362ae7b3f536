"""The fine-tuning data of one run: real train cycles (+ synthetic ones, domain 1), the eval splits, their
fbank features (computed once: in memory, or read from the workspace's feature store a batch at a time),
and the counts recorded in the model dir."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Dataset

from respgen.classifier.data import features_for_rows
from respgen.classifier.feature_store import ClipFeatures, FeatureKey, FeatureStore

Features = torch.Tensor | ClipFeatures  # [N, frames, 128], indexable by int / slice / index tensor


@dataclass
class RunData:
    classes: tuple[str, ...]
    train: tuple[Features, torch.Tensor, torch.Tensor]  # features, labels, domains (0 real, 1 synthetic)
    evals: dict[str, tuple[Features, torch.Tensor]]  # split -> (features, labels)
    counts: dict
    vocoder: list  # the vocoder checkpoints the synthetic cycles came from
    sources: torch.Tensor | None = None  # per train row: the row of its real source (`conditioned_on`), -1 if none
    eval_ids: dict[str, list[str]] = field(default_factory=dict)  # split -> the ids of its rows, in order


def source_rows(train_real: list[dict], synthetic: list[dict]) -> torch.Tensor:
    """For every train row (real cycles, then synthetic): the row index of the real train cycle a
    synthetic cycle was made from (its `conditioned_on`), -1 for real cycles and for synthetic ones
    whose source is not a real train cycle."""
    row = {r["id"]: i for i, r in enumerate(train_real)}
    return torch.tensor([-1] * len(train_real) + [row.get(r.get("conditioned_on"), -1) for r in synthetic])


def pick_synthetic(rows: list[dict], classes: tuple[str, ...], per_class: int | None) -> list[dict]:
    """Synthetic rows in id order, relabelled to `classes` (any abnormal class -> `abnormal` in the
    binary scheme), at most `per_class` of each class."""
    picked: list[dict] = []
    taken: dict[str, int] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        label = r["label"] if r["label"] in classes else ("abnormal" if "abnormal" in classes else None)
        if label is None or (per_class is not None and taken.get(label, 0) >= per_class):
            continue
        taken[label] = taken.get(label, 0) + 1
        picked.append({**r, "label": label})
    return picked


def oversample_rows(train_real: list[dict], per_class: dict[str, int]) -> list[int]:
    """The no-generator baseline: for each class, `per_class[c]` indices into `train_real` cycling
    through that class's real cycles in id order (each repeated as evenly as the count allows)."""
    out: list[int] = []
    for c, n in per_class.items():
        mine = sorted((i for i, r in enumerate(train_real) if r["label"] == c), key=lambda i: train_real[i]["id"])
        if mine:
            out += [mine[k % len(mine)] for k in range(n)]
    return out


class TrainRows(Dataset):
    """(features, label, domain, source row) of each train row; features read when a batch asks."""

    def __init__(self, features: Features, labels: torch.Tensor, domains: torch.Tensor, sources: torch.Tensor):
        self.features, self.labels, self.domains, self.sources = features, labels, domains, sources

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.features[i], self.labels[i], self.domains[i], self.sources[i]


def assemble(
    classes: tuple[str, ...],
    manifest: Path,
    real: list[dict],
    synth_manifest: Path,
    synthetic: list[dict],
    length: float,
    pad: str,
    fade_out: int = 0,
    synthetic_fit: str = "pad",
    oversample: dict[str, int] | None = None,
    store: FeatureStore | None = None,
) -> RunData:
    """Features for the real train cycles followed by `synthetic`, and for the val/test splits.
    `fade_out`: samples faded out at the end of padded cycles; `synthetic_fit`: `pad` (as real cycles)
    or `resize` (the synthetic clip's fbank resized to the real clips' frame count). `oversample`
    {class: n}: n more train rows of the class, copies of its real train cycles (`oversample_rows`).
    `store`: features from (and into) the feature store, read per batch; None: all in memory."""

    def features(where: Path, rows: list[dict], fit: str = "pad") -> Features:
        if store is None:
            return features_for_rows(where, rows, length, pad, fade_out, fit=fit)
        return store.features(where, rows, FeatureKey(length, pad, fade_out, fit))

    index = {c: i for i, c in enumerate(classes)}
    train_real = [r for r in real if r["split"] == "train"]
    feats = [features(manifest, train_real)]
    extra = oversample_rows(train_real, oversample or {})
    oversampled = [train_real[i] for i in extra]
    if extra:
        feats.append(feats[0].subset(extra) if store is not None else feats[0][torch.tensor(extra)])
        train_real = train_real + oversampled
    if synthetic:
        feats.append(features(synth_manifest, synthetic, synthetic_fit))
    labels = torch.tensor([index[r["label"]] for r in train_real + synthetic])
    domains = torch.tensor([0] * len(train_real) + [1] * len(synthetic))
    evals, eval_ids = _eval_splits(real, index, lambda rows: features(manifest, rows))
    vocoders = sorted({json.dumps(r.get("vocoder"), sort_keys=True) for r in synthetic})
    return RunData(
        classes,
        (ClipFeatures.cat(feats) if store is not None else torch.cat(feats), labels, domains),
        evals,
        _counts(classes, real, train_real, synthetic, oversampled),
        [json.loads(v) for v in vocoders],
        source_rows(train_real, synthetic),
        eval_ids,
    )


def _eval_splits(
    real: list[dict], index: dict[str, int], features: Callable[[list[dict]], Features]
) -> tuple[dict[str, tuple[Features, torch.Tensor]], dict[str, list[str]]]:
    """`RunData.evals` and `RunData.eval_ids`: the val and test splits present in `real`, their
    `features` and label indices (`index`), and their row ids."""
    evals, eval_ids = {}, {}
    for split in ("val", "test"):
        rows = [r for r in real if r["split"] == split]
        if rows:
            evals[split] = (features(rows), torch.tensor([index[r["label"]] for r in rows]))
            eval_ids[split] = [r["id"] for r in rows]
    return evals, eval_ids


def _counts(
    classes: tuple[str, ...], real: list[dict], train_real: list[dict], synthetic: list[dict], oversampled: list[dict]
) -> dict:
    """`RunData.counts`: rows per class of the real train cycles, the synthetic ones, the oversampled
    copies (when any; `train_real` ends with them) and the val / test splits."""

    def by_class(rows):
        return {c: sum(1 for r in rows if r["label"] == c) for c in classes}

    counts = {"train_real": by_class(train_real[: len(train_real) - len(oversampled)])}
    counts["train_synthetic"] = by_class(synthetic)
    if oversampled:
        counts["train_oversampled"] = by_class(oversampled)
    counts.update({split: by_class([r for r in real if r["split"] == split]) for split in ("val", "test")})
    return counts
