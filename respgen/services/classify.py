"""`classify`: per-cycle (annotated) or per-window class probabilities for recordings."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import torch

from respgen.audio import load_audio
from respgen.classifier.data import clip_features
from respgen.classifier.model import AFTClassifier
from respgen.classifier.store import ModelInfo, load_model_dir
from respgen.config import ClassifyConfig
from respgen.data.icbhi import parse_annotation
from respgen.errors import RespgenError
from respgen.sample_rate import SAMPLE_RATE
from respgen.workspace import Workspace


@dataclass
class FileResult:
    file: str
    segmentation: str  # "annotations" or "windows"
    segments: list[dict] = field(default_factory=list)  # start, end, label, probabilities
    summary: dict = field(default_factory=dict)


@dataclass
class ClassifyResult:
    model: str
    labels: list[str]
    files: list[FileResult]
    errors: list[dict]  # {"file", "error"}

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "labels": self.labels,
            "files": [f.__dict__ for f in self.files],
            "errors": self.errors,
        }


def segments_for(
    path: Path, duration: float, length: float, hop: float, annotations: Path | None
) -> tuple[str, list[tuple[float, float]]]:
    """Annotated cycles when an ICBHI annotation file is given or sits next to the wav; else windows."""
    txt = annotations or path.with_suffix(".txt")
    if txt.is_file():
        return "annotations", [(c.start, min(c.end, duration)) for c in parse_annotation(txt) if c.start < duration]
    starts, t = [], 0.0
    while True:
        starts.append(t)
        if t + length >= duration:
            break
        t += hop
    return "windows", [(s, min(s + length, duration)) for s in starts]


def classify(cfg: ClassifyConfig) -> ClassifyResult:
    """Label every annotated cycle (or window) of `cfg.files`.

    Reads the model dir `cfg.model` (default `models/latest` of the workspace) and the audio files
    (with their ICBHI annotation `.txt` when present); writes nothing. Files that fail are reported in
    `errors` while the others are classified."""
    model_dir = cfg.model or Workspace(cfg.workdir).models_latest
    model, info = load_model_dir(model_dir)
    return classify_files(model, info, cfg, str(model_dir))


MIN_HOP = 0.05  # seconds: the finest window hop (a 2-hour recording is then 144,000 windows)


def classify_files(model: AFTClassifier, info: ModelInfo, cfg: ClassifyConfig, model_name: str = "") -> ClassifyResult:
    """Classify `cfg.files` with an already loaded model. Segments of all files are batched together and
    streamed: features are computed one batch at a time, and one file's audio is held at a time."""
    labels = info.labels
    length, pad = info.features.length, info.features.pad
    hop = cfg.hop or length
    if hop < MIN_HOP:
        raise RespgenError(f"--hop {cfg.hop:g} is too small: use at least {MIN_HOP:g} s")
    device = torch.device("cuda" if torch.cuda.is_available() and not cfg.cpu else "cpu")
    model.to(device)
    if cfg.annotations is not None and len(cfg.files) > 1:
        raise RespgenError("--annotations applies to a single file; put each file's .txt next to it instead")

    files: list[FileResult] = []
    errors: list[dict] = []
    stream = _segments(cfg, length, hop, files, errors)
    with torch.inference_mode():
        while batch := list(itertools.islice(stream, cfg.batch_size)):
            features = torch.stack(
                [clip_features(clip, length, pad, fade_out=info.features.fade_out) for *_, clip in batch]
            )
            logits, _ = model(features.to(device))
            for (fr, start, end, _), p in zip(batch, torch.softmax(logits.float(), dim=-1).cpu()):
                fr.segments.append(_segment(start, end, p, labels))
    for fr in files:
        fr.summary = _summary(fr.segments, labels)
    return ClassifyResult(model_name, labels, files, errors)


def _segments(cfg: ClassifyConfig, length: float, hop: float, files: list[FileResult], errors: list[dict]):
    """(file result, start, end, clip) for every segment of every readable file of `cfg.files`, one file
    at a time: each file's result is added to `files` when its segments start, each unreadable file to
    `errors`."""
    for path in cfg.files:
        try:
            if path.is_dir():
                raise RespgenError("is a directory, not an audio file", path)
            audio = load_audio(path, SAMPLE_RATE)
            mode, segs = segments_for(path, audio.shape[0] / SAMPLE_RATE, length, hop, cfg.annotations)
            if not segs:
                raise RespgenError("no annotated cycle lies inside the audio", path)
        except RespgenError as e:
            errors.append({"file": str(path), "error": str(e)})
            continue
        fr = FileResult(str(path), mode)
        files.append(fr)
        for start, end in segs:
            a = round(start * SAMPLE_RATE)
            yield fr, start, end, audio[a : max(round(end * SAMPLE_RATE), a + 1)]


def _segment(start: float, end: float, p: torch.Tensor, labels: list[str]) -> dict:
    """One segment of a `FileResult`: its span, most probable label and class probabilities `p`."""
    return {
        "start": round(start, 4),
        "end": round(end, 4),
        "label": labels[int(p.argmax())],
        "probabilities": {c: float(v) for c, v in zip(labels, p)},
    }


def _summary(segments: list[dict], labels: list[str]) -> dict:
    """A file's `summary`: its segment count, segments per label, mean probabilities and abnormal segments
    (those not of the model's normal class, its first)."""
    counts = {c: sum(1 for s in segments if s["label"] == c) for c in labels}
    mean = {c: sum(s["probabilities"][c] for s in segments) / len(segments) for c in labels}
    return {
        "segments": len(segments),
        "counts": counts,
        "mean_probabilities": mean,
        "abnormal_segments": sum(n for c, n in counts.items() if c != labels[0]),
    }
