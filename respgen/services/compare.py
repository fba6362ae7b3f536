"""`compare`: the paper's comparison in one command: real-only CE, CE + oversampled real cycles, CE +
synthetic and AFT, fine-tuned with the same seeds and settings (one `finetune` run per arm and synthetic
set), side by side with each synthetic set's fidelity, realism and diversity."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

from respgen.arms import ARMS, AUGMENT_SET, ONCE
from respgen.classifier.resolution import Difference, difference_of
from respgen.classifier.run_record import RunRecord, seed_dir
from respgen.compute_log import making_seconds
from respgen.config import CompareConfig, FinetuneConfig
from respgen.disk_memo import file_fingerprint
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
    seconds: float  # wall time of its finetune
    amount: int | None = None  # synthetic (or augmented) cycles per class (None: all of the set, or none)
    cpu_seconds: float = 0.0  # processor time of its finetune (this process, every thread)
    epochs: int = 0
    making_seconds: float = 0.0  # making its synthetic set (synth runs, + vocoder training for DiffWave)

    @property
    def metrics(self) -> dict:
        return self.record.to_metrics_json()

    def to_dict(self) -> dict:
        return {
            "arm": self.arm,
            "label": self.label,
            "synthetic_set": self.synthetic_set,
            "amount": self.amount,
            "run_dir": self.run_dir,
            "metrics": self.metrics,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "seconds_per_epoch": self.seconds / self.epochs if self.epochs else None,
            "making_seconds": self.making_seconds,
        }


@dataclass
class CompareResult:
    name: str
    seeds: list[int]
    classes: list[str]
    arms: list[Arm] = field(default_factory=list)
    # per synthetic set: {"fidelity", "realism", "diversity"} by class (respgen.synthetic_quality)
    sets: dict[str, SetQuality] = field(default_factory=dict)
    # per run but ce: its test Score against ce (and against oversampling on the same set and amount)
    differences: dict[str, list[Difference]] = field(default_factory=dict)

    def val_choice(self) -> dict[str, int]:
        """Per arm and set swept over several amounts (`arm` or `arm (set)`): the amount with the best mean
        val Score. Chosen on val, never on test; nothing for runs without a val split."""
        by_key: dict[str, list[Arm]] = {}
        for a in self.arms:
            if a.amount is not None:
                by_key.setdefault(_key(a), []).append(a)
        out = {}
        for key, runs in by_key.items():
            scored = [(a.record.metric("val", "score")[0], a.amount) for a in runs]
            scored = [(v, n) for v, n in scored if v is not None]
            if len(runs) > 1 and scored:
                out[key] = max(scored, key=lambda t: (t[0], -t[1]))[1]
        return out

    def cost(self) -> dict[str, dict]:
        """Per run (`arm`, `arm (set)`, `... n=N`): its compute (finetune wall and processor seconds, and the
        wall seconds that made its synthetic set, as synth and vocoder train recorded them) and its mean test
        Score gained over the `ce` arm's, per hour of all that compute."""
        ce = next((a for a in self.arms if a.arm == "ce"), None)
        base = None if ce is None else ce.record.metric("test", "score")[0]
        out = {}
        for a in self.arms:
            score = a.record.metric("test", "score")[0]
            gain = None if base is None or score is None or a.arm == "ce" else score - base
            hours = (a.seconds + a.making_seconds) / 3600
            out[_key(a, amount=True)] = {
                "wall_seconds": a.seconds,
                "cpu_seconds": a.cpu_seconds,
                "making_seconds": a.making_seconds,
                "score_gain": gain,
                "gain_per_hour": None if gain is None or hours <= 0 else gain / hours,
            }
        return out

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "seeds": self.seeds,
            "classes": self.classes,
            "arms": [a.to_dict() for a in self.arms],
            "synthetic_sets": {name: q.to_dict() for name, q in self.sets.items()},
            "val_choice": self.val_choice(),
            "cost": self.cost(),
            "differences": {k: [d.to_dict() for d in ds] for k, ds in self.differences.items()},
        }


def _key(a: Arm, amount: bool = False) -> str:
    """How a run is named in the sweep and cost tables: `arm`, `arm (set)`, with ` n=N` when asked."""
    key = a.arm if a.synthetic_set is None or a.arm in ONCE else f"{a.arm} ({a.synthetic_set})"
    return f"{key} n={a.amount}" if amount and a.amount is not None else key


class Planned(NamedTuple):
    """One finetune run of a comparison: its arm, the synthetic set it reads and how many cycles per class."""

    arm: str
    synthetic_set: str | None
    amount: int | None


