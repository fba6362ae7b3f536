"""`quickstart`: the whole method on the built-in demo data, end to end, in one workspace:
demo-data -> prepare -> vocoder train (tiny) -> synth (minority classes) -> compare (tiny AST: real
only, + synthetic, AFT; one seed) -> classify a held-out demo recording with the AFT model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from respgen.classify import classify
from respgen.compare import CompareResult, compare
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
from respgen.demo_data import make_demo_data
from respgen.labels import label_for
from respgen.lock import locked
from respgen.prepare import prepare
from respgen.synth import synthesize
from respgen.train_vocoder import train_vocoder

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
    comparison: CompareResult | None = None  # the three arms side by side

    def to_dict(self) -> dict:
        return {
            "workdir": self.workdir,
            "stages": [s.__dict__ for s in self.stages],
            "test": self.test,
            "held_out": self.held_out,
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }


@locked("quickstart")  # the whole pipeline: no other writer between its stages
def quickstart(cfg: QuickstartConfig, on_stage: Callable[[Stage], None] | None = None) -> QuickstartResult:
    """Run every stage in `cfg.workdir`: the demo dataset goes to `<workdir>/demo-icbhi/`, the stages
    write `data/`, `vocoder/`, `synth/` and `models/quickstart-{ce,ce-syn,aft}/` as the commands do
    (`models/latest` -> the AFT run)."""
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
    stage(
        "synth",
        lambda: synthesize(SynthConfig(workdir=work, classes=MINORITY, n=cfg.synth_per_class, seed=cfg.seed)),
        lambda r: (
            ", ".join(f"{c} {r.total[c]}" for c in MINORITY)
            + " synthetic cycles (6-step sampling); "
            + fidelity_summary(r.fidelity, cfg.vocoder_steps)
        ),
        work / "synth",
    )

    def arms(r: CompareResult) -> str:
        def one(a) -> str:
            probe = (a.metrics.get("alignment") or {}).get("probe_acc")
            return f"{a.arm} Score {100 * a.metrics['test']['score']:.1f}%" + (
                f" (probe {100 * probe:.0f}%)" if probe is not None else ""
            )

        return "test " + ", ".join(one(a) for a in r.arms)

    cmp = stage(
        "compare",
        lambda: compare(
            CompareConfig(
                workdir=work,
                preset="tiny",
                epochs=cfg.epochs,
                name="quickstart",
                seeds=[cfg.seed + 1],
                arms=["ce", "ce-syn", "aft"],
            )
        ),
        arms,
        lambda r: r.arms[-1].run_dir,
    )
    result.comparison = cmp
    ft = cmp.arms[-1]
    result.test = {k: ft.metrics["test"][k] for k in ("sp", "se", "score", "accuracy")}

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


def fidelity_summary(fidelity: dict, steps: int) -> str:
    """The synthetic cycles' log-mel L1 to their conditioning beside the noise baseline, said plainly."""
    numbers = ", ".join(f"{c} {f['mel_l1']:.3f}" for c, f in fidelity.items())
    noise = ", ".join(f"{f['mel_l1_noise']:.3f}" for f in fidelity.values())
    text = f"mel L1 to conditioning {numbers} (noise baseline {noise})"
    if any(f["mel_l1"] >= f["mel_l1_noise"] for f in fidelity.values()):
        text += (
            f". The {steps}-step tiny vocoder's cycles are noise-like; `vocoder train --preset demo` gets closer "
            "(0.5-0.6x noise) but not yet class-bearing crackles (docs/benchmarks.md)"
        )
    return text
