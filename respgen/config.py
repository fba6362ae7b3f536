"""One pydantic config per command, holding every default. The CLI fills them from flags and TOML."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from respgen.errors import RespgenError
from respgen.workspace import default_workdir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    workdir: Path = Field(default_factory=default_workdir)


class PrepareConfig(Config):
    icbhi_dir: Path
    split_file: Path | None = None
    labels: Literal["four", "binary"] = "four"
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    seed: int = 0
    sample_rate: int = Field(16000, ge=1000)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    strict: bool = False


class DemoDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out_dir: Path
    patients: int = Field(12, ge=2)
    recordings_per_patient: int = Field(2, ge=1)
    cycles_per_recording: int = Field(8, ge=1)
    sample_rate: int = Field(8000, ge=4000)
    seed: int = 0


Precision = Literal["no", "bf16", "fp16"]


class VocoderTrainConfig(Config):
    preset: Literal["base", "tiny"] = "base"
    max_steps: int = Field(200_000, ge=1)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(2e-4, gt=0)
    grad_clip: float | None = Field(None, gt=0)
    ema_decay: float = Field(0.0, ge=0, lt=1)  # 0 = no EMA
    save_every: int = Field(1000, ge=1)
    log_every: int = Field(100, ge=1)
    keep: int = Field(2, ge=1)  # checkpoints kept on disk
    include_val: bool = False
    fresh: bool = False
    precision: Precision = "no"
    seed: int = 0
    cpu: bool = False


class SynthConfig(Config):
    classes: list[str] = Field(min_length=1)
    n: int = Field(ge=1)
    length: float = Field(4.0, gt=0)
    steps: Literal["fast", "full"] = "fast"
    batch_size: int = Field(16, ge=1)
    seed: int = 0
    precision: Precision = "no"
    cpu: bool = False
    max_cache_gb: float = Field(4.0, gt=0)  # memory for the per-clip conditioner cache


class FinetuneConfig(Config):
    preset: Literal["base", "tiny"] = "base"
    init: str | None = None  # pretrained AST: local dir or hub id
    aft: bool = False
    alpha: float = Field(0.2, ge=0)
    lambda_mode: Literal["dann", "paper"] = "dann"
    ma_beta: float | None = Field(None, ge=0, lt=1)  # None: 0.5 in paper mode, else 0
    synthetic: bool = True
    synthetic_per_class: int | None = Field(None, ge=0)
    length: float = Field(5.0, gt=0)
    pad: Literal["repeat", "zero"] = "repeat"
    epochs: int | None = Field(None, ge=1)  # None: the preset's
    batch_size: int | None = Field(None, ge=1)
    lr: float | None = Field(None, gt=0)
    weight_decay: float = Field(1e-6, ge=0)
    specaug: float = Field(0.0, ge=0, le=1)  # probability of SpecAugment per clip
    class_weights: bool = False
    select_on: Literal["val", "test", "last"] = "val"
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1)
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    precision: Precision = "no"
    cpu: bool = False


class ClassifyConfig(Config):
    files: list[Path] = Field(min_length=1)
    model: Path | None = None  # default: <workdir>/models/latest
    annotations: Path | None = None
    hop: float | None = Field(None, gt=0)  # window hop in seconds; default: the model's length
    batch_size: int = Field(32, ge=1)
    cpu: bool = False


class QuickstartConfig(Config):
    vocoder_steps: int = Field(200, ge=1)
    synth_per_class: int = Field(16, ge=1)  # per minority class (crackle, wheeze, both)
    epochs: int = Field(25, ge=1)
    seed: int = 0


class ReportConfig(Config):
    model: Path | None = None  # for the feature-space numbers; default: <workdir>/models/latest
    max_per_class: int = Field(200, ge=2)  # cycles per class and source used for Fréchet distances


class VocoderImportConfig(Config):
    ckpt: Path  # a reference DiffWave weights.pt (lmnt-com/diffwave)
    force: bool = False  # replace a vocoder already in the workdir


def load_config(cls: type[BaseModel], section: str, config_file: Path | None, flags: dict[str, Any]) -> Any:
    """Defaults < `[section]` (and top-level keys) of the TOML file < flags given on the command line.

    `flags` holds only options the user actually passed (None means "not given").
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            doc = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RespgenError("config file not found", config_file) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise RespgenError(f"cannot read config file: {e}", config_file) from None
        fields = cls.model_fields
        values.update({k: v for k, v in doc.items() if k in fields and not isinstance(v, dict)})
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise RespgenError(f"[{section}] must be a table", config_file)
        values.update(table)
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        return cls(**values)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or section
        raise RespgenError(f"invalid {loc.replace('_', '-')}: {err['msg']}", config_file) from None