def arm_config(cfg: CompareConfig, run: Planned) -> FinetuneConfig:
    """The `finetune` config of one planned run: the shared settings with the arm's changes, named
    `<name>-<arm>` (`<name>-<set>-<arm>` when several sets are compared, `...-n<amount>` when several
    amounts are)."""
    shared = {k: v for k, v in cfg.flat().items() if k not in ("arms", "synthetic_sets", "name")}
    shared["synthetic_per_class"] = run.amount
    name = f"{cfg.name}-{run.arm}"
    if len(cfg.synthetic_sets) > 1 and run.arm not in ONCE:
        name = f"{cfg.name}-{run.synthetic_set}-{run.arm}"
    if len(cfg.data.synthetic_per_class or []) > 1 and run.amount is not None:
        name += f"-n{run.amount}"
    changes = {**ARMS[run.arm].settings, "name": name}
    if run.synthetic_set is not None:
        changes["synthetic_set"] = run.synthetic_set
    return FinetuneConfig.model_validate({**shared, **changes})


def plan(cfg: CompareConfig, ws: Workspace) -> list[Planned]:
    """The runs in the order they run: `ce` once; `ce-aug` once per amount on the augmentation set; every
    other arm once per set and amount."""
    sets = cfg.synthetic_sets or [cfg.data.synthetic_set or ws.default_synthetic_set()]
    amounts: list[int | None] = list(cfg.data.synthetic_per_class or [None])
    out: list[Planned] = []
    for arm in cfg.arms:
        if arm == "ce":
            out.append(Planned(arm, None, None))
        elif arm == "ce-aug":
            out += [Planned(arm, AUGMENT_SET, n) for n in amounts]
        else:
            out += [Planned(arm, s, n) for s in sets for n in amounts]
    return out


def check_plan(cfg: CompareConfig, ws: Workspace, planned: list[Planned]) -> None:
    """Everything the arms will read, checked before the first one trains (a bad set found after the
    `ce` arm would cost its whole training): real train cycles, every arm's config, and every synthetic
    set with all its listed audio. Raises `RespgenError` (exit 2) on the first problem."""
    if not any(r["split"] == "train" for r in ws.real_rows()):
        raise RespgenError("no real train cycles in the manifest", ws.manifest)
    for run in planned:
        arm_config(cfg, run)
    for synthetic_set in sorted({run.synthetic_set for run in planned if run.synthetic_set is not None}):
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
    for run in planned:
        t, cpu = time.perf_counter(), time.process_time()
        ft = finetune(arm_config(cfg, run), progress)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        epochs = sum(len(seed.history) for seed in ft.record.per_seed.values())
        done = Arm(
            run.arm, ARMS[run.arm].label, run.synthetic_set, ft.run_dir, ft.record, wall, run.amount, cpu, epochs
        )
        result.classes = ft.record.classes or result.classes
        result.arms.append(done)
        if on_arm:
            on_arm(done)
    for a in result.arms:
        if a.synthetic_set is not None and a.arm != "ce-over":  # oversampling reads only the set's counts
            a.making_seconds = set_making_seconds(ws, a.synthetic_set)
    result.differences = differences(result.arms, ws)
    if quality:
        from respgen.synthetic_quality import measure_set

        real_only = next((Path(a.run_dir) for a in result.arms if a.arm == "ce"), None)
        for s in sorted({a.synthetic_set for a in result.arms if a.synthetic_set}):
            result.sets[s] = measure_set(ws, s, None if real_only is None else seed_dir(real_only, result.seeds))
    return result


def differences(arms: list[Arm], ws: Workspace) -> dict[str, list[Difference]]:
    """Per run but `ce`: its paired test Score difference to the `ce` arm and to the oversampling arm of the
    same set and amount (`classifier.resolution`)."""
    test = ws.real_rows(("test",))
    fingerprint = file_fingerprint(ws.manifest, ws.root)
    ce = next((a for a in arms if a.arm == "ce"), None)
    out: dict[str, list[Difference]] = {}
    for a in arms:
        over = next(
            (o for o in arms if o.arm == "ce-over" and (o.synthetic_set, o.amount) == (a.synthetic_set, a.amount)), None
        )
        found = []
        for name, ref in (("ce", ce), ("ce-over", over)):
            if ref is not None and ref is not a:
                pair = (Path(a.run_dir), a.record), (Path(ref.run_dir), ref.record)
                d = difference_of(name, *pair, test, fingerprint)
                found += [d] if d is not None else []
        if found:
            out[_key(a, amount=True)] = found
    return out


def set_making_seconds(ws: Workspace, name: str) -> float:
    """Wall seconds recorded for making the synthetic set `name` (`compute_log.making_seconds`)."""
    syn_set = ws.synthetic_set(name)
    kinds = {str((r.get("vocoder") or {}).get("kind", "diffwave")) for r in syn_set.rows(require_audio=False)}
    return making_seconds(syn_set.root, ws.vocoder, kinds)


def arm_summary(record: RunRecord) -> dict:
    """{sp, se, score, per_class{c}, probe_acc} on the test split as (mean, std) pairs for one arm
    (one seed: std 0); probe_acc None for an arm without synthetic cycles."""
    return {
        **{k: record.metric("test", k) for k in ("sp", "se", "score")},
        "per_class": record.per_class("test"),
        "probe_acc": record.probe(),
    }
