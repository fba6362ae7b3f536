"""One pydantic config per command, holding every default and its description (the CLI's help text is
generated from them). `load_config` fills a config from defaults < the TOML file < command-line flags."""

from __future__ import annotations

import difflib
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from respgen.errors import RespgenError
from respgen.workspace import default_workdir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    workdir: Path = Field(default_factory=default_workdir, description="Workspace folder")


class PrepareConfig(Config):
    icbhi_dir: Path = Field(description="ICBHI 2017 folder (wav + txt per recording, split file)")
    split_file: Path | None = Field(None, description="Official split file (default: found inside ICBHI_DIR)")
    labels: Literal["four", "binary"] = Field(
        "four", description="Label set: normal/crackle/wheeze/both, or normal/abnormal"
    )
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Patient-disjoint val share of train; 0 disables")
    seed: int = Field(0, description="Seed of the val split")
    sample_rate: int = Field(16000, ge=1000, description="Clip sample rate")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, description="Decode processes (default: CPU cores)"
    )
    strict: bool = Field(False, description="Error (not skip) on unannotated wavs")
    fade_samples: int = Field(
        0, ge=0, description="Linear fade in and out of N samples on each whole recording before cutting (paper: 1000)"
    )


class DemoDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out_dir: Path = Field(description="Folder to write the ICBHI-layout demo dataset into")
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
        "base", description="base (paper DiffWave_BASE), tiny (CPU tests) or demo (CPU, class-bearing demo cycles)"
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
        None, gt=0, description="Repeat-pad / cut each cycle to N seconds before cropping (paper: 4); default: as is"
    )
    fade_samples: int = Field(
        0, ge=0, description="With clip-length: linear fade-out of the last N samples of a padded cycle (paper: 1000)"
    )
    eval_every: int = Field(
        1000,
        ge=0,
        description="Every N steps re-vocode held-out cycles, log their mel L1 and keep audio samples; 0 = off",
    )
    eval_clips: int = Field(4, ge=1, description="Held-out cycles re-vocoded per evaluation (val split, else train)")
    eval_seconds: float = Field(2.0, gt=0, description="Seconds of each held-out cycle re-vocoded")
    log_with: list[Literal["tensorboard", "wandb", "mlflow", "comet_ml", "aim", "clearml", "dvclive"]] = Field(
        default_factory=list, description="Also log loss, validation distance and audio to this tracker (repeatable)"
    )


class SynthConfig(Config):
    classes: list[str] = Field(min_length=1, description="normal, crackle, wheeze, both or all (repeatable; required)")
    n: int = Field(ge=1, description="Total clips wanted per class (required)")
    length: float = Field(4.0, gt=0, description="Seconds per clip")
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
    fade_samples: int = Field(
        0, ge=0, description="Linear fade-out of the last N samples of a repeat-padded conditioning cycle (paper: 1000)"
    )
    trim: bool = Field(
        True, description="Cut the output to LENGTH seconds; --no-trim keeps hop x mel frames (paper: 4 s -> 64256)"
    )


