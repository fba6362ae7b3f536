"""`quickstart`: the whole method on the built-in demo data, end to end, in one workspace:
demo-data -> prepare -> vocoder train (tiny DiffWave) -> synth twice (minority classes: the DiffWave
set, and the training-free Griffin-Lim set) -> compare on the class-bearing set (tiny AST: real only,
+ oversampling, + synthetic, AFT; one seed) -> both sets' fidelity / realism / diversity against the
real-only model -> classify a held-out demo recording with the AFT model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
from respgen.services.classify import classify
from respgen.services.compare import CompareResult, compare
from respgen.services.demo_data import make_demo_data
from respgen.services.prepare import prepare
from respgen.services.synth import synthesize
from respgen.services.vocoder_train import train_vocoder
from respgen.synthetic_quality import measure_set
from respgen.workspace import Workspace

MINORITY = ["crackle", "wheeze", "both"]


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
    sets: dict[str, dict] = field(default_factory=dict)  # every set's quality (respgen.synthetic_quality)

    def to_dict(self) -> dict:
        return {
            "workdir": self.workdir,
            "stages": [s.__dict__ for s in self.stages],
            "test": self.test,
            "held_out": self.held_out,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "compared_set": self.compared_set,
            "why": self.why,
            "synthetic_sets": self.sets,
        }


@locked("quickstart")  # the whole pipeline: no other writer between its stages
def quickstart(cfg: QuickstartConfig, on_stage: Callable[[Stage], None] | None = None) -> QuickstartResult:
    """Run every stage in `cfg.workdir`: the demo dataset goes to `<workdir>/demo-icbhi/`, the stages
    write `data/`, `vocoder/`, `synth/diffwave/`, `synth/griffinlim/` and
    `models/quickstart-{ce,ce-over,ce-syn,aft}/` as the commands do (`models/latest` -> the AFT run). The
    comparison runs on the set closest to its sources (`class_bearing_set`)."""
    work = cfg.workdir
    demo = work / "demo-icbhi"
    result = QuickstartResult(str(work))

    def stage(name: str, fn, summarise, outputs: Path):
        t = time.perf_counter()
        out = fn()
        where = outputs(out) if callable(outputs) else outputs
        s = Stage(name, summarise(out), str(where), time.perf_counter() - t)
        result.stages.append(s)
        if on_stage:
            on_stage(s)
        return out

    stage(
        "demo-data",
        lambda: make_demo_data(DemoDataConfig(out_dir=demo, seed=cfg.seed)),
        lambda r: (
            f"{sum(r.recordings.values())} recordings ({r.recordings['train']} train, {r.recordings['test']} test)"
        ),
        demo,
    )
    stage(
        "prepare",
        lambda: prepare(PrepareConfig(icbhi_dir=demo, workdir=work, seed=cfg.seed)),
        lambda r: ", ".join(f"{s} {sum(c.values())}" for s, c in r.counts.items()) + " cycles",
        work / "data",
    )
    stage(
        "vocoder train",
        lambda: train_vocoder(
            VocoderTrainConfig(
                workdir=work,
                preset="tiny",
                max_steps=cfg.vocoder_steps,
                batch_size=4,
                save_every=cfg.vocoder_steps,
                log_every=max(1, cfg.vocoder_steps // 10),
                eval_every=max(1, cfg.vocoder_steps // 2),
                seed=cfg.seed,
            )
        ),
        lambda r: (
            f"tiny DiffWave, {r.step} steps" + (f", loss {r.loss:.3f}" if r.loss is not None else " (already trained)")
        ),
        work / "vocoder",
    )
    synth_sets = {}
    for vocoder, note in (("diffwave", "6-step sampling"), ("griffinlim", "training-free")):
        synth_sets[vocoder] = stage(
            f"synth ({vocoder})",
            lambda vocoder=vocoder: synthesize(
                SynthConfig(workdir=work, classes=MINORITY, n=cfg.synth_per_class, seed=cfg.seed, vocoder=vocoder)
            ),
            lambda r, note=note: (
                ", ".join(f"{c} {r.total[c]}" for c in MINORITY)
                + f" synthetic cycles ({note}); "
                + fidelity_summary(r.fidelity)
            ),
            lambda r: Path(r.manifest).parent,
        )
    chosen, why = class_bearing_set({name: r.fidelity for name, r in synth_sets.items()})
    result.compared_set, result.why = chosen, why

    def arms(r: CompareResult) -> str:
        def one(a) -> str:
            probe = a.record.probe()
            score = a.record.metric("test", "score")[0]
            return f"{a.arm} Score {100 * score:.1f}%" + (f" (probe {100 * probe[0]:.0f}%)" if probe else "")

        return f"on set {chosen} ({why}): test " + ", ".join(one(a) for a in r.arms)

    cmp = stage(
        "compare",
        lambda: compare(
            CompareConfig(
                workdir=work,
                preset="tiny",
                epochs=cfg.epochs,
                name="quickstart",
                seeds=[cfg.seed + 1],
                arms=["ce", "ce-over", "ce-syn", "aft"],
                synthetic_set=chosen,
            ),
            quality=False,
        ),
        arms,
        lambda r: r.arms[-1].run_dir,
    )
    result.comparison = cmp
    ft = cmp.arms[-1]
    result.test = {k: ft.record.metric("test", k)[0] for k in ("sp", "se", "score", "accuracy")}
    real_only = Path(cmp.arms[0].run_dir)

    def quality() -> dict:
        result.sets = {name: measure_set(Workspace(work), name, real_only) for name in synth_sets}
        return result.sets

    stage("synthetic quality", quality, quality_summary, work / "synth")

    splits = SplitTable(demo / SPLIT_FILE_NAME)
    held = sorted(p for p in demo.glob("*.wav") if splits.by_name.get(p.stem) == "test")[0]
    truth = [label_for(c.crackle, c.wheeze) for c in parse_annotation(held.with_suffix(".txt"))]

    def held_out(r) -> str:
        predicted = [s["label"] for s in r.files[0].segments]
        result.held_out = {
            "file": str(held),
            "cycles": len(truth),
            "correct": sum(a == b for a, b in zip(truth, predicted)),
            "truth": truth,
            "predicted": predicted,
        }
        return f"{held.name}: {result.held_out['correct']}/{len(truth)} cycles labelled correctly"

    stage(
        "classify", lambda: classify(ClassifyConfig(files=[held], model=Path(ft.run_dir), workdir=work)), held_out, held
    )
    return result


def fidelity_summary(fidelity: dict) -> str:
    """The synthetic cycles' log-mel L1 to their conditioning beside the noise baseline, said plainly."""
    numbers = ", ".join(f"{c} {f['mel_l1']:.3f}" for c, f in fidelity.items())
    noise = ", ".join(f"{f['mel_l1_noise']:.3f}" for f in fidelity.values())
    text = f"mel L1 to conditioning {numbers} (noise baseline {noise})"
    if any(f["mel_l1"] >= f["mel_l1_noise"] for f in fidelity.values()):
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


def quality_summary(sets: dict[str, dict]) -> str:
    """Per set: label agreement and realism (fbank) per class, in one line each."""
    parts = []
    for name, q in sets.items():
        cells = []
        for c, f in q.get("fidelity", {}).items():
            agree = f.get("label_agreement")
            real = q.get("realism", {}).get(c, {}).get("fbank")
            cells.append(
                f"{c} agreement {'-' if agree is None else f'{100 * agree:.0f}%'}"
                f" realism {'-' if real is None else f'{100 * real:.0f}%'}"
            )
        parts.append(f"{name}: " + ", ".join(cells))
    return "; ".join(parts)
