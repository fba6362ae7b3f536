"""`evaluate`: a trained model scored on another workspace's split (cross-dataset evaluation), with the
same metrics as finetune: Sp, Se, Score, HS, per-class accuracy and confusion, over the whole split and
per subset when the data has subsets (SPRSound's inter / intra)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from respgen.atomic import write_json
from respgen.classifier.inference import row_probabilities
from respgen.classifier.metrics import confusion_matrix, icbhi_scores
from respgen.classifier.run_record import model_dir_of
from respgen.classifier.store import INFO_FILE, load_model_dir
from respgen.config import EvaluateConfig
from respgen.data.task import read_label_map
from respgen.errors import RespgenError
from respgen.workspace import Workspace

EVALUATIONS = "evaluations"  # the folder beside a model's weights that keeps its evaluations


@dataclass
class EvaluateResult:
    model: str
    workspace: str
    split: str
    classes: list[str]  # the model's
    n: int
    dropped: int  # cycles whose class the label map drops
    scores: dict  # icbhi_scores over the whole split
    subsets: dict[str, dict] = field(default_factory=dict)  # the same per subset
    label_map: dict[str, str | None] | None = None
    path: str = ""  # where it was written

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(cfg: EvaluateConfig) -> EvaluateResult:
    """Score the model `cfg.model` on the split `cfg.split` of the workspace `cfg.workdir`.

    The workspace's classes must be the model's (same names), or a label map (`--label-map`: this
    workspace's class -> the model's class, or false to drop) must turn them into some of them; anything
    else is a one-line error naming both class lists. Writes `<model dir>/evaluations/<workspace>.json`
    (atomically) and returns the result; the report lists it beside the run."""
    model_dir = _model_dir(cfg.model)
    ws = Workspace(cfg.workdir)
    loaded = load_model_dir(model_dir)
    labels = list(loaded[1].labels)
    label_map = read_label_map(cfg.label_map) if cfg.label_map is not None else None
    mapping = class_mapping(list(ws.classes()), labels, label_map, cfg.label_map)
    rows = sorted(ws.real_rows((cfg.split,)), key=lambda r: r["id"])
    kept = [r for r in rows if mapping[r["label"]] is not None]
    if not kept:
        raise RespgenError(f"no {cfg.split} cycles to evaluate (after the label map)", ws.manifest)
    p = row_probabilities(loaded, ws.manifest, kept, cfg.batch_size)
    truth = [labels.index(mapping[r["label"]]) for r in kept]
    predicted = p.argmax(1).tolist()
    result = EvaluateResult(
        str(model_dir),
        str(ws.root),
        cfg.split,
        labels,
        len(kept),
        len(rows) - len(kept),
        _scores(truth, predicted, labels),
        label_map=label_map,
    )
    for subset in sorted({r["subset"] for r in kept if r.get("subset") is not None}):
        pick = [k for k, r in enumerate(kept) if r.get("subset") == subset]
        result.subsets[subset] = _scores([truth[k] for k in pick], [predicted[k] for k in pick], labels)
    out = model_dir / EVALUATIONS / f"{evaluation_name(ws.root)}.json"
    result.path = str(out)
    write_json(out, {**result.to_dict(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return result


def _model_dir(path: Path) -> Path:
    """A model dir as given, or a run dir's model dir (`run_record.model_dir_of`)."""
    if (path / INFO_FILE).is_file():
        return path
    found = model_dir_of(path) if path.is_dir() else None
    if found is None or not (found / INFO_FILE).is_file():
        raise RespgenError("not a model dir or a finished run (no respgen.json)", path)
    return found


def class_mapping(
    classes: list[str], labels: list[str], label_map: dict[str, str | None] | None, map_file: Path | None
) -> dict[str, str | None]:
    """This workspace's class -> the model's class (None: dropped). Without a map the two class lists must
    hold the same names; with one, every class must be mapped to a model class or dropped."""
    if label_map is None:
        if set(classes) != set(labels):
            raise RespgenError(
                f"the model's classes ({', '.join(labels)}) are not this workspace's ({', '.join(classes)}); "
                "pass --label-map FILE mapping the workspace's classes to the model's"
            )
        return {c: c for c in classes}
    mapping = {}
    for c in classes:
        if c not in label_map:
            raise RespgenError(f"class {c!r} of the workspace is not in the label map", map_file)
        if label_map[c] is not None and label_map[c] not in labels:
            raise RespgenError(
                f"the label map sends {c!r} to {label_map[c]!r}, not one of the model's classes ({', '.join(labels)})",
                map_file,
            )
        mapping[c] = label_map[c]
    return mapping


def _scores(truth: list[int], predicted: list[int], labels: list[str]) -> dict:
    scores = icbhi_scores(confusion_matrix(truth, predicted, len(labels)), tuple(labels))
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in scores.items()}


def evaluation_name(root: Path) -> str:
    """A file name for evaluations on the workspace at `root`: its folder name and a short hash of its path."""
    resolved = str(root.resolve())
    return f"{root.resolve().name}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"
