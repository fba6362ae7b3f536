"""The `respgen` command line: which config, service and renderer each command wires together.
Options come from the config models (respgen/config.py) via `command`; services are imported lazily."""

from __future__ import annotations

from typing import Annotated

import typer

from respgen import __version__, config
from respgen.cli import render
from respgen.cli.common import Run, command, console, flag

app = typer.Typer(
    name="respgen",
    help="Generated respiratory sounds + adversarial fine-tuning against class imbalance (ICBHI 2017).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
vocoder_app = typer.Typer(help="The DiffWave vocoder.", no_args_is_help=True)
app.add_typer(vocoder_app, name="vocoder")


def _version(value: bool) -> None:
    if value:
        console.print(f"respgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version")
    ] = False,
) -> None:
    pass


@command(app, config.PrepareConfig, arguments=("icbhi_dir",), progress="prepare")
def prepare(run: Run) -> None:
    """ICBHI folder -> 16 kHz respiratory-cycle clips + manifest in WORKDIR/data."""
    run("respgen.prepare:prepare", render.prepare)


@command(app, config.DemoDataConfig, arguments=("out_dir",))
def demo_data(run: Run) -> None:
    """Write a small synthetic dataset in the ICBHI layout (runs every command without the real data)."""
    run("respgen.demo_data:make_demo_data", render.demo_data)


@command(vocoder_app, config.VocoderTrainConfig, name="train", progress="vocoder train")
def vocoder_train(run: Run) -> None:
    """Train the DiffWave vocoder on the prepared train cycles (resumes from the latest checkpoint)."""
    run("respgen.train_vocoder:train_vocoder", render.vocoder_train)


@command(vocoder_app, config.VocoderImportConfig, name="import", arguments=("ckpt",))
def vocoder_import(run: Run) -> None:
    """Start from a reference DiffWave checkpoint: convert it into WORKDIR/vocoder (no code is executed)."""
    run("respgen.import_vocoder:import_vocoder", render.vocoder_import)


@command(app, config.SynthConfig, spelling={"classes": flag("--class"), "set_name": flag("--set")}, progress="synth")
def synth(run: Run) -> None:
    """Re-vocode mels of real train cycles of a class into new waveforms (resumable)."""
    run("respgen.synth:synthesize", render.synth)


FINETUNE_SPELLING = {"seeds": flag("--seeds", type=str), "fade_out": flag("--fade-out", "--fade-samples")}


@command(app, config.FinetuneConfig, spelling=FINETUNE_SPELLING, progress="finetune (epochs)")
def finetune(
    run: Run,
    seed: Annotated[int | None, typer.Option("--seed", help="One seed: the same as --seeds N")] = None,
) -> None:
    """Fine-tune an AST on real (+ synthetic) cycles, optionally adversarially (--aft)."""
    if seed is not None:
        run.flags.setdefault("seeds", [seed])  # --seeds wins
    run("respgen.finetune:finetune", render.finetune)


@command(
    app,
    config.CompareConfig,
    spelling={
        **FINETUNE_SPELLING,
        "arms": flag("--arms", type=str),
        "synthetic_sets": flag("--synthetic-sets", type=str),
    },
    progress="compare (epochs)",
    omit=("aft", "synthetic", "oversample"),  # each arm sets them
)
def compare(run: Run) -> None:
    """The paper's comparison: one finetune run per arm (real only, + synthetic, AFT), same seeds, side by side."""
    run("respgen.compare:compare", render.compare)


@command(app, config.ClassifyConfig, arguments=("files",))
def classify(
    run: Run,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV (file,start,end,label,p_<class>...)")] = False,
) -> None:
    """Classify each cycle (or window) of recordings as normal / crackle / wheeze / both."""
    result = run("respgen.classify:classify", None if csv else render.classification)
    if csv and not run.json:
        render.classification_csv(result)
    render.failed_files(result)


@command(app, config.QuickstartConfig)
def quickstart(run: Run) -> None:
    """Run the whole method on built-in demo data: demo-data, prepare, vocoder train, synth, compare (real only,
    + synthetic, AFT), classify."""
    run("respgen.quickstart:quickstart", render.quickstart, on_stage=run.shown(render.stage))


@command(app, config.ReportConfig)
def report(run: Run) -> None:
    """Write WORKDIR/report/report.md with figures: data, real vs synthetic, every run's metrics."""
    run("respgen.build_report:build_report", render.report)


def main() -> None:
    app()
