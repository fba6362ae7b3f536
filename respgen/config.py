"""One pydantic config per command, holding every default and its description (the CLI's help text is
generated from them). `load_config` fills a config from defaults < the TOML file < command-line flags."""

from __future__ import annotations

import difflib
import os
import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from respgen.arms import ARMS
from respgen.errors import RespgenError
from respgen.sample_rate import SAMPLE_RATE
from respgen.workspace import default_workdir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


MAX_SEED = 2**32 - 1  # numpy's and torch's seed range


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    workdir: Path = Field(default_factory=default_workdir, description="Workspace folder")


class PrepareConfig(Config):
    icbhi_dir: Path = Field(
        description="The dataset: an ICBHI 2017 folder, a SPRSound (BioCAS) folder, or an annotation table "
        "(.csv/.tsv: file, start, end, label[, patient, split])"
    )
    format: Literal["auto", "icbhi", "sprsound", "table"] = Field(
        "auto", description="The dataset's layout (auto: detected from what is there)"
    )
    split_file: Path | None = Field(None, description="ICBHI: official split file (default: found inside ICBHI_DIR)")
    labels: Literal["auto", "four", "binary", "events"] = Field(
        "auto",
        description="The classes: ICBHI four (normal/crackle/wheeze/both, auto) or binary (normal/abnormal); "
        "SPRSound events (its seven event types, auto) or binary (normal/adventitious); table events (its "
        "labels, auto) or binary",
    )
    label_map: Path | None = Field(
        None, description='TOML file merging or dropping labels: "source label" = "class" (or false to drop)'
    )
    normal_class: str | None = Field(
        None, description="The normal class (Sp is its recall; default: the class named normal)"
    )
    test_fraction: float = Field(
        0.2, gt=0.0, lt=1.0, description="Table without a split column: patient-disjoint test share (seeded)"
    )
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Patient-disjoint val share of train; 0 disables")
    seed: int = Field(0, description="Seed of the val split")
    sample_rate: int = Field(SAMPLE_RATE, ge=1000, description="Clip sample rate")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, description="Decode processes (default: CPU cores)"
    )
    strict: bool = Field(
        False, description="Error (not skip) on unannotated wavs, missing audio, Poor Quality or empty records"
    )
    recording_fade: int = Field(
        0, ge=0, description="Linear fade in and out of N samples on each whole recording before cutting (paper: 1000)"
    )


class DemoDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    out_dir: Path = Field(description="Folder to write the demo dataset into")
    layout: Literal["icbhi", "sprsound", "table"] = Field(
        "icbhi",
        description="icbhi (four classes), sprsound (BioCAS layout, seven event types) or table (wavs + "
        "annotations.csv); the sizes below shape the icbhi layout only",
    )
    patients: int = Field(12, ge=2, description="Patients")
    recordings_per_patient: int = Field(2, ge=1, description="Recordings per patient")
    cycles_per_recording: int = Field(8, ge=1, description="Cycles per recording")
    sample_rate: int = Field(8000, ge=4000, description="Sample rate of the written wavs")
    seed: int = Field(0, description="Seed")


Precision = Literal["no", "bf16", "fp16"]
VocoderPrecision = Literal["auto", "no", "bf16", "fp16"]
PRECISION = "Mixed precision"
AUTO_PRECISION = (
    "Mixed precision; auto = bf16 where the device computes bf16 natively (CUDA GPUs with bf16, CPUs with "
    "AVX512-BF16/AMX), else no (fp32)"
)
CPU = "Force CPU even with a GPU"


