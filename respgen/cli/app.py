"""The `respgen` command line: parse flags, build a config, call a service, render the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from respgen import __version__
from respgen.cli.common import ConfigFile, Debug, Json, Quiet, Workdir, console, given, print_json, progress_bar, run_service
from respgen.cli.render import render_counts
from respgen.config import DemoDataConfig, PrepareConfig, load_config
from respgen.errors import NotImplementedYet

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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version")] = False,
) -> None:
    pass


@app.command()
def prepare(
    icbhi_dir: Annotated[Path, typer.Argument(help="ICBHI 2017 folder (wav + txt per recording, split file)", show_default=False)],
    split_file: Annotated[Optional[Path], typer.Option(help="Official split file [default: found inside ICBHI_DIR]")] = None,
    labels: Annotated[Optional[str], typer.Option(help="four (normal/crackle/wheeze/both) or binary [default: four]")] = None,
    val_fraction: Annotated[Optional[float], typer.Option(help="Patient-disjoint val share of train; 0 disables [default: 0.1]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the val split [default: 0]")] = None,
    sample_rate: Annotated[Optional[int], typer.Option(help="Clip sample rate [default: 16000]")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Decode processes [default: CPU cores]")] = None,
    strict: Annotated[Optional[bool], typer.Option("--strict/--no-strict", help="Error (not skip) on unannotated wavs")] = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """ICBHI folder -> 16 kHz respiratory-cycle clips + manifest in WORKDIR/data."""
    from respgen.prepare import prepare as prepare_service

    flags = given(icbhi_dir=icbhi_dir, split_file=split_file, labels=labels, val_fraction=val_fraction, seed=seed,
                  sample_rate=sample_rate, workers=workers, strict=strict, workdir=workdir)

    def go():
        cfg = load_config(PrepareConfig, "prepare", config, flags)
        with progress_bar("prepare", not (quiet or json)) as update:
            return prepare_service(cfg, progress=update)

    result = run_service(go, debug)
    if json:
        print_json(result.to_dict())
    elif not quiet:
        render_counts("cycles per split", result.counts, result.classes, extra={"recordings": result.recordings})
        console.print(result.val_note)
        for s in result.skipped:
            console.print(f"skipped: {s['item']}: {s['reason']}", markup=False, highlight=False)
        console.print(f"manifest: {result.manifest}")


@app.command("demo-data")
def demo_data(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the ICBHI-layout demo dataset into", show_default=False)],
    patients: Annotated[Optional[int], typer.Option(help="Patients [default: 12]")] = None,
    recordings_per_patient: Annotated[Optional[int], typer.Option(help="Recordings per patient [default: 2]")] = None,
    cycles_per_recording: Annotated[Optional[int], typer.Option(help="Cycles per recording [default: 8]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed [default: 0]")] = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Write a small synthetic dataset in the ICBHI layout (runs every command without the real data)."""
    from respgen.data.demo import make_demo_data

    flags = given(out_dir=out_dir, patients=patients, recordings_per_patient=recordings_per_patient,
                  cycles_per_recording=cycles_per_recording, seed=seed)
    result = run_service(lambda: make_demo_data(load_config(DemoDataConfig, "demo_data", config, flags)), debug)
    if json:
        print_json(result.to_dict())
    elif not quiet:
        from respgen.labels import CLASSES

        render_counts("demo cycles per split", result.counts, CLASSES, extra={"recordings": result.recordings})
        console.print(f"written to {result.out_dir}")


def _not_yet(what: str, debug: bool) -> None:
    def fail():
        raise NotImplementedYet(f"`respgen {what}` is not implemented yet")

    run_service(fail, debug)


@vocoder_app.command("train")
def vocoder_train(workdir: Workdir = None, config: ConfigFile = None, quiet: Quiet = False, debug: Debug = False) -> None:
    """Train the DiffWave vocoder on the prepared train cycles."""
    _not_yet("vocoder train", debug)


@app.command()
def synth(workdir: Workdir = None, config: ConfigFile = None, quiet: Quiet = False, json: Json = False, debug: Debug = False) -> None:
    """Re-vocode mels of real cycles of a class into new waveforms."""
    _not_yet("synth", debug)


@app.command()
def finetune(workdir: Workdir = None, config: ConfigFile = None, quiet: Quiet = False, json: Json = False, debug: Debug = False) -> None:
    """Fine-tune an AST on real (+ synthetic) cycles, optionally adversarially (--aft)."""
    _not_yet("finetune", debug)


@app.command()
def classify(workdir: Workdir = None, config: ConfigFile = None, quiet: Quiet = False, json: Json = False, debug: Debug = False) -> None:
    """Classify each cycle (or window) of recordings as normal / crackle / wheeze / both."""
    _not_yet("classify", debug)


def main() -> None:
    app()
