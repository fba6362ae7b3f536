"""The `respgen` command line: parse flags, build a config, call a service, render the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from respgen import __version__
from respgen.cli.common import ConfigFile, Cpu, Debug, Json, Precision, Quiet, Workdir, console, execute, given, run_service
from respgen.cli.render import render_counts
from respgen.config import DemoDataConfig, PrepareConfig

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

    result = execute(PrepareConfig, "prepare", config, flags, prepare_service, quiet=quiet, json=json, debug=debug, progress="prepare")
    if not (quiet or json):
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
    result = execute(DemoDataConfig, "demo_data", config, flags, make_demo_data, quiet=quiet, json=json, debug=debug)
    if not (quiet or json):
        from respgen.labels import CLASSES

        render_counts("demo cycles per split", result.counts, CLASSES, extra={"recordings": result.recordings})
        console.print(f"written to {result.out_dir}")


@vocoder_app.command("train")
def vocoder_train(
    preset: Annotated[Optional[str], typer.Option(help="base (paper DiffWave_BASE) or tiny (CPU tests) [default: base]")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Train until this step [default: 200000]")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Crops per process per step [default: 16]")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Adam learning rate [default: 2e-4]")] = None,
    grad_clip: Annotated[Optional[float], typer.Option(help="Clip gradient norm to this [default: off]")] = None,
    ema_decay: Annotated[Optional[float], typer.Option(help="Keep an EMA of weights (used by synth); 0 = off [default: 0]")] = None,
    save_every: Annotated[Optional[int], typer.Option(help="Checkpoint every N steps [default: 1000]")] = None,
    log_every: Annotated[Optional[int], typer.Option(help="Append to vocoder/metrics.jsonl every N steps [default: 100]")] = None,
    keep: Annotated[Optional[int], typer.Option(help="Checkpoints kept on disk [default: 2]")] = None,
    include_val: Annotated[Optional[bool], typer.Option("--include-val/--no-include-val", help="Also train on val cycles")] = None,
    fresh: Annotated[Optional[bool], typer.Option("--fresh/--resume", help="Start over instead of resuming [default: resume]")] = None,
    precision: Annotated[Optional[str], typer.Option(help="no | bf16 | fp16 [default: no]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed [default: 0]")] = None,
    cpu: Cpu = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Train the DiffWave vocoder on the prepared train cycles (resumes from the latest checkpoint)."""
    from respgen.config import VocoderTrainConfig
    from respgen.vocoder.train import train_vocoder

    flags = given(preset=preset, max_steps=max_steps, batch_size=batch_size, lr=lr, grad_clip=grad_clip, ema_decay=ema_decay,
                  save_every=save_every, log_every=log_every, keep=keep, include_val=include_val, fresh=fresh,
                  precision=precision, seed=seed, cpu=cpu, workdir=workdir)

    result = execute(VocoderTrainConfig, "vocoder_train", config, flags, train_vocoder, quiet=quiet, json=json, debug=debug, progress="vocoder train")
    if not (quiet or json):
        resumed = f" (resumed at step {result.start_step})" if result.start_step else ""
        loss = f", loss {result.loss:.4f}" if result.loss is not None else " (nothing to do: already at --max-steps)"
        console.print(f"trained to step {result.step}{resumed} on {result.clips} cycles{loss}")
        console.print(f"checkpoint: {result.checkpoint}")