class FinetuneConfig(Config):
    preset: Literal["base", "tiny"] = Field("base", description="base (AST-base) or tiny (CPU tests)")
    init: str | None = Field(
        None, description="Pretrained AST: local dir or hub id (e.g. MIT/ast-finetuned-audioset-10-10-0.4593)"
    )
    aft: bool = Field(False, description="Adversarial fine-tuning (needs synthetic cycles)")
    alpha: float | None = Field(
        None,
        ge=0,
        description="Weight of the alignment loss (default: 0.1 for mahalanobis; 0.2, the paper's, for grl and confusion)",
    )
    lambda_mode: Literal["dann", "paper"] = Field(
        "dann", description="dann (p = progress) or paper (the paper code's formula)"
    )
    ma_beta: float | None = Field(
        None, ge=0, lt=1, description="Average weights with the previous step's (default: 0.5 in paper mode, else 0)"
    )
    synthetic: bool = Field(True, description="Use synthetic cycles when present")
    synthetic_per_class: int | None = Field(
        None, ge=0, description="At most N synthetic cycles per class (Mixed-500: 500)"
    )
    length: float = Field(5.0, gt=0, description="Seconds per input")
    pad: Literal["repeat", "zero"] = Field("repeat", description="How short cycles are padded")
    epochs: int | None = Field(None, ge=1, description="Epochs (default: the preset's: base 50, tiny 25)")
    batch_size: int | None = Field(None, ge=1, description="Batch size (default: the preset's: base 32, tiny 16)")
    lr: float | None = Field(None, gt=0, description="Learning rate (default: the preset's: base 5e-5, tiny 5e-4)")
    weight_decay: float = Field(1e-6, ge=0, description="Weight decay")
    specaug: float = Field(
        0.0, ge=0, le=1, description="SpecAugment probability (per clip or per batch; paper: 0.8413)"
    )
    class_weights: bool = Field(False, description="Inverse-frequency class weights")
    select_on: Literal["val", "test", "last"] = Field(
        "val", description="Model selection: val (honest), test (paper protocol) or last"
    )
    seeds: list[int] = Field(
        default_factory=lambda: [1],
        min_length=1,
        description="Seeds, e.g. 1,2,3: one run each, mean ± std of every metric",
    )
    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Run name under WORKDIR/models (default: time + mode)",
    )
    precision: Precision = Field("no", description=PRECISION)
    cpu: bool = Field(False, description=CPU)
    specaug_mode: Literal["clip", "batch"] = Field(
        "clip", description="SpecAugment: clip (own masks and mean per clip) or batch (one set, batch mean; paper)"
    )
    fade_samples: int = Field(
        0, ge=0, description="Linear fade-out of the last N samples of a repeat-padded cycle (paper: 1000)"
    )
    lr_schedule: Literal["step", "epoch"] = Field(
        "step", description="Cosine learning rate: step (every step) or epoch (set per epoch 1..E; paper)"
    )
    lr_min_factor: float = Field(0.0, ge=0, lt=1, description="The cosine ends at lr x this (paper: 0.001)")
    min_se: float | None = Field(
        None, ge=0, le=1, description="Select only epochs with Se above this fraction (paper: 0.05, i.e. Se > 5%)"
    )
    synthetic_fit: Literal["pad", "resize"] = Field(
        "pad", description="Synthetic cycles: pad/cut to LENGTH, or resize their fbank to LENGTH's frames (paper)"
    )
    pos_embed: Literal["crop", "reference"] = Field(
        "crop", description="--init position embeddings: crop (time axis) or reference (the paper code's quirk)"
    )
    adversary: Literal["grl", "confusion", "mahalanobis"] = Field(
        "mahalanobis",
        description="AFT adversary: grl (encoder maximises the discriminator's loss through gradient reversal), "
        "confusion (encoder pushes the discriminator's output to 50/50; Tzeng et al. 2015) or mahalanobis "
        "(encoder pulls synthetic cycles' features to their real sources', in the features' covariance metric)",
    )
    disc_lr: float | None = Field(None, gt=0, description="Discriminator learning rate (default: the encoder's)")
    disc_steps: int | None = Field(
        None,
        ge=0,
        description="Discriminator-only steps per batch on detached features (default: 0 for grl = the paper's "
        "joint step, else 1; >= 1 with grl = two time-scale)",
    )
    disc_hidden: int = Field(0, ge=0, description="Discriminator hidden units: 0 = LayerNorm + Linear, > 0 = MLP")
    align_warmup: float = Field(
        0.2, ge=0, lt=1, description="mahalanobis: fraction of training before the alignment loss starts"
    )
    align_ramp: float = Field(
        0.2, ge=0, lt=1, description="mahalanobis: fraction of training over which it then ramps to full weight"
    )

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
        if isinstance(value, list):
            repeated = sorted({s for s in value if isinstance(s, int) and value.count(s) > 1})
            if repeated:
                raise ValueError(f"seed {repeated[0]} given twice")
        return value

    @model_validator(mode="after")
    def _alignment_schedule(self) -> "FinetuneConfig":
        """The mahalanobis loss must reach full weight before training ends."""
        if self.align_warmup + self.align_ramp >= 1:
            raise ValueError("align_warmup + align_ramp must be below 1 (the loss must reach full weight)")
        return self


