"""`quickstart`: the whole method on the built-in demo data, end to end, in one workspace:
demo-data -> prepare -> vocoder train (tiny DiffWave) -> synth twice (minority classes: the DiffWave
set, and the training-free Griffin-Lim set) -> compare on the class-bearing set (tiny AST: real only,
+ oversampling, + synthetic, AFT; one seed) -> both sets' fidelity / realism / diversity against the
real-only model -> classify a held-out demo recording with the AFT model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from respgen.config import (
    ClassifyConfig,
    CompareConfig,
    DemoDataConfig,
    PrepareConfig,
    QuickstartConfig,
    SynthConfig,
    VocoderTrainConfig,
)
from respgen.data.icbhi import SPLIT_FILE_NAME, SplitTable, parse_annotation
from respgen.labels import label_for
from respgen.lock import locked
from respgen.noise_like import noise_like
from respgen.services.classify import ClassifyResult, classify
from respgen.services.compare import Arm, CompareResult, compare
from respgen.services.demo_data import make_demo_data
from respgen.services.prepare import prepare
from respgen.services.synth import SynthResult, synthesize
from respgen.services.vocoder_train import train_vocoder
from respgen.set_quality import SetQuality
from respgen.synthetic_quality import measure_set
from respgen.workspace import Workspace

MINORITY = ["crackle", "wheeze", "both"]
T = TypeVar("T")


@dataclass
class Stage:
    name: str
    summary: str
    outputs: str
    seconds: float


@dataclass
class QuickstartResult:
    workdir: str
    stages: list[Stage] = field(default_factory=list)
    test: dict = field(default_factory=dict)  # the AFT model's test metrics
    held_out: dict = field(default_factory=dict)  # classify on a held-out recording
    comparison: CompareResult | None = None  # the arms side by side
    compared_set: str | None = None  # the synthetic set the comparison used ...
    why: str = ""  # ... and why
    sets: dict[str, SetQuality] = field(default_factory=dict)  # every set's quality (respgen.synthetic_quality)

    def to_dict(self) -> dict:
        return {
            "workdir": self.workdir,
            "stages": [s.__dict__ for s in self.stages],
            "test": self.test,
            "held_out": self.held_out,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "compared_set": self.compared_set,
            "why": self.why,
            "synthetic_sets": {name: q.to_dict() for name, q in self.sets.items()},
        }


@locked("quickstart")  # the whole pipeline: no other writer between its stages
def quickstart(cfg: QuickstartConfig, on_stage: Callable[[Stage], None] | None = None) -> QuickstartResult:
    """Run every stage in `cfg.workdir`: the demo dataset goes to `<workdir>/demo-icbhi/`, the stages
    write `data/`, `vocoder/`, `synth/diffwave/`, `synth/griffinlim/` and
    `models/quickstart-{ce,ce-over,ce-syn,aft}/` as the commands do (`models/latest` -> the AFT run). The
    comparison runs on the set closest to its sources (`class_bearing_set`)."""
    run = _Run(cfg, QuickstartResult(str(cfg.workdir)), on_stage)
    _demo_data(run)
    _prepare(run)
    _train_vocoder(run)
    synth_sets = _synthesize_sets(run)
    run.result.compared_set, run.result.why = class_bearing_set({n: r.fidelity for n, r in synth_sets.items()})
    cmp = _compare(run)
    _measure_quality(run, list(synth_sets), real_only=Path(cmp.arms[0].run_dir))
    _classify_held_out(run, model=Path(cmp.arms[-1].run_dir))
    return run.result


@dataclass
class _Run:
    """One quickstart in progress: its settings, the result it fills, and who hears of each finished stage."""

    cfg: QuickstartConfig
    result: QuickstartResult
    on_stage: Callable[[Stage], None] | None

    @property
    def work(self) -> Path:
        return self.cfg.workdir

    @property
    def demo(self) -> Path:
        return self.cfg.workdir / "demo-icbhi"

    def stage(self, name: str, fn: Callable[[], T], summarise: Callable[[T], str], outputs) -> T:
        """Run `fn`, record its Stage (`outputs`: a path, or a function of `fn`'s result giving one) and report it."""
        t = time.perf_counter()
        out = fn()
        where = outputs(out) if callable(outputs) else outputs
        s = Stage(name, summarise(out), str(where), time.perf_counter() - t)
        self.result.stages.append(s)
        if self.on_stage:
            self.on_stage(s)
        return out


def _demo_data(run: _Run) -> None:
    run.stage(
        "demo-data",
        lambda: make_demo_data(DemoDataConfig(out_dir=run.demo, seed=run.cfg.seed)),
        lambda r: (
            f"{sum(r.recordings.values())} recordings ({r.recordings['train']} train, {r.recordings['test']} test)"
        ),
        run.demo,
    )


def _prepare(run: _Run) -> None:
    run.stage(
        "prepare",
        lambda: prepare(PrepareConfig(icbhi_dir=run.demo, workdir=run.work, seed=run.cfg.seed)),
        lambda r: ", ".join(f"{s} {sum(c.values())}" for s, c in r.counts.items()) + " cycles",
        run.work / "data",
    )


def _train_vocoder(run: _Run) -> None:
    steps = run.cfg.vocoder_steps
    config = VocoderTrainConfig(
        workdir=run.work,
        preset="tiny",
        max_steps=steps,
        batch_size=4,
        save_every=steps,
        log_every=max(1, steps // 10),
        eval_every=max(1, steps // 2),
        seed=run.cfg.seed,
    )
    run.stage(
        "vocoder train",
        lambda: train_vocoder(config),
        lambda r: (
            f"tiny DiffWave, {r.step} steps" + (f", loss {r.loss:.3f}" if r.loss is not None else " (already trained)")
        ),
        run.work / "vocoder",
    )


def _synthesize_sets(run: _Run) -> dict[str, SynthResult]:
    """The minority classes' synthetic sets: DiffWave's and the training-free Griffin-Lim one."""
    return {
        vocoder: _synthesize(run, vocoder, note)
        for vocoder, note in (("diffwave", "6-step sampling"), ("griffinlim", "training-free"))
    }


def _synthesize(run: _Run, vocoder: str, note: str) -> SynthResult:
    config = SynthConfig(
        workdir=run.work, classes=MINORITY, n=run.cfg.synth_per_class, seed=run.cfg.seed, vocoder=vocoder
    )
    return run.stage(
        f"synth ({vocoder})",
        lambda: synthesize(config),
        lambda r: (
            ", ".join(f"{c} {r.total[c]}" for c in MINORITY)
            + f" synthetic cycles ({note}); "
            + fidelity_summary(r.fidelity)
        ),
        lambda r: Path(r.manifest).parent,
    )


def _compare(run: _Run) -> CompareResult:
    """The four arms on the chosen set; records the comparison and the AFT model's test metrics."""
    config = CompareConfig(
        workdir=run.work,
        preset="tiny",
        epochs=run.cfg.epochs,
        name="quickstart",
        seeds=[run.cfg.seed + 1],
        arms=["ce", "ce-over", "ce-syn", "aft"],
        synthetic_set=run.result.compared_set,
    )
    cmp = run.stage(
        "compare",
        lambda: compare(config, quality=False),
        lambda r: f"on set {run.result.compared_set} ({run.result.why}): test " + ", ".join(map(_arm_summary, r.arms)),
        lambda r: r.arms[-1].run_dir,
    )
    run.result.comparison = cmp
    ft = cmp.arms[-1]
    run.result.test = {k: ft.record.metric("test", k)[0] for k in ("sp", "se", "score", "accuracy")}
    return cmp


def _arm_summary(a: Arm) -> str:
    probe = a.record.probe()
    score = a.record.metric("test", "score")[0]
    return f"{a.arm} Score {100 * score:.1f}%" + (f" (probe {100 * probe[0]:.0f}%)" if probe else "")


def _measure_quality(run: _Run, names: list[str], real_only: Path) -> None:
    """Every synthetic set's fidelity, realism and diversity against the real-only model."""

    def quality() -> dict[str, SetQuality]:
        run.result.sets = {name: measure_set(Workspace(run.work), name, real_only) for name in names}
        return run.result.sets

    run.stage("synthetic quality", quality, quality_summary, run.work / "synth")


def _classify_held_out(run: _Run, model: Path) -> None:
    """Classify the first demo test recording with `model`; records its cycles' truth and predictions."""
    splits = SplitTable(run.demo / SPLIT_FILE_NAME)
    held = sorted(p for p in run.demo.glob("*.wav") if splits.by_name.get(p.stem) == "test")[0]
    truth = [label_for(c.crackle, c.wheeze) for c in parse_annotation(held.with_suffix(".txt"))]

    def held_out(r: ClassifyResult) -> str:
        predicted = [s["label"] for s in r.files[0].segments]
        run.result.held_out = {
            "file": str(held),
            "cycles": len(truth),
            "correct": sum(a == b for a, b in zip(truth, predicted)),
            "truth": truth,
            "predicted": predicted,
        }
        return f"{held.name}: {run.result.held_out['correct']}/{len(truth)} cycles labelled correctly"

    run.stage("classify", lambda: classify(ClassifyConfig(files=[held], model=model, workdir=run.work)), held_out, held)


def fidelity_summary(fidelity: dict) -> str:
    """The synthetic cycles' log-mel L1 to their conditioning beside the noise baseline, said plainly."""
    numbers = ", ".join(f"{c} {f['mel_l1']:.3f}" for c, f in fidelity.items())
    noise = ", ".join(f"{f['mel_l1_noise']:.3f}" for f in fidelity.values())
    text = f"mel L1 to conditioning {numbers} (noise baseline {noise})"
    if noise_like(fidelity):
        text += "; noise-like"
    return text


def class_bearing_set(fidelity: dict[str, dict]) -> tuple[str, str]:
    """(set, why): the set whose cycles are closest to their sources relative to the noise baseline
    (worst class counts): the one that can carry class content into the comparison."""

    def worst(f: dict) -> float:
        return max(v["mel_l1"] / v["mel_l1_noise"] for v in f.values())

    ranked = sorted(fidelity, key=lambda name: worst(fidelity[name]))
    chosen = ranked[0]
    others = "; ".join(f"{n} {worst(fidelity[n]):.2f}x" for n in ranked[1:])
    return chosen, f"mel L1 {worst(fidelity[chosen]):.2f}x the noise baseline at worst" + (
        f", vs {others}" if others else ""
    )


def quality_summary(sets: dict[str, SetQuality]) -> str:
    """Per set: label agreement and realism (log-mel) per class, in one line each."""
    return "; ".join(
        f"{name}: "
        + ", ".join(
            f"{r.label} agreement {_percent(r.label_agreement)} realism {_percent(r.realism_logmel)}"
            for r in quality.rows()
        )
        for name, quality in sets.items()
    )


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"
