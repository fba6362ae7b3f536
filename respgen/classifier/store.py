"""The classifier's model dir, one owner for its whole format:

- `config.json` + `model.safetensors`: a plain transformers `ASTForAudioClassification` dir;
- `discriminator.safetensors`: the real/synthetic head (AFT runs);
- `preprocessor_config.json`: transformers' `ASTFeatureExtractor` for the same input length;
- `respgen.json`: labels, the feature spec (how a clip becomes the model's input), training settings,
  data counts and notes;
- `metrics.json`: the chosen epoch's metrics and the per-epoch history (`classifier.run_record`);
- `predictions.json`: the chosen epoch's class probabilities per eval cycle (`classifier.predictions`).

Reading a dir's records (`read_info`, `find_runs`, `run_info`) imports no transformers; loading or
saving the model does (imported there, so a report that only reads records starts fast).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from respgen import __version__
from respgen.atomic import write_json
from respgen.classifier.predictions import EvalPredictions
from respgen.classifier.run_record import RunRecord, SeedRecord, model_dir_of
from respgen.errors import RespgenError
from respgen.sample_rate import SAMPLE_RATE

if TYPE_CHECKING:
    from respgen.classifier.model import AFTClassifier

INFO_FILE = "respgen.json"


@dataclass(frozen=True)
class FeatureSpec:
    """How a clip becomes the model's input: `length` seconds at `sample_rate`, padded by `pad`
    (repeat | zero; a padded clip's last `fade_out` samples faded out), then a kaldi fbank of `frames` x
    `num_mel_bins`."""

    sample_rate: int
    length: float
    pad: str
    frames: int
    num_mel_bins: int = 128
    fade_out: int = 0


@dataclass
class ModelInfo:
    labels: list[str]
    features: FeatureSpec
    raw: dict  # the whole respgen.json (training settings, data counts, notes)


def save_model_dir(
    out: Path,
    model: AFTClassifier,
    labels: list[str],
    features: FeatureSpec,
    training: dict,
    data: dict,
    notes: list[str],
    metrics: SeedRecord,
    predictions: EvalPredictions | None = None,
) -> None:
    """Write every file of a model dir into `out` (a staging folder: the caller swaps it in);
    `predictions`: the saved weights' eval probabilities, when known."""
    from transformers import ASTFeatureExtractor

    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    ASTFeatureExtractor(
        feature_size=1,
        sampling_rate=features.sample_rate,
        num_mel_bins=features.num_mel_bins,
        max_length=features.frames,
        do_normalize=True,
    ).save_pretrained(out)
    write_json(
        out / INFO_FILE,
        {
            "respgen_version": __version__,
            "labels": list(labels),
            "features": asdict(features),
            "training": training,
            "data": data,
            "notes": notes,
        },
    )
    RunRecord.of({metrics.seed or 0: metrics}).write(out)
    if predictions is not None and predictions.splits:
        predictions.write(out)


def read_info(model_dir: Path) -> ModelInfo:
    """`respgen.json` of a model dir, with the feature spec typed."""
    path = model_dir / INFO_FILE
    if not path.is_file():
        raise RespgenError(f"not a respgen model dir (no {INFO_FILE})", model_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        f = raw["features"]
        spec = FeatureSpec(
            sample_rate=int(f.get("sample_rate", SAMPLE_RATE)),
            length=float(f["length"]),
            pad=str(f["pad"]),
            frames=int(f.get("frames", 0)),
            num_mel_bins=int(f.get("num_mel_bins", 128)),
            fade_out=int(f.get("fade_out", 0)),
        )
        return ModelInfo(list(raw["labels"]), spec, raw)
    except (ValueError, KeyError, TypeError) as e:
        raise RespgenError(f"unreadable {INFO_FILE}: {e.__class__.__name__}", path) from None


def load_model_dir(model_dir: Path) -> tuple[AFTClassifier, ModelInfo]:
    """The model (eval mode) and its info from a model dir; one clear error when it is not one."""
    if not model_dir.is_dir():
        raise RespgenError("model dir not found (run `respgen finetune` or pass --model)", model_dir)
    from respgen.classifier.model import AFTClassifier

    info = read_info(model_dir)
    try:
        model = AFTClassifier.load(model_dir)
    except RespgenError:
        raise
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else ""
        raise RespgenError(f"unreadable respgen model: {e.__class__.__name__}: {first}", model_dir) from None
    return model.eval(), info


def find_runs(models: Path) -> list[tuple[str, Path, RunRecord]]:
    """(name, dir, record) of every finished run under `models`, oldest first (pointers, staging
    folders and folders without a readable metrics.json skipped)."""
    runs = []
    if models.is_dir():
        dirs = (p for p in models.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
        for d in sorted(dirs, key=lambda p: p.stat().st_mtime):
            record = RunRecord.read(d)
            if record is not None:
                runs.append((d.name, d, record))
    return runs


def run_info(run_dir: Path) -> dict:
    """`respgen.json` of a run (of its first seed for a multi-seed run); {} when there is none."""
    model_dir = run_dir if (run_dir / INFO_FILE).is_file() else model_dir_of(run_dir)
    path = None if model_dir is None else model_dir / INFO_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else {}