class VocoderTrainConfig(Config):
    preset: Literal["base", "tiny", "demo"] = Field(
        "base",
        description="base (paper DiffWave_BASE), tiny (CPU tests) or demo (a larger CPU preset; still noise-like after hours on a CPU: docs/research-notes.md)",
    )
    max_steps: int = Field(200_000, ge=1, description="Train until this step")
    batch_size: int = Field(16, ge=1, description="Crops per process per step")
    lr: float = Field(2e-4, gt=0, description="Adam learning rate")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm to this (default: off)")
    ema_decay: float = Field(0.0, ge=0, lt=1, description="Keep an EMA of the weights (used by synth); 0 = off")
    save_every: int = Field(1000, ge=1, description="Checkpoint every N steps")
    log_every: int = Field(100, ge=1, description="Append to vocoder/metrics.jsonl every N steps")
    keep: int = Field(2, ge=1, description="Checkpoints kept on disk")
    include_val: bool = Field(False, description="Also train on val cycles")
    fresh: bool = Field(False, description="Start over instead of resuming from the latest checkpoint")
    precision: VocoderPrecision = Field("auto", description=AUTO_PRECISION)
    seed: int = Field(0, description="Seed")
    cpu: bool = Field(False, description=CPU)
    clip_length: float | None = Field(
        None,
        gt=0,
        le=60,
        description="Repeat-pad / cut each cycle to N seconds before cropping (paper: 4); default: as is",
    )
    fade_out: int = Field(
        0, ge=0, description="With clip-length: linear fade-out of the last N samples of a padded cycle (paper: 1000)"
    )
    eval_every: int = Field(
        1000,
        ge=0,
        description="Every N steps re-vocode held-out cycles, log their mel L1 and keep audio samples; 0 = off",
    )
    eval_clips: int = Field(4, ge=1, description="Held-out cycles re-vocoded per evaluation (val split, else train)")
    eval_seconds: float = Field(2.0, gt=0, le=60, description="Seconds of each held-out cycle re-vocoded")
    log_with: list[Literal["tensorboard", "wandb", "mlflow", "comet_ml", "aim", "clearml", "dvclive"]] = Field(
        default_factory=list, description="Also log loss, validation distance and audio to this tracker (repeatable)"
    )


