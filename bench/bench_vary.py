"""`synth --vary` strengths against the synthetic-set quality measures: for each setting, a Griffin-Lim set per
seed in a prepared workspace that has a real-only model (e.g. after `respgen quickstart --workdir W`), then
`synthetic_quality.measure_set`: per class the copy ratio (diversity), the label agreement of the real-only
model and realism (model features, log-mel statistics; 50% = indistinguishable).

    python bench/bench_vary.py --workdir W [--model W/models/quickstart-ce] [--n 32] [--seeds 0,1]
                               [--settings off,mild,default,strong,...] [--augment]

Writes sets `vary-<setting>-s<seed>` into W/synth/ (re-running resumes them). Prints a markdown table: one
row per (setting, class), each number the mean over the seeds; `--augment` adds `synth --vocoder augment`
sets for comparison.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from respgen.config import SynthConfig
from respgen.services.synth import synthesize
from respgen.synthetic_quality import measure_set
from respgen.workspace import Workspace

# (stretch, shift, mix, gain_db); None: no --vary
SETTINGS: dict[str, tuple[float, int, float, float] | None] = {
    "off": None,
    "mild": (0.05, 1, 0.15, 1.5),
    "default": (0.1, 2, 0.3, 3.0),
    "strong": (0.25, 5, 0.5, 6.0),
    "stretch": (0.1, 0, 0.0, 0.0),
    "shift": (0.0, 2, 0.0, 0.0),
    "mix": (0.0, 0, 0.3, 0.0),
    "gain": (0.0, 0, 0.0, 3.0),
    "no-stretch": (0.0, 2, 0.3, 3.0),
    "stretch-mix": (0.1, 0, 0.3, 0.0),
    "stretch-mix-strong": (0.2, 0, 0.5, 0.0),
}
CLASSES = ["crackle", "wheeze", "both"]


def make_set(work: Path, name: str, setting: str, seed: int, n: int) -> None:
    if setting == "augment":
        cfg = SynthConfig(workdir=work, classes=CLASSES, n=n, seed=seed, vocoder="augment", set_name=name)
    else:
        s = SETTINGS[setting]
        strengths = {} if s is None else dict(zip(("vary_stretch", "vary_shift", "vary_mix", "vary_gain_db"), s))
        cfg = SynthConfig(
            workdir=work,
            classes=CLASSES,
            n=n,
            seed=seed,
            vocoder="griffinlim",
            set_name=name,
            vary=s is not None,
            **strengths,
        )
    synthesize(cfg)


def mean(xs: list[float | None]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.fmean(xs) if xs else None


def fmt(x: float | None, pct: bool = False) -> str:
    return "–" if x is None else (f"{100 * x:.0f}%" if pct else f"{x:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--settings", default="off,mild,default,strong")
    ap.add_argument("--augment", action="store_true")
    args = ap.parse_args()
    ws = Workspace(args.workdir)
    model = args.model or args.workdir / "models" / "quickstart-ce"
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = args.settings.split(",") + (["augment"] if args.augment else [])
    print("| setting | class | mel L1 | copy ratio | label agreement | realism (model) | realism (log-mel) |")
    print("|---|---|---|---|---|---|---|")
    for setting in settings:
        qualities = []
        for seed in seeds:
            name = f"vary-{setting}-s{seed}"
            make_set(args.workdir, name, setting, seed, args.n)
            qualities.append(measure_set(ws, name, model))
        for c in CLASSES:
            l1 = mean([q.fidelity[c].mel_l1 for q in qualities])
            copy = mean([q.diversity[c].copy_ratio for q in qualities])
            agree = mean([q.fidelity[c].label_agreement for q in qualities])
            rm = mean([q.realism[c].model if c in q.realism else None for q in qualities])
            rl = mean([q.realism[c].logmel if c in q.realism else None for q in qualities])
            cells = [fmt(l1), fmt(copy), fmt(agree, True), fmt(rm, True), fmt(rl, True)]
            print(f"| {setting} | {c} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