class CompareConfig(FinetuneConfig):
    """`finetune`'s settings shared by every arm; `aft` and `synthetic` are set per arm."""

    arms: list[Literal["ce", "ce-syn", "aft", "aft-grl", "aft-ttur", "aft-confusion", "aft-mahalanobis"]] = Field(
        default_factory=lambda: ["ce", "ce-syn", "aft"],
        min_length=1,
        description="Arms, e.g. ce,ce-syn,aft: ce = real only, ce-syn = real + synthetic, aft = AFT with "
        "--adversary; extra: aft-grl (the paper's joint GRL step), aft-ttur (GRL, two time-scale), aft-confusion, "
        "aft-mahalanobis",
    )

    @field_validator("arms", mode="before")
    @classmethod
    def _arms(cls, value: Any) -> Any:
        """Accept "ce,ce-syn,aft" (the CLI's --arms) as well as a list; no repeats."""
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        if isinstance(value, list):
            repeated = sorted({a for a in value if value.count(a) > 1})
            if repeated:
                raise ValueError(f"arm {repeated[0]} given twice")
        return value

    @model_validator(mode="after")
    def _per_arm(self) -> "CompareConfig":
        given = {"aft", "synthetic"} & self.model_fields_set
        if given:
            raise ValueError(f"{sorted(given)[0]} is set by each arm (choose arms with --arms)")
        return self


class ClassifyConfig(Config):
    files: list[Path] = Field(min_length=1, description="Audio files (any format soundfile reads)")
    model: Path | None = Field(None, description="Model dir (default: WORKDIR/models/latest)")
    annotations: Path | None = Field(None, description="ICBHI annotation file (default: FILE's .txt when present)")
    hop: float | None = Field(
        None, gt=0, description="Window hop in seconds without annotations (default: the model's length)"
    )
    batch_size: int = Field(32, ge=1, description="Segments per forward pass")
    cpu: bool = Field(False, description=CPU)


class QuickstartConfig(Config):
    vocoder_steps: int = Field(200, ge=1, description="Tiny vocoder training steps")
    synth_per_class: int = Field(16, ge=1, description="Synthetic cycles per minority class (crackle, wheeze, both)")
    epochs: int = Field(25, ge=1, description="Tiny AST epochs")
    seed: int = Field(0, description="Seed")


class ReportConfig(Config):
    model: Path | None = Field(None, description="Model for the feature-space numbers (default: WORKDIR/models/latest)")
    max_per_class: int = Field(200, ge=2, description="Cycles per class and source used for Fréchet distances")


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
        fields = cls.model_fields
        values.update({k: v for k, v in doc.items() if k in fields and not isinstance(v, dict)})
        values.update(doc.get(section, {}))
        values = {k: _toml_paths(cls, k, v) for k, v in values.items()}
    given = {k: v for k, v in flags.items() if v is not None}
    values.update(given)
    try:
        return cls.model_validate(values, strict=True)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or section
        msg = err["msg"].removeprefix("Value error, ")
        where = None if err["loc"] and err["loc"][0] in given else config_file
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
    top_keys = sorted({name for c in known for name in c.model_fields})
    for key, value in doc.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise RespgenError(f"unknown section [{key}]{_did_you_mean(key, SECTIONS, '[{}]')}", config_file)
            owner = cls if key == section else SECTIONS[key]
            for sub in value:
                if sub not in owner.model_fields:
                    hint = _did_you_mean(sub, owner.model_fields, "'{}'")
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
    field = cls.model_fields.get(key)
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