@vocoder_app.command("import")
def vocoder_import(
    ckpt: Annotated[Path, typer.Argument(help="lmnt-com/diffwave checkpoint (weights.pt)", show_default=False)],
    force: Annotated[Optional[bool], typer.Option("--force/--no-force", help="Replace a vocoder already in the workdir")] = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Start from a reference DiffWave checkpoint: convert it into WORKDIR/vocoder (no code is executed)."""
    from respgen.config import VocoderImportConfig
    from respgen.import_vocoder import import_vocoder

    flags = given(ckpt=ckpt, force=force, workdir=workdir)
    result = execute(VocoderImportConfig, "vocoder_import", config, flags, import_vocoder, quiet=quiet, json=json, debug=debug)
    if not (quiet or json):
        p = result.params
        arch = f"{p['residual_layers']} layers x {p['residual_channels']} channels, {p['n_mels']} mels at {p['sample_rate']} Hz"
        console.print(f"imported step {result.step} ({arch}; preset {result.preset or 'none'}; optimizer {result.optimizer})")
        console.print(f"checkpoint: {result.checkpoint}")


@app.command()
def synth(
    class_: Annotated[Optional[list[str]], typer.Option("--class", help="normal, crackle, wheeze, both or all (repeatable)")] = None,
    n: Annotated[Optional[int], typer.Option("--n", help="Total clips wanted per class")] = None,
    length: Annotated[Optional[float], typer.Option(help="Seconds per clip [default: 4.0]")] = None,
    steps: Annotated[Optional[str], typer.Option(help="fast (6-step) or full (50-step) sampling [default: fast]")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Clips vocoded together [default: 16]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed [default: 0]")] = None,
    precision: Precision = None,
    cpu: Cpu = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Re-vocode mels of real train cycles of a class into new waveforms (resumable)."""
    from respgen.config import SynthConfig
    from respgen.synth import synthesize

    flags = given(classes=class_ or None, n=n, length=length, steps=steps, batch_size=batch_size, seed=seed,
                  precision=precision, cpu=cpu, workdir=workdir)

    result = execute(SynthConfig, "synth", config, flags, synthesize, quiet=quiet, json=json, debug=debug, progress="synth")
    if not (quiet or json):
        for c, total in result.total.items():
            console.print(f"{c}: {result.written[c]} written, {total} in total")
        console.print(f"manifest: {result.manifest}")


@app.command()
def finetune(
    aft: Annotated[Optional[bool], typer.Option("--aft/--no-aft", help="Adversarial fine-tuning (needs synthetic cycles)")] = None,
    preset: Annotated[Optional[str], typer.Option(help="base (AST-base) or tiny (CPU tests) [default: base]")] = None,
    init: Annotated[Optional[str], typer.Option(help="Pretrained AST: local dir or hub id (e.g. MIT/ast-finetuned-audioset-10-10-0.4593)")] = None,
    alpha: Annotated[Optional[float], typer.Option(help="Weight of the real/synthetic loss [default: 0.2]")] = None,
    lambda_mode: Annotated[Optional[str], typer.Option(help="dann (p = progress) or paper (the paper code's formula) [default: dann]")] = None,
    ma_beta: Annotated[Optional[float], typer.Option(help="Average weights with the previous step's [default: 0.5 paper mode, else 0]")] = None,
    synthetic: Annotated[Optional[bool], typer.Option("--synthetic/--no-synthetic", help="Use synthetic cycles when present [default: yes]")] = None,
    synthetic_per_class: Annotated[Optional[int], typer.Option(help="At most N synthetic cycles per class (Mixed-500: 500)")] = None,
    length: Annotated[Optional[float], typer.Option(help="Seconds per input [default: 5.0]")] = None,
    pad: Annotated[Optional[str], typer.Option(help="repeat or zero [default: repeat]")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="[default: preset's: base 50, tiny 25]")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="[default: preset's: base 32, tiny 16]")] = None,
    lr: Annotated[Optional[float], typer.Option(help="[default: preset's: base 5e-5, tiny 5e-4]")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="[default: 1e-6]")] = None,
    specaug: Annotated[Optional[float], typer.Option(help="SpecAugment probability per clip [default: 0]")] = None,
    class_weights: Annotated[Optional[bool], typer.Option("--class-weights/--no-class-weights", help="Inverse-frequency class weights")] = None,
    select_on: Annotated[Optional[str], typer.Option(help="val (honest), test (paper protocol) or last [default: val]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed [default: 1]")] = None,
    seeds: Annotated[Optional[str], typer.Option(help="Several seeds, e.g. 1,2,3: mean ± std of every metric")] = None,
    name: Annotated[Optional[str], typer.Option(help="Run name under WORKDIR/models [default: time + mode]")] = None,
    precision: Precision = None,
    cpu: Cpu = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Fine-tune an AST on real (+ synthetic) cycles, optionally adversarially (--aft)."""
    from respgen.config import FinetuneConfig
    from respgen.finetune import finetune as finetune_service

    seed_list = run_service(lambda: _seed_list(seeds), debug) if seeds else ([seed] if seed is not None else None)
    flags = given(aft=aft, preset=preset, init=init, alpha=alpha, lambda_mode=lambda_mode, ma_beta=ma_beta, synthetic=synthetic,
                  synthetic_per_class=synthetic_per_class, length=length, pad=pad, epochs=epochs, batch_size=batch_size, lr=lr,
                  weight_decay=weight_decay, specaug=specaug, class_weights=class_weights, select_on=select_on,
                  seeds=seed_list, name=name, precision=precision, cpu=cpu, workdir=workdir)
    result = execute(FinetuneConfig, "finetune", config, flags, finetune_service, quiet=quiet, json=json, debug=debug, progress="finetune (epochs)")
    if not (quiet or json):
        from respgen.cli.render import render_metrics

        for note in result.notes:
            console.print(note, markup=False, highlight=False)
        render_metrics(result.metrics)
        console.print(f"model: {result.run_dir}")


@app.command()
def classify(
    files: Annotated[list[Path], typer.Argument(help="Audio files (any format soundfile reads)", show_default=False)],
    model: Annotated[Optional[Path], typer.Option(help="Model dir [default: WORKDIR/models/latest]")] = None,
    annotations: Annotated[Optional[Path], typer.Option(help="ICBHI annotation file (default: FILE's .txt when present)")] = None,
    hop: Annotated[Optional[float], typer.Option(help="Window hop in seconds without annotations [default: model length]")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Segments per forward pass [default: 32]")] = None,
    cpu: Cpu = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV (file,start,end,label,p_<class>...)")] = False,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Classify each cycle (or window) of recordings as normal / crackle / wheeze / both."""
    from respgen.classify import classify as classify_service
    from respgen.cli.common import err_console
    from respgen.config import ClassifyConfig

    flags = given(files=files, model=model, annotations=annotations, hop=hop, batch_size=batch_size, cpu=cpu, workdir=workdir)
    result = execute(ClassifyConfig, "classify", config, flags, classify_service, quiet=quiet, json=json, debug=debug)
    if csv and not json:
        from respgen.cli.render import print_csv

        print_csv(result)
    elif not (quiet or json):
        from respgen.cli.render import render_classification

        render_classification(result)
    for e in result.errors:
        err_console.print(f"error: {e['error']}", markup=False, highlight=False, soft_wrap=True)
    if result.errors:
        raise typer.Exit(2)


