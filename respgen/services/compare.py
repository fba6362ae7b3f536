"""`compare`: the paper's comparison in one command: real-only CE, CE + oversampled real cycles, CE +
synthetic and AFT, fine-tuned with the same seeds and settings (one `finetune` run per arm and synthetic
set), side by side with each synthetic set's fidelity, realism and diversity."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from respgen.arms import ARMS
from respgen.classifier.run_record import RunRecord, seed_dir
from respgen.config import CompareConfig, FinetuneConfig
from respgen.errors import RespgenError
from respgen.lock import locked
from respgen.services.finetune import finetune
from respgen.set_quality import SetQuality
from respgen.workspace import Workspace


@dataclass
class Arm:
    arm: str
    label: str
    synthetic_set: str | None  # None: an arm that uses no synthetic set (ce)
    run_dir: str
    record: RunRecord
    seconds: float

    @property
    def metrics(self) -> dict:
        return self.record.to_metrics_json()

    def to_dict(self) -> dict:
        return {
            "arm": self.arm,
            "label": self.label,
            "synthetic_set": self.synthetic_set,
            "run_dir": self.run_dir,
            "metrics": self.metrics,
            "seconds": self.seconds,
        }


@dataclass
class CompareResult:
    name: str
    seeds: list[int]
    classes: list[str]
    arms: list[Arm] = field(default_factory=list)
    # per synthetic set: {"fidelity", "realism", "diversity"} by class (respgen.synthetic_quality)
    sets: dict[str, SetQuality] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "seeds": self.seeds,
            "classes": self.classes,
            "arms": [a.to_dict() for a in self.arms],
            "synthetic_sets": {name: q.to_dict() for name, q in self.sets.items()},
        }


def arm_config(cfg: CompareConfig, arm: str, synthetic_set: str | None = None) -> FinetuneConfig:
    """The `finetune` config of one arm: the shared settings with the arm's changes, named
    `<name>-<arm>` (`<name>-<set>-<arm>` when several sets are compared)."""
    shared = {k: v for k, v in cfg.flat().items() if k not in ("arms", "synthetic_sets", "name")}
    several = len(cfg.synthetic_sets) > 1 and arm != "ce"
    name = f"{cfg.name}-{synthetic_set}-{arm}" if several else f"{cfg.name}-{arm}"
    changes = {**ARMS[arm].settings, "name": name}
    if synthetic_set is not None:
        changes["synthetic_set"] = synthetic_set
    return FinetuneConfig.model_validate({**shared, **changes})


def plan(cfg: CompareConfig, ws: Workspace) -> list[tuple[str, str | None]]:
    """(arm, synthetic set) in the order they run: `ce` once, every other arm once per set."""
    sets = cfg.synthetic_sets or [cfg.data.synthetic_set or ws.default_synthetic_set()]
    out: list[tuple[str, str | None]] = []
    for arm in cfg.arms:
        out += [(arm, None)] if arm == "ce" else [(arm, s) for s in sets]
    return out


def check_plan(cfg: CompareConfig, ws: Workspace, planned: list[tuple[str, str | None]]) -> None:
    """Everything the arms will read, checked before the first one trains (a bad set found after the
    `ce` arm would cost its whole training): real train cycles, every arm's config, and every synthetic
    set with all its listed audio. Raises `RespgenError` (exit 2) on the first problem."""
    if not any(r["split"] == "train" for r in ws.real_rows()):
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    for arm, synthetic_set in planned:
        arm_config(cfg, arm, synthetic_set)
    for synthetic_set in sorted({s for _, s in planned if s is not None}):
        ws.synthetic_set(synthetic_set, must_exist=True).rows(require_audio=True)


@locked("compare")  # all arms on the same data: no other writer between them
def compare(
    cfg: CompareConfig,
    progress: Callable[..., None] | None = None,
    on_arm: Callable[[Arm], None] | None = None,
    quality: bool = True,
) -> CompareResult:
    """Fine-tune one run per arm (`cfg.arms`) and synthetic set (`cfg.synthetic_sets`) with the same
    seeds and settings; with `quality`, also measure each set (fidelity, realism, diversity; the realism
    features and label agreement use the `ce` arm's real-only model when it ran).

    Reads what `finetune` reads; writes `models/<name>-<arm>/` per arm (`<name>-<set>-<arm>` with
    several sets; `<name>`: `--name`, default `compare-<time>`), each an ordinary finetune run, and
    leaves `models/latest` at the last arm."""
    ws = Workspace(cfg.workdir)
    name = cfg.name or f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    cfg = cfg.model_copy(update={"name": name})
    result = CompareResult(name, list(cfg.seeds), list(ws.classes()))
    planned = plan(cfg, ws)
    check_plan(cfg, ws, planned)
    for arm, synthetic_set in planned:
        t = time.perf_counter()
        ft = finetune(arm_config(cfg, arm, synthetic_set), progress)
        used = None if arm == "ce" else synthetic_set
        done = Arm(arm, ARMS[arm].label, used, ft.run_dir, ft.record, time.perf_counter() - t)
        result.classes = ft.record.classes or result.classes
        result.arms.append(done)
        if on_arm:
            on_arm(done)
    if quality:
        from respgen.synthetic_quality import measure_set

        real_only = next((Path(a.run_dir) for a in result.arms if a.arm == "ce"), None)
        for s in sorted({a.synthetic_set for a in result.arms if a.synthetic_set}):
            result.sets[s] = measure_set(ws, s, None if real_only is None else seed_dir(real_only, result.seeds))
    return result


def arm_summary(record: RunRecord) -> dict:
    """{sp, se, score, per_class{c}, probe_acc} on the test split as (mean, std) pairs for one arm
    (one seed: std 0); probe_acc None for an arm without synthetic cycles."""
    return {
        **{k: record.metric("test", k) for k in ("sp", "se", "score")},
        "per_class": record.per_class("test"),
        "probe_acc": record.probe(),
    }