class SynthConfig(Config):
    classes: list[str] = Field(min_length=1, description="normal, crackle, wheeze, both or all (repeatable; required)")
    n: int = Field(ge=1, description="Total clips wanted per class (required)")
    length: float = Field(4.0, gt=0, le=60, description="Seconds per clip")
    steps: Literal["fast", "full"] = Field("fast", description="Sampling: fast (6 steps) or full (50 steps)")
    batch_size: int = Field(16, ge=1, description="Clips vocoded together")
    seed: int = Field(0, description="Seed")
    precision: VocoderPrecision = Field("auto", description=AUTO_PRECISION)
    cpu: bool = Field(False, description=CPU)
    max_cache_gb: float = Field(4.0, gt=0, description="Memory (GB) for the per-clip conditioner cache")
    conditioning: Literal["permutation", "random"] = Field(
        "permutation",
        description="Which real cycles condition: permutation (each once per pass) or random (with replacement; paper)",
    )
    fade_out: int = Field(
        0, ge=0, description="Linear fade-out of the last N samples of a repeat-padded conditioning cycle (paper: 1000)"
    )
    trim: bool = Field(
        True, description="Cut the output to LENGTH seconds; --no-trim keeps hop x mel frames (paper: 4 s -> 64256)"
    )
    vocoder: Literal["diffwave", "griffinlim", "augment"] = Field(
        "diffwave",
        description="Which vocoder: diffwave (the one `vocoder train` made), griffinlim (needs no `vocoder train`) "
        "or augment (no vocoder: the real cycle through classic waveform augmentation, the ce-aug baseline)",
    )
    set_name: str | None = Field(
        None, description="Synthetic set to write, WORKDIR/synth/SET (default: the vocoder's name)"
    )
    guide_strength: float = Field(
        1.0,
        gt=0,
        le=1,
        description="diffwave: start the reverse process from the Griffin-Lim estimate of the same mel noised "
        "to this fraction of the schedule (SDEdit; 1 = from pure noise, the paper's sampling)",
    )
    gl_iters: int = Field(32, ge=1, le=1000, description="griffinlim: Griffin-Lim iterations")
    gl_momentum: float = Field(0.99, ge=0, lt=1, description="griffinlim: Griffin-Lim momentum (0 = plain)")
    aug_snr_db: float = Field(
        30.0, ge=0, le=80, description="augment: SNR (dB) of the additive Gaussian noise (the lowest drawn)"
    )
    vary: bool = Field(
        False, description="Vary the conditioning mel within the class before vocoding (the --vary-* strengths)"
    )
    vary_stretch: float = Field(0.1, ge=0, lt=0.5, description="vary: largest relative time stretch of the mel (+/-)")
    vary_shift: int = Field(
        0, ge=0, le=8, description="vary: largest shift of the mel along frequency, in bins (+/-; measured default 0)"
    )
    vary_mix: float = Field(
        0.3, ge=0, le=0.5, description="vary: largest weight of a second real cycle of the class mixed into the mel"
    )
    vary_gain_db: float = Field(
        0.0, ge=0, le=12, description="vary: largest loudness change in dB (+/-; measured default 0)"
    )

    @field_validator("set_name")
    @classmethod
    def _set_name(cls, value: str | None) -> str | None:
        from respgen.workspace import set_name_problem  # (one rule: workspace.SET_NAME)

        problem = None if value is None else set_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Section(BaseModel):
    """A group of `finetune` settings. On the command line and at the top of a TOML section its keys are
    flat (`--lr`, `lr = 1e-4`); `FinetuneConfig` files each under its section (`nest_flat_keys`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ModelSettings(Section):
    preset: Literal["base", "tiny"] = Field("base", description="base (AST-base) or tiny (CPU tests)")
    init: str | None = Field(
        None, description="Pretrained AST: local dir or hub id (e.g. MIT/ast-finetuned-audioset-10-10-0.4593)"
    )
    precision: Precision = Field("no", description=PRECISION)
    cpu: bool = Field(False, description=CPU)


class DataSettings(Section):
    synthetic: bool = Field(True, description="Use synthetic cycles when present")
    synthetic_set: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Which synthetic set (synth --set; default: the only one, else diffwave)",
    )
    synthetic_per_class: int | None = Field(
        None, ge=0, description="At most N synthetic cycles per class (Mixed-500: 500)"
    )
    oversample: bool = Field(
        False,
        description="Instead of synthetic cycles, repeat real minority train cycles to the synthetic set's "
        "per-class counts (the no-generator baseline)",
    )
    length: float = Field(5.0, gt=0, le=60, description="Seconds per input")
    pad: Literal["repeat", "zero"] = Field("repeat", description="How short cycles are padded")
    feature_cache: bool = Field(
        True,
        description="Keep each clip's features in WORKDIR/cache/features (computed once, read per batch: memory "
        "does not grow with the data); --no-feature-cache holds them all in memory",
    )


class OptimSettings(Section):
    epochs: int | None = Field(None, ge=1, description="Epochs (default: the preset's: base 50, tiny 25)")
    batch_size: int | None = Field(None, ge=1, description="Batch size (default: the preset's: base 32, tiny 16)")
    lr: float | None = Field(
        None, gt=0, le=1, description="Learning rate (default: the preset's: base 5e-5, tiny 5e-4)"
    )
    weight_decay: float = Field(1e-6, ge=0, le=1, description="Weight decay")
    specaug: float = Field(
        0.0, ge=0, le=1, description="SpecAugment probability (per clip or per batch; paper: 0.8413)"
    )
    class_weights: bool = Field(False, description="Inverse-frequency class weights")


class SelectionSettings(Section):
    select_on: Literal["val", "test", "last"] = Field(
        "val", description="Model selection: val (honest), test (paper protocol) or last"
    )
    min_se: float | None = Field(
        None, ge=0, le=1, description="Select only epochs with Se above this fraction (paper: 0.05, i.e. Se > 5%)"
    )


ALIGNMENT_METHODS = ("grl", "paired")


class AlignmentSettings(Section):
    aft: bool = Field(False, description="Adversarial fine-tuning (needs synthetic cycles)")
    adversary: Literal["grl", "paired"] = Field(
        "paired",
        description="How AFT aligns real and synthetic features: paired (pull each synthetic cycle's feature to "
        "its real source's, in the features' covariance metric; measured default) or grl (the paper: "
        "a real/synthetic discriminator behind gradient reversal)",
    )
    alpha: float | None = Field(
        None,
        ge=0,
        le=100,
        description="Weight of the alignment loss (default: 0.1 for paired; 0.2, the paper's, for grl)",
    )
    lambda_mode: Literal["dann", "paper"] = Field(
        "dann", description="grl: reversal strength over training, dann (p = progress) or paper (the paper code's)"
    )
    align_warmup: float = Field(0.2, ge=0, lt=1, description="paired: fraction of training before the loss starts")
    align_ramp: float = Field(
        0.2, ge=0, lt=1, description="paired: fraction of training over which it then ramps to full weight"
    )

    @model_validator(mode="after")
    def _schedule(self) -> "AlignmentSettings":
        """The paired loss must reach full weight before training ends."""
        if self.align_warmup + self.align_ramp >= 1:
            raise ValueError("align_warmup + align_ramp must be below 1 (the loss must reach full weight)")
        return self


class PaperParity(Section):
    """The paper code's behaviours that differ from our defaults (examples/paper.toml sets them all)."""

    ma_beta: float | None = Field(
        None, ge=0, lt=1, description="Average weights with the previous step's (default: 0.5 in paper mode, else 0)"
    )
    specaug_mode: Literal["clip", "batch"] = Field(
        "clip", description="SpecAugment: clip (own masks and mean per clip) or batch (one set, batch mean; paper)"
    )
    lr_schedule: Literal["step", "epoch"] = Field(
        "step", description="Cosine learning rate: step (every step) or epoch (set per epoch 1..E; paper)"
    )
    lr_min_factor: float = Field(0.0, ge=0, lt=1, description="The cosine ends at lr x this (paper: 0.001)")
    synthetic_fit: Literal["pad", "resize"] = Field(
        "pad", description="Synthetic cycles: pad/cut to LENGTH, or resize their fbank to LENGTH's frames (paper)"
    )
    pos_embed: Literal["crop", "reference"] = Field(
        "crop", description="--init position embeddings: crop (time axis) or reference (the paper code's quirk)"
    )
    fade_out: int = Field(
        0, ge=0, le=160_000, description="Linear fade-out of the last N samples of a repeat-padded cycle (paper: 1000)"
    )


