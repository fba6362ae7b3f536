"""The record of one finetune run, one shape whether it trained one seed or several, and the one module
that reads and writes `metrics.json`.

On disk (unchanged since the first release): a one-seed run's folder is its model dir, and its
`metrics.json` is that seed's record (the selected epoch's splits, the per-epoch history, the probe's
`alignment`). A several-seed run keeps one model dir per seed (`seed-N/`, each with its own
`metrics.json`) and writes a summary beside them: `selected_on`, `seeds`, `per_seed` (the selected
scores), `mean` / `std` per split and metric, `test_per_class` and `alignment` as mean ± std over seeds.
`RunRecord.read` reads either; every statistic (mean ± std over seeds; std 0 for one seed) is computed
here, from the per-seed records.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from respgen.atomic import write_json

METRICS_FILE = "metrics.json"
METRIC_KEYS = ("sp", "se", "score", "accuracy")
MeanStd = tuple[float | None, float]


class SeedRecord(BaseModel):
    """One seed's selected epoch: its eval splits (`val` / `test`: Sp, Se, Score, accuracy, per-class
    accuracy, confusion), the per-epoch history and the probe's real-vs-synthetic `alignment`."""

    model_config = ConfigDict(extra="allow")

    seed: int | None = None
    selected_on: str = "last"
    best_epoch: int | None = None
    classes: list[str] = Field(default_factory=list)
    val: dict | None = None
    test: dict | None = None
    history: list[dict] = Field(default_factory=list)
    alignment: dict | None = None

    def split(self, name: str) -> dict | None:
        return self.val if name == "val" else self.test if name == "test" else None


class RunRecord(BaseModel):
    """Every seed of a run, in the order trained."""

    per_seed: dict[int, SeedRecord]
    selected_on: str
    classes: list[str]

    @classmethod
    def of(cls, per_seed: dict[int, dict | SeedRecord]) -> "RunRecord":
        seeds = {int(k): v if isinstance(v, SeedRecord) else SeedRecord.model_validate(v) for k, v in per_seed.items()}
        first = next(iter(seeds.values()))
        return cls(per_seed=seeds, selected_on=first.selected_on, classes=first.classes)

    @property
    def seeds(self) -> list[int]:
        return list(self.per_seed)

    @property
    def single(self) -> SeedRecord | None:
        """The record of a one-seed run; None for several seeds."""
        return next(iter(self.per_seed.values())) if len(self.per_seed) == 1 else None

    # statistics over seeds
    def metric(self, split: str, key: str) -> MeanStd:
        """(mean, std) of a split's metric over the seeds that have that split; (None, 0) when none has it."""
        return _mean_std([s.split(split)[key] for s in self.per_seed.values() if s.split(split) is not None])

    def per_class(self, split: str = "test") -> dict[str, MeanStd]:
        """Per-class accuracy on a split, (mean, std) over seeds (classes with no cycles: (None, 0))."""
        records = [s.split(split) for s in self.per_seed.values() if s.split(split) is not None]
        return {c: _mean_std([r.get("per_class", {}).get(c) for r in records]) for c in self.classes}

    def splits(self) -> list[str]:
        return [split for split in ("val", "test") if all(s.split(split) is not None for s in self.per_seed.values())]

    def probe(self) -> MeanStd | None:
        """The fresh probe's real-vs-synthetic accuracy, (mean, std) over seeds; None without synthetic data."""
        values = [s.alignment.get("probe_acc") for s in self.per_seed.values() if s.alignment]
        values = [v for v in values if v is not None]
        return _mean_std(values) if values else None

    def frechet(self) -> dict[str, float | None]:
        """Per class: the mean Fréchet distance of real and synthetic train features over seeds."""
        aligned = [s.alignment for s in self.per_seed.values() if s.alignment]
        if not aligned:
            return {}
        return {c: _mean_std([a["frechet"].get(c) for a in aligned])[0] for c in aligned[0].get("frechet", {})}

    def compute_seconds(self) -> float | None:
        """Wall seconds of training every seed (what finetune recorded as `compute`); None for runs made
        before it was recorded."""
        walls = [(s.model_extra or {}).get("compute", {}).get("wall_seconds") for s in self.per_seed.values()]
        return None if any(w is None for w in walls) else float(sum(walls))

    def best_epochs(self) -> list[int | None]:
        return [s.best_epoch for s in self.per_seed.values()]

    # on disk
    def to_metrics_json(self) -> dict:
        """What `metrics.json` at the run's folder holds: the seed's record (one seed) or the summary."""
        if self.single is not None:
            return self.single.model_dump(mode="json", exclude_none=True)
        mean, std = {}, {}
        for split in self.splits():
            for k in METRIC_KEYS:
                mean.setdefault(split, {})[k], std.setdefault(split, {})[k] = self.metric(split, k)
        out: dict = {
            "selected_on": self.selected_on,
            "classes": self.classes,
            "seeds": self.seeds,
            "per_seed": {
                seed: {split: {k: s.split(split)[k] for k in METRIC_KEYS} for split in self.splits()}
                for seed, s in self.per_seed.items()
            },
            "mean": mean,
            "std": std,
        }
        if "test" in self.splits():
            out["test_per_class"] = {c: list(v) for c, v in self.per_class("test").items()}
        probe = self.probe()
        if probe is not None:
            out["alignment"] = {
                "probe_acc": probe[0],
                "probe_acc_std": probe[1],
                "frechet": self.frechet(),
                "per_seed": {seed: (s.alignment or {}).get("probe_acc") for seed, s in self.per_seed.items()},
            }
        return out

    def write(self, run_dir: Path) -> None:
        write_json(run_dir / METRICS_FILE, self.to_metrics_json())

    @classmethod
    def read(cls, run_dir: Path) -> "RunRecord | None":
        """The record of a finished run folder (either layout); None when it has no readable metrics.json."""
        raw = read_metrics(run_dir)
        if raw is None:
            return None
        if "mean" not in raw:  # one seed: the file is the seed's record
            return cls.of({raw.get("seed") if isinstance(raw.get("seed"), int) else 0: raw})
        per_seed = {}
        listed = raw.get("per_seed") or {}
        for seed, scores in listed.items():
            full = read_metrics(seed_dir(run_dir, list(listed), seed))
            per_seed[int(seed)] = full if full is not None else _partial(raw, seed, scores)
        return cls.of(per_seed) if per_seed else None


