"""`compare`: the paper's comparison in one command: real-only CE, CE + synthetic and AFT (plus any
extra adversary) fine-tuned with the same seeds and settings, one `finetune` run per arm, side by side."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from respgen.config import CompareConfig, FinetuneConfig
from respgen.finetune import finetune
from respgen.lock import locked

# What each arm changes in the shared settings.
ARMS: dict[str, dict] = {
    "ce": {"aft": False, "synthetic": False},  # real cycles only
    "ce-syn": {"aft": False, "synthetic": True},  # the naive mix
    "aft": {"aft": True, "synthetic": True},  # AFT with the configured --adversary
    "aft-grl": {"aft": True, "synthetic": True, "adversary": "grl", "disc_steps": 0},  # the paper's joint GRL step
    "aft-ttur": {"aft": True, "synthetic": True, "adversary": "grl"},  # GRL, discriminator on its own time scale
    "aft-confusion": {"aft": True, "synthetic": True, "adversary": "confusion"},
    "aft-mahalanobis": {"aft": True, "synthetic": True, "adversary": "mahalanobis"},
}
ARM_LABELS = {
    "ce": "CE (real only)",
    "ce-syn": "CE + synthetic",
    "aft": "AFT",
    "aft-grl": "AFT, GRL (paper step)",
    "aft-ttur": "AFT, GRL two time-scale",
    "aft-confusion": "AFT, domain confusion",
    "aft-mahalanobis": "AFT, paired Mahalanobis",
}


@dataclass
class Arm:
    arm: str
    label: str
    run_dir: str
    metrics: dict  # the run's metrics.json (one seed) or its mean ± std summary
    seconds: float

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class CompareResult:
    name: str
    seeds: list[int]
    classes: list[str]
    arms: list[Arm] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "seeds": self.seeds,
            "classes": self.classes,
            "arms": [a.to_dict() for a in self.arms],
        }


def arm_config(cfg: CompareConfig, arm: str) -> FinetuneConfig:
    """The `finetune` config of one arm: the shared settings with the arm's changes, named `<name>-<arm>`."""
    shared = cfg.model_dump(exclude={"arms", "aft", "synthetic", "name"})
    changes = dict(ARMS[arm])
    if arm == "aft-ttur" and not cfg.disc_steps:
        changes["disc_steps"] = 3
    return FinetuneConfig(**{**shared, **changes, "name": f"{cfg.name}-{arm}"})


@locked("compare")  # all arms on the same data: no other writer between them
def compare(
    cfg: CompareConfig, progress: Callable[..., None] | None = None, on_arm: Callable[[Arm], None] | None = None
) -> CompareResult:
    """Fine-tune one run per arm (`cfg.arms`) with the same seeds and settings.

    Reads what `finetune` reads (`data/manifest.jsonl`, `data/prepare.json`, `synth/manifest.jsonl`);
    writes `models/<name>-<arm>/` per arm (`<name>`: `--name`, default `compare-<time>`), each an
    ordinary finetune run (metrics.json with `alignment` for the arms with synthetic cycles), and
    leaves `models/latest` at the last arm."""
    name = cfg.name or f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    cfg = cfg.model_copy(update={"name": name})
    result = CompareResult(name, list(cfg.seeds), [])
    for arm in cfg.arms:
        t = time.perf_counter()
        ft = finetune(arm_config(cfg, arm), progress)
        metrics = ft.metrics
        if not result.classes:
            result.classes = list(metrics.get("classes") or _classes(ft.run_dir, cfg.seeds))
        done = Arm(arm, ARM_LABELS[arm], ft.run_dir, metrics, time.perf_counter() - t)
        result.arms.append(done)
        if on_arm:
            on_arm(done)
    return result


def _classes(run_dir: str, seeds: list[int]) -> list[str]:
    from pathlib import Path

    from respgen.classifier.store import read_metrics

    return read_metrics(Path(run_dir) / f"seed-{seeds[0]}")["classes"]


def arm_summary(metrics: dict, classes: list[str]) -> dict:
    """{sp, se, score, per_class{c}, probe_acc} on the test split as (mean, std) pairs for one arm's
    metrics (one seed: std 0); probe_acc None for an arm without synthetic cycles."""
    align = metrics.get("alignment") or {}
    probe = align.get("probe_acc")
    out = {"probe_acc": None if probe is None else (probe, align.get("probe_acc_std", 0.0))}
    if "mean" in metrics:
        test_m, test_s = metrics["mean"].get("test", {}), metrics["std"].get("test", {})
        out.update({k: (test_m.get(k), test_s.get(k)) for k in ("sp", "se", "score")})
        out["per_class"] = {c: tuple(metrics.get("test_per_class", {}).get(c, (None, None))) for c in classes}
    else:
        test = metrics.get("test", {})
        out.update({k: (test.get(k), 0.0) for k in ("sp", "se", "score")})
        out["per_class"] = {c: (test.get("per_class", {}).get(c), 0.0) for c in classes}
    return out