class FinetuneConfig(Config):
    """Every `finetune` setting, grouped. Flat keys (the CLI's flags, a TOML file's keys, keyword
    arguments) are filed under their section by `nest_flat_keys`; the settings whose default depends on
    others (None here) get their value in `resolve_finetune`, called once when a run starts."""

    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Run name under WORKDIR/models (default: time + mode)",
    )
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] = Field(
        default_factory=lambda: [1],
        min_length=1,
        description="Seeds, e.g. 1,2,3: one run each, mean ± std of every metric",
    )
    model: ModelSettings = Field(default_factory=ModelSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    optim: OptimSettings = Field(default_factory=OptimSettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    alignment: AlignmentSettings = Field(default_factory=AlignmentSettings)
    paper: PaperParity = Field(default_factory=PaperParity)

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, values: Any) -> Any:
        return nest_flat_keys(cls, values) if isinstance(values, dict) else values

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, value: Any) -> Any:
        """Accept "1,2,3" (the CLI's --seeds) as well as a list; no empty list, no repeats."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",")]
            try:
                value = [int(p) for p in parts]
            except ValueError:
                raise ValueError(f"give comma-separated integers, e.g. 1,2,3 (got {value!r})") from None
        return no_repeats(value, "seed")

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat key (as the CLI and TOML spell them), JSON-ready."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(mode="json").items():
            out.update(value if isinstance(value, dict) else {key: value})
        return out


def sections_of(cls: type[BaseModel]) -> dict[str, type[Section]]:
    """A config's section fields: name -> section class ({} for a flat config)."""
    out = {}
    for name, info in cls.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, Section):
            out[name] = info.annotation
    return out