def seed_dir(run_dir: Path, seeds: Sequence[int | str], seed: int | str | None = None) -> Path:
    """The one rule for where a run keeps a seed's model (default: its first seed as given, the one
    `models/latest`, compare, the report and `run_info` use): the run folder itself when the run trained
    one seed, else its `seed-N/`."""
    return run_dir if len(seeds) == 1 else run_dir / f"seed-{seeds[0] if seed is None else seed}"


def model_dir_of(run_dir: Path) -> Path | None:
    """The model folder of a finished run on disk (`seed_dir` of the seeds its record lists, in the
    order trained); None when the run has no readable metrics.json."""
    record = RunRecord.read(run_dir)
    return None if record is None else seed_dir(run_dir, record.seeds)


def read_metrics(model_dir: Path) -> dict | None:
    """A folder's raw `metrics.json`; None when absent or unreadable (a half-written run)."""
    path = model_dir / METRICS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _partial(summary: dict, seed: str, scores: dict) -> dict:
    """A seed's record rebuilt from a summary alone (its seed folder is gone): scores, no history."""
    probe = ((summary.get("alignment") or {}).get("per_seed") or {}).get(str(seed))
    return {
        "seed": int(seed),
        "selected_on": summary.get("selected_on", "last"),
        "classes": summary.get("classes", []),
        **scores,
        **({"alignment": {"probe_acc": probe, "frechet": {}}} if probe is not None else {}),
    }


def _mean_std(values: list) -> MeanStd:
    values = [float(v) for v in values if v is not None]
    if not values:
        return (None, 0.0)
    return (sum(values) / len(values), statistics.pstdev(values) if len(values) > 1 else 0.0)
