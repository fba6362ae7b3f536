"""The files the report plays and pictures beside its pages, written from a `ReportModel`: each
excerpt (`model.Clip`) as a 16-bit PCM WAV (`respgen.audio.write_wav`) and its mel as a PNG, under
`listen/`. The names are made here, so both views link the same files."""

from __future__ import annotations

from pathlib import Path

from respgen.audio import write_wav
from respgen.report import plots
from respgen.report.model import Clip, ListeningPair, ReportModel
from respgen.sample_rate import SAMPLE_RATE

FOLDER = "listen"


def pair_name(set_name: str, p: ListeningPair, side: str) -> str:
    """`listen/<set>-<class>-<pick>-<real|synthetic>` (add `.wav` / `.png`)."""
    return f"{FOLDER}/{set_name}-{p.label}-{p.pick}-{side}"


def error_name(label: str, index: int) -> str:
    """`listen/error-<true class>-<1-based rank>` (add `.wav` / `.png`)."""
    return f"{FOLDER}/error-{label}-{index + 1}"


def clips(model: ReportModel) -> list[tuple[str, Clip]]:
    """(name, clip) of every excerpt the report shows."""
    out = []
    for s in model.sets:
        for p in s.pairs:
            out += [(pair_name(s.name, p, "real"), p.real), (pair_name(s.name, p, "synthetic"), p.synthetic)]
    if model.errors is not None:
        for label, wrong in model.errors.by_class.items():
            out += [(error_name(label, i), m.clip) for i, m in enumerate(wrong)]
    return out


def write(model: ReportModel, out: Path, audio: bool = True) -> list[str]:
    """Write every excerpt's mel PNG (and WAV with `audio`) into `out` (a staging folder); returns the
    relative paths written."""
    written = []
    todo = clips(model)
    if todo:
        (out / FOLDER).mkdir(parents=True, exist_ok=True)
    for name, clip in todo:
        plots.mel_image(out / f"{name}.png", clip.mel)
        written.append(f"{name}.png")
        if audio:
            write_wav(out / f"{name}.wav", clip.audio, SAMPLE_RATE, atomic=False)
            written.append(f"{name}.wav")
    return written