def leaf_fields(cls: type[BaseModel]) -> dict[str, Any]:
    """The flat keys of a config (its own fields and every section's), name -> pydantic FieldInfo."""
    sections = sections_of(cls)
    out = {n: f for n, f in cls.model_fields.items() if n not in sections}
    for section in sections.values():
        out.update(section.model_fields)
    return out


def nest_flat_keys(cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The one place that maps flat keys to sections: {"lr": 1e-4, "aft": True} ->
    {"optim": {"lr": 1e-4}, "alignment": {"aft": True}}."""
    sections = sections_of(cls)
    owner = {leaf: name for name, section in sections.items() for leaf in section.model_fields}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in owner:
            section = out.setdefault(owner[key], {})
            if not isinstance(section, dict):
                section = out[owner[key]] = section.model_dump(exclude_unset=True)
            section[key] = value
        elif key in sections and isinstance(value, dict):
            out.setdefault(key, {}).update(value)
        else:
            out[key] = value
    return out


def resolve_finetune(cfg: FinetuneConfig) -> FinetuneConfig:
    """A copy with every depends-on default filled in (the one place they are decided): epochs / batch
    size / lr from the preset, alpha by adversary (0.1 for paired, measured on the distortion testbed where
    0.2 collapsed the minority classes; the paper's 0.2 for grl), ma_beta 0.5 with the paper's lambda."""
    from respgen.classifier.presets import PRESETS

    preset = PRESETS[cfg.model.preset]
    optim = cfg.optim.model_copy(
        update={
            "epochs": cfg.optim.epochs or preset.epochs,
            "batch_size": cfg.optim.batch_size or preset.batch_size,
            "lr": cfg.optim.lr or preset.lr,
        }
    )
    alignment = cfg.alignment
    if alignment.alpha is None:
        alignment = alignment.model_copy(update={"alpha": 0.1 if alignment.adversary == "paired" else 0.2})
    paper = cfg.paper
    if paper.ma_beta is None:
        paper = paper.model_copy(update={"ma_beta": 0.5 if alignment.lambda_mode == "paper" else 0.0})
    return cfg.model_copy(update={"optim": optim, "alignment": alignment, "paper": paper})


def comma_list(value: Any) -> Any:
    """ "a, b" (a list option as the CLI passes it) -> ["a", "b"]; anything else as it is."""
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value


def no_repeats(value: Any, what: str) -> Any:
    """A ValueError naming the first item of a list given twice."""
    if isinstance(value, list):
        repeated = sorted({v for v in value if isinstance(v, (str, int)) and value.count(v) > 1})
        if repeated:
            raise ValueError(f"{what} {repeated[0]} given twice")
    return value


class CompareDataSettings(DataSettings):
    """compare's data settings: `synthetic_per_class` is a list of amounts (one run per amount)."""

    synthetic_per_class: list[Annotated[int, Field(ge=1)]] | None = Field(  # type: ignore[assignment]
        None,
        description="Synthetic cycles per class, e.g. 250,500,1000: every arm that uses synthetic (or augmented) "
        "cycles runs once per amount (ce once); one value: as finetune",
    )

    @field_validator("synthetic_per_class", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        """Accept "250,500" (the CLI's form), an int, or a list; no repeats."""
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        if isinstance(value, str):
            try:
                value = [int(p) for p in comma_list(value)]
            except ValueError:
                raise ValueError(f"give comma-separated integers, e.g. 250,500,1000 (got {value!r})") from None
        return no_repeats(value, "amount")


class CompareConfig(FinetuneConfig):
    """`finetune`'s settings shared by every arm; `aft`, `synthetic` and `oversample` are set per arm."""

    data: CompareDataSettings = Field(default_factory=CompareDataSettings)  # type: ignore[assignment]

    arms: list[Literal[tuple(ARMS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["ce", "ce-syn", "aft"],
        min_length=1,
        description="Arms, e.g. ce,ce-syn,aft: ce = real only, ce-over = real minority cycles oversampled to the "
        "synthetic counts, ce-aug = real + classically augmented cycles (the set `synth --vocoder augment` made), "
        "ce-syn = real + synthetic, aft = AFT with --adversary; aft-grl / aft-paired: AFT with that adversary",
    )
    synthetic_sets: list[str] = Field(
        default_factory=list,
        description="Synthetic sets to compare, e.g. diffwave,griffinlim: every arm but ce runs once per set "
        "(default: --synthetic-set, else the workspace's default set)",
    )

    @field_validator("arms", mode="before")
    @classmethod
    def _arms(cls, value: Any) -> Any:
        """Accept "ce,ce-syn,aft" (the CLI's --arms) as well as a list; no repeats."""
        return no_repeats(comma_list(value), "arm")

    @field_validator("synthetic_sets", mode="before")
    @classmethod
    def _sets(cls, value: Any) -> Any:
        """Accept "diffwave,griffinlim" as well as a list; no repeats."""
        return no_repeats(comma_list(value), "synthetic set")

    @model_validator(mode="after")
    def _per_arm(self) -> "CompareConfig":
        given = ({"aft"} & self.alignment.model_fields_set) | ({"synthetic", "oversample"} & self.data.model_fields_set)
        if given:
            raise ValueError(f"{sorted(given)[0]} is set by each arm (choose arms with --arms)")
        return self


class ClassifyConfig(Config):
    files: list[Path] = Field(min_length=1, description="Audio files (any format soundfile reads)")
    model: Path | None = Field(None, description="Model dir (default: WORKDIR/models/latest)")
    annotations: Path | None = Field(None, description="ICBHI annotation file (default: FILE's .txt when present)")
    hop: float | None = Field(
        None, gt=0, le=60, description="Window hop in seconds without annotations (default: the model's length)"
    )
    batch_size: int = Field(32, ge=1, description="Segments per forward pass")
    cpu: bool = Field(False, description=CPU)


class EvaluateConfig(Config):
    """`evaluate`: a trained model on another workspace's split (WORKDIR is the workspace evaluated on)."""

    model: Path = Field(description="Model dir or run dir (a several-seed run: its first seed's model)")
    label_map: Path | None = Field(
        None,
        description='TOML: this workspace\'s class -> the model\'s class ("class" = "model class", or false to drop)',
    )
    split: Literal["test", "val", "train"] = Field("test", description="The split scored")
    batch_size: int = Field(32, ge=1, description="Cycles per forward pass")


class QuickstartConfig(Config):
    vocoder_steps: int = Field(
        50,
        ge=1,
        description="Tiny vocoder training steps (the CPU cannot train it to class-bearing cycles in minutes: the comparison uses the class-bearing set)",
    )
    synth_per_class: int = Field(16, ge=1, description="Synthetic cycles per minority class (crackle, wheeze, both)")
    epochs: int = Field(25, ge=1, description="Tiny AST epochs")
    seed: int = Field(0, description="Seed")


class ReportConfig(Config):
    model: Path | None = Field(None, description="Model for the feature-space numbers (default: WORKDIR/models/latest)")
    max_per_class: int = Field(200, ge=2, description="Cycles per class and source used for Fréchet distances")
    run: str | None = Field(None, description="Run whose test errors the report plays (default: WORKDIR/models/latest)")
    errors_per_class: int = Field(3, ge=0, description="Wrong test cycles played per true class (0: no errors section)")
    audio: bool = Field(True, description="Write the audio excerpts index.html plays (--no-audio: mels only)")
    open: bool = Field(False, description="Open report/index.html in the default browser, where there is one")


class VocoderImportConfig(Config):
    ckpt: Path = Field(description="Reference DiffWave checkpoint (lmnt-com/diffwave weights.pt)")
    force: bool = Field(False, description="Replace a vocoder already in the workdir")


# The TOML file's sections, one per command, and the config each one's keys are checked against.
SECTIONS: dict[str, type[BaseModel]] = {
    "prepare": PrepareConfig,
    "demo_data": DemoDataConfig,
    "vocoder_train": VocoderTrainConfig,
    "vocoder_import": VocoderImportConfig,
    "synth": SynthConfig,
    "finetune": FinetuneConfig,
    "compare": CompareConfig,
    "classify": ClassifyConfig,
    "evaluate": EvaluateConfig,
    "quickstart": QuickstartConfig,
    "report": ReportConfig,
}


def load_config(cls: type[BaseModel], section: str, config_file: Path | None, flags: dict[str, Any]) -> Any:
    """Defaults < top-level keys and `[section]` of the TOML file < flags given on the command line.

    `flags` holds only options the user actually passed (None means "not given"); they arrive typed.
    TOML values are validated strictly (`n = true` or `length = "4"` are errors), except that paths
    are strings there. Unknown keys and sections anywhere in the file are errors.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        doc = _read_toml(Path(config_file))
        _check_keys(doc, cls, section, config_file)
        fields = leaf_fields(cls)
        values.update({k: v for k, v in doc.items() if k in fields and not isinstance(v, dict)})
        values.update(doc.get(section, {}))
        values = {k: _toml_paths(cls, k, v) for k, v in values.items()}
    given = {k: v for k, v in flags.items() if v is not None}
    values.update(given)
    try:
        return cls.model_validate(values, strict=True)
    except ValidationError as e:
        err = e.errors()[0]
        path = [str(p) for p in err["loc"] if str(p) not in sections_of(cls)]  # sections: flat keys
        loc = ".".join(path) or section
        msg = err["msg"].removeprefix("Value error, ")
        where = None if path and path[0] in given else config_file
        raise RespgenError(f"invalid {loc.replace('_', '-')}: {msg}", where) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RespgenError("config file not found", path) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RespgenError(f"cannot read config file: {e}", path) from None


def _check_keys(doc: dict[str, Any], cls: type[BaseModel], section: str, config_file: Path) -> None:
    """Every top-level key is some config's field, every table a known section, every key in a section
    a field of that section's config."""
    known = {cls, *(c for c in SECTIONS.values() if c is not None)}
    top_keys = sorted({name for c in known for name in leaf_fields(c)})
    for key, value in doc.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise RespgenError(f"unknown section [{key}]{_did_you_mean(key, SECTIONS, '[{}]')}", config_file)
            owner = cls if key == section else SECTIONS[key]
            for sub in value:
                if sub not in leaf_fields(owner):
                    hint = _did_you_mean(sub, leaf_fields(owner), "'{}'")
                    raise RespgenError(f"unknown key {sub!r} in [{key}]{hint}", config_file)
        elif key in SECTIONS:
            raise RespgenError(f"[{key}] must be a table", config_file)
        elif key not in top_keys:
            hint = _did_you_mean(key, top_keys, "'{}'")
            raise RespgenError(f"unknown key {key!r}{hint}", config_file)


def _did_you_mean(word: str, choices, fmt: str) -> str:
    """`; did you mean 'workdir'?` (fmt "'{}'") or `; did you mean [synth]?` (fmt "[{}]"), or "" when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {fmt.format(close[0])}?" if close else ""


def _toml_paths(cls: type[BaseModel], key: str, value: Any) -> Any:
    """TOML has no path type: a string (or list of strings) for a Path field becomes a Path."""
    field = leaf_fields(cls).get(key)
    if field is None or not _mentions_path(field.annotation):
        return value
    if isinstance(value, str):
        return Path(value)
    if isinstance(value, list):
        return [Path(v) if isinstance(v, str) else v for v in value]
    return value


def _mentions_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    origin = typing.get_origin(annotation)
    return origin in (list, typing.Union, types.UnionType) and any(
        _mentions_path(a) for a in typing.get_args(annotation)
    )