@app.command()
def quickstart(
    vocoder_steps: Annotated[Optional[int], typer.Option(help="Tiny vocoder training steps [default: 200]")] = None,
    synth_per_class: Annotated[Optional[int], typer.Option(help="Synthetic cycles per minority class [default: 16]")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Tiny AST epochs [default: 25]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed [default: 0]")] = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Run the whole method on built-in demo data: demo-data, prepare, vocoder train, synth, finetune --aft, classify."""
    from respgen.config import QuickstartConfig
    from respgen.quickstart import quickstart as quickstart_service

    flags = given(vocoder_steps=vocoder_steps, synth_per_class=synth_per_class, epochs=epochs, seed=seed, workdir=workdir)

    def show(stage) -> None:
        if not (quiet or json):
            console.print(f"[bold]{stage.name}[/bold] ({stage.seconds:.0f} s): {stage.summary}")
            console.print(f"    -> {stage.outputs}", markup=False, highlight=False)

    result = execute(QuickstartConfig, "quickstart", config, flags, lambda cfg: quickstart_service(cfg, on_stage=show),
                     quiet=quiet, json=json, debug=debug)
    if not (quiet or json):
        t = result.test
        console.print(f"AFT model on the demo test split: Sp {100 * t['sp']:.1f}%  Se {100 * t['se']:.1f}%  Score {100 * t['score']:.1f}%")
        console.print(f"next: respgen report --workdir {result.workdir}", markup=False, highlight=False)


@app.command()
def report(
    model: Annotated[Optional[Path], typer.Option(help="Model for the feature-space numbers [default: WORKDIR/models/latest]")] = None,
    max_per_class: Annotated[Optional[int], typer.Option(help="Cycles per class and source for Fréchet distances [default: 200]")] = None,
    workdir: Workdir = None,
    config: ConfigFile = None,
    quiet: Quiet = False,
    json: Json = False,
    debug: Debug = False,
) -> None:
    """Write WORKDIR/report/report.md with figures: data, real vs synthetic, every run's metrics."""
    from respgen.config import ReportConfig
    from respgen.report.build import build_report

    flags = given(model=model, max_per_class=max_per_class, workdir=workdir)
    result = execute(ReportConfig, "report", config, flags, build_report, quiet=quiet, json=json, debug=debug)
    if not (quiet or json):
        console.print(f"report: {result.report} ({len(result.figures)} figures, {len(result.runs)} runs)")


def _seed_list(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        from respgen.errors import RespgenError

        raise RespgenError(f"--seeds must be comma-separated integers, got {text!r}") from None


def main() -> None:
    app()
