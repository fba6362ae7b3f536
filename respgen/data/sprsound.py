"""The SPRSound layout (BioCAS 2022/2023 challenges): `train2022_wav/` + `train2022_json/`, `test2022_wav/`
(one flat folder) + `test2022_json/inter_test_json/` and `test2022_json/intra_test_json/` (other years
alike). One JSON per recording, with the wav's base name:
`{"record_annotation": "CAS", "event_annotation": [{"start": "5778", "end": "7419", "type": "Wheeze"}, ...]}`
(milliseconds, events in any order). File names: `patient_age_gender_location_recording`.

Also the audio-length helpers the other readers share (`audio_duration`, `fit_to_audio`) and a seeded demo
dataset in this layout (`write_demo_sprsound`)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from respgen.data.demo import breath
from respgen.data.source import Segment, Skipped, SourceDataset, SourceRecording
from respgen.errors import RespgenError

SPRSOUND_EVENT_TYPES = ("Normal", "Rhonchi", "Wheeze", "Stridor", "Coarse Crackle", "Fine Crackle", "Wheeze+Crackle")
RECORD_ANNOTATIONS = ("Normal", "CAS", "DAS", "CAS & DAS", "Poor Quality")
POOR_QUALITY = "Poor Quality"
NAME_FIELDS = ("age", "gender", "location")
KINDS = ("train", "test")


# --- shared by the readers: events against the audio's length -------------------------------------


def audio_duration(wav: Path) -> float:
    """Seconds of audio in `wav`, from its header (nothing decoded). Unreadable audio is bad input."""
    try:
        return float(sf.info(str(wav)).duration)
    except (RuntimeError, OSError, ValueError) as e:
        raise RespgenError(f"cannot read audio header: {e.__class__.__name__}", wav) from None


def fit_to_audio(segments: list[Segment], items: list[str], duration: float, skipped: list[Skipped]) -> list[Segment]:
    """`segments` held to `duration` seconds: one ending past it is clipped (metadata `clipped: True` and
    `annotated_end`), one starting at or after it is left out (appended to `skipped` under its `items` entry)."""
    kept = []
    for seg, item in zip(segments, items):
        if seg.start >= duration:
            reason = f"segment starts at {seg.start:g} s, at or after the end of the audio ({duration:g} s)"
            skipped.append(Skipped(item, reason))
            continue
        if seg.end > duration:
            meta = {**seg.metadata, "clipped": True, "annotated_end": seg.end}
            seg = Segment(seg.start, duration, seg.label, meta)
        kept.append(seg)
    return kept


# --- the layout ---------------------------------------------------------------------------------------


def _dirs(root: Path, kind: str, what: str) -> list[Path]:
    return sorted(p for p in root.glob(f"{kind}*_{what}") if p.is_dir())


def looks_like_sprsound(root: Path) -> bool:
    """True when `root` holds an SPRSound `train*_json` / `test*_json` folder and a `*_wav` folder."""
    root = Path(root)
    if not root.is_dir():
        return False
    has_json = any(_dirs(root, kind, "json") for kind in KINDS)
    return has_json and any(_dirs(root, kind, "wav") for kind in KINDS)


@dataclass
class SprsoundAnnotation:
    """One parsed JSON: the record-level label (None when the release has none) and its events, sorted."""

    record: str | None
    events: list[Segment]


def _ms(event: dict, key: str, index: int, path: Path) -> float:
    value = event[key]
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise RespgenError(f"event {index}: {key} is not a number of milliseconds: {value!r}", path) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise RespgenError(f"event {index}: {key} is not a number of milliseconds: {value!r}", path)
    if not math.isfinite(number) or number < 0:
        raise RespgenError(f"event {index}: {key} must be finite and >= 0, got {value!r}", path)
    return number / 1000.0


def _event(event: Any, index: int, path: Path) -> Segment:
    if not isinstance(event, dict):
        raise RespgenError(f"event {index} is not an object", path)
    for key in ("start", "end", "type"):
        if key not in event:
            raise RespgenError(f"event {index} has no '{key}'", path)
    if event["type"] not in SPRSOUND_EVENT_TYPES:
        expected = ", ".join(SPRSOUND_EVENT_TYPES)
        raise RespgenError(f"event {index}: unknown event type {event['type']!r} (expected one of {expected})", path)
    start, end = _ms(event, "start", index, path), _ms(event, "end", index, path)
    if end <= start:
        raise RespgenError(f"event {index}: end {event['end']!r} <= start {event['start']!r}", path)
    return Segment(start, end, event["type"])


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RespgenError(f"cannot read annotation JSON: {e.__class__.__name__}", path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RespgenError(f"not valid JSON: {e.msg}", f"{path}:{e.lineno}") from None


def parse_sprsound_json(path: Path) -> SprsoundAnnotation:
    """One SPRSound annotation file, checked; events sorted by start. Anything not of SPRSound's shape
    (not an object, no `event_annotation` list, an event without start/end/type, a time that is not a
    non-negative number, an unknown type, end <= start) raises RespgenError naming the file."""
    data = _load_json(path)
    if not isinstance(data, dict):
        raise RespgenError("an SPRSound annotation must be a JSON object", path)
    record = data.get("record_annotation")
    if record is not None and not isinstance(record, str):
        raise RespgenError(f"record_annotation must be a string, got {record!r}", path)
    events = data.get("event_annotation")
    if not isinstance(events, list):
        raise RespgenError("an SPRSound annotation needs an 'event_annotation' list", path)
    segments = [_event(e, i, path) for i, e in enumerate(events, start=1)]
    return SprsoundAnnotation(record, sorted(segments, key=lambda s: (s.start, s.end)))


@dataclass
class _Source:
    json: Path
    split: str
    subset: str | None


def _subset(json_path: Path, json_dir: Path) -> str | None:
    parts = json_path.relative_to(json_dir).parts
    if len(parts) < 2:
        return None
    folder = parts[0].lower()
    return "inter" if folder.startswith("inter") else "intra" if folder.startswith("intra") else parts[0]


def _sources(root: Path) -> list[_Source]:
    out = []
    for kind in KINDS:
        for json_dir in _dirs(root, kind, "json"):
            for path in sorted(p for p in json_dir.rglob("*") if p.suffix.lower() == ".json" and p.is_file()):
                out.append(_Source(path, kind, _subset(path, json_dir) if kind == "test" else None))
    return out


def _wav_index(root: Path, kind: str) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for wav_dir in _dirs(root, kind, "wav"):
        for path in sorted(p for p in wav_dir.rglob("*") if p.suffix.lower() == ".wav" and p.is_file()):
            index.setdefault(path.stem, path)
    return index


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _name_metadata(stem: str) -> tuple[str, dict[str, str]]:
    fields = stem.split("_")
    return fields[0], dict(zip(NAME_FIELDS, fields[1:4]))


def _recording(root: Path, src: _Source, wavs: dict[str, Path], ds: SourceDataset, strict: bool):
    ann = parse_sprsound_json(src.json)
    item = _rel(src.json, root)
    if ann.record == POOR_QUALITY:
        return ds.skipped.append(Skipped(item, "Poor Quality record"))
    if not ann.events:
        return ds.skipped.append(Skipped(item, "no events"))
    wav = wavs.get(src.json.stem)
    if wav is None:
        if strict:
            raise RespgenError("no wav for this annotation", src.json)
        return ds.skipped.append(Skipped(item, "no wav for this annotation"))
    items = [f"{item} event at {s.start:g} s" for s in ann.events]
    segments = fit_to_audio(ann.events, items, audio_duration(wav), ds.skipped)
    if not segments:
        return ds.skipped.append(Skipped(item, "no events within the audio"))
    patient, meta = _name_metadata(src.json.stem)
    if ann.record is not None:
        meta["record_annotation"] = ann.record
    rec = SourceRecording(wav, src.json.stem, patient, src.split, segments, subset=src.subset, metadata=meta)
    ds.recordings.append(rec)


def read_sprsound(root: Path, strict: bool = False) -> SourceDataset:
    """Read an SPRSound folder (format "sprsound"). Train JSONs give split "train"; test JSONs split "test"
    with subset "inter" / "intra" (their folder). Skipped: Poor Quality records, records without events,
    annotations without a wav and wavs without an annotation (both errors with `strict`), events that
    start after the audio ends. Events that end after it are clipped (`clipped: True`)."""
    root = Path(root)
    if not root.is_dir():
        raise RespgenError("SPRSound folder not found", root)
    sources = _sources(root)
    if not sources:
        raise RespgenError("no SPRSound annotation JSONs (expected train*_json/ or test*_json/ folders)", root)
    wavs = {kind: _wav_index(root, kind) for kind in KINDS}
    seen: dict[str, Path] = {}
    for src in sources:
        if src.json.stem in seen:
            raise RespgenError(f"recording {src.json.stem} is annotated twice (also {seen[src.json.stem]})", src.json)
        seen[src.json.stem] = src.json
    ds = SourceDataset("sprsound", [])
    for src in sources:
        _recording(root, src, wavs[src.split], ds, strict)
    _unannotated(root, wavs, seen, ds, strict)
    return ds


def _unannotated(root: Path, wavs: dict[str, dict[str, Path]], seen: dict[str, Path], ds, strict: bool) -> None:
    for kind in KINDS:
        for stem, wav in sorted(wavs[kind].items()):
            if stem in seen:
                continue
            if strict:
                raise RespgenError("wav has no annotation JSON", wav)
            ds.skipped.append(Skipped(_rel(wav, root), "no annotation for this wav"))


# --- demo data ----------------------------------------------------------------------------------------

CAS_TYPES = {"Rhonchi", "Wheeze", "Stridor", "Wheeze+Crackle"}
DAS_TYPES = {"Coarse Crackle", "Fine Crackle", "Wheeze+Crackle"}
DEMO_WEIGHTS = (0.4, 0.1, 0.12, 0.06, 0.1, 0.14, 0.08)  # Normal-heavy, like the real data


def _tone(n: int, sr: int, f0: float, harmonics: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    freq = f0 * (1 + 0.06 * np.sin(2 * np.pi * t * rng.uniform(0.5, 1.5)))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.03)
    return tone * fade


def _clicks(n: int, sr: int, rng: np.random.Generator, count: int, length_s: float, smooth: int) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(count):
        length = max(4, int(rng.uniform(0.6, 1.0) * length_s * sr))
        at = int(rng.integers(0, max(1, n - length)))
        burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 4))
        if smooth > 1:
            burst = np.convolve(burst, np.ones(smooth) / smooth, mode="same")
        burst /= np.abs(burst).max() + 1e-9
        out[at : at + length] += rng.uniform(0.3, 0.5) * burst[: n - at]
    return out


def _event_sound(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Class-dependent content: tones at type-specific pitches (CAS), bursts of type-specific length (DAS)."""
    x = breath(n, sr, rng)
    if kind == "Rhonchi":
        x += 0.15 * _tone(n, sr, rng.uniform(100, 200), 5, rng)
    elif kind in ("Wheeze", "Wheeze+Crackle"):
        x += 0.15 * _tone(n, sr, rng.uniform(400, 900), 2, rng)
    elif kind == "Stridor":
        x += 0.2 * _tone(n, sr, rng.uniform(1300, 2000), 1, rng)
    if kind == "Coarse Crackle":
        x += _clicks(n, sr, rng, int(rng.integers(4, 8)), 0.018, max(2, sr // 1000))
    elif kind in ("Fine Crackle", "Wheeze+Crackle"):
        x += _clicks(n, sr, rng, int(rng.integers(8, 14)), 0.004, 1)
    return x


@dataclass
class _DemoRecording:
    patient: str
    stem: str
    group: str  # train / inter / intra
    sample_rate: int
    quality: str = "ok"  # ok / poor / no-record / past-end


class _TypeDealer:
    """Event types per group: every type once (shuffled) first, then Normal-heavy random draws."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.pending: dict[str, list[str]] = {}

    def next(self, group: str) -> str:
        if group not in self.pending:
            self.pending[group] = [str(t) for t in self.rng.permutation(SPRSOUND_EVENT_TYPES)]
        if self.pending[group]:
            return self.pending[group].pop()
        return str(self.rng.choice(SPRSOUND_EVENT_TYPES, p=DEMO_WEIGHTS))


def _record_label(types: list[str]) -> str:
    cas, das = any(t in CAS_TYPES for t in types), any(t in DAS_TYPES for t in types)
    return "CAS & DAS" if cas and das else "CAS" if cas else "DAS" if das else "Normal"


def _demo_events(rec: _DemoRecording, n: int, dealer: _TypeDealer, rng: np.random.Generator):
    """Back-to-back events (ms) over the recording; the past-end case's last event runs 700 ms over."""
    total_ms = n * 1000 // rec.sample_rate
    events, at = [], int(rng.integers(50, 200))
    while at + 500 <= total_ms:
        end = min(at + int(rng.integers(500, 1300)), total_ms)
        events.append((at, end, dealer.next(rec.group)))
        at = end + int(rng.integers(50, 250))
    if rec.quality == "past-end":
        start, _, kind = events[-1]
        events[-1] = (start, total_ms + 700, kind)
    return events


def _write_demo_recording(out: Path, rec: _DemoRecording, dealer: _TypeDealer, rng: np.random.Generator):
    sr = rec.sample_rate
    n = int(rng.uniform(4.0, 6.0) * sr)
    wave = 0.3 * breath(n, sr, rng)
    events = [] if rec.quality == "poor" else _demo_events(rec, n, dealer, rng)
    for start, end, kind in events:
        s, e = start * sr // 1000, min(end * sr // 1000, n)
        wave[s:e] += _event_sound(kind, e - s, sr, rng)
    if rec.quality == "poor":
        wave += 0.5 * rng.standard_normal(n) * (rng.random(n) < 0.02)  # clipping pops: unusable
    split = "train" if rec.group == "train" else "test"
    wav_dir = out / f"{split}2022_wav"
    json_dir = out / "train2022_json" if split == "train" else out / "test2022_json" / f"{rec.group}_test_json"
    wav_dir.mkdir(parents=True, exist_ok=True)
    json_dir.mkdir(parents=True, exist_ok=True)
    sf.write(str(wav_dir / f"{rec.stem}.wav"), np.clip(wave, -1, 1).astype(np.float32), sr, subtype="PCM_16")
    (json_dir / f"{rec.stem}.json").write_text(json.dumps(_demo_doc(rec, events, rng), indent=1) + "\n", "utf-8")
    return events


def _demo_doc(rec: _DemoRecording, events: list, rng: np.random.Generator) -> dict[str, Any]:
    """The JSON as SPRSound writes it: ms strings, events shuffled (never left in order)."""
    order = [int(i) for i in rng.permutation(len(events))]
    if len(order) > 1 and order == sorted(order):
        order.reverse()
    doc: dict[str, Any] = {}
    if rec.quality != "no-record":
        doc["record_annotation"] = POOR_QUALITY if rec.quality == "poor" else _record_label([k for *_, k in events])
    doc["event_annotation"] = [
        {"start": str(events[i][0]), "end": str(events[i][1]), "type": events[i][2]} for i in order
    ]
    return doc


def _demo_plan(rng: np.random.Generator, n_train: int, n_inter: int, per_patient: int, sr: int) -> list[_DemoRecording]:
    """Train patients: `per_patient` train recordings + one intra-test each; other patients: two inter-test
    ones. One Poor Quality record in train and in inter; intra's first has no record_annotation; train's
    first has an event past the end of its audio. The last train patient is recorded at 16 kHz."""
    plan = []
    for p in range(n_train + n_inter):
        patient = str(40700100 + 7 * p)
        age, gender, rate = f"{rng.uniform(0.5, 14):.1f}", str(p % 2), 16000 if p == n_train - 1 else sr
        groups = ["train"] * per_patient + ["intra"] if p < n_train else ["inter", "inter"]
        for i, group in enumerate(groups):
            plan.append(_DemoRecording(patient, f"{patient}_{age}_{gender}_p{1 + (p + i) % 4}_{i + 1}", group, rate))
    plan[0].quality = "past-end"
    next(r for r in plan if r.group == "intra").quality = "no-record"
    plan.append(_DemoRecording(plan[0].patient, f"{plan[0].stem[:-2]}_{per_patient + 2}", "train", sr, "poor"))
    inter = next(r for r in plan if r.group == "inter")
    plan.append(_DemoRecording(inter.patient, f"{inter.stem[:-2]}_9", "inter", sr, "poor"))
    return plan


def write_demo_sprsound(
    out: Path, seed: int = 0, n_train_patients: int = 5, n_inter_patients: int = 3, recordings_per_patient: int = 3
) -> dict:
    """Write a small seeded dataset in the SPRSound layout under `out` (8 kHz wavs, one patient at 16 kHz;
    events out of order as millisecond strings; all seven event types in train, inter and intra; a Poor
    Quality record in train and in inter; one record without record_annotation; one event past the end of
    its audio). Returns what a reader should find: readable recordings and events per group
    (train / inter / intra), the Poor Quality count, the clipped-event count, the number of JSONs."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    dealer = _TypeDealer(rng)
    plan = _demo_plan(rng, n_train_patients, n_inter_patients, recordings_per_patient, 8000)
    recordings: Counter = Counter()
    events: dict[str, Counter] = {g: Counter() for g in ("train", "inter", "intra")}
    for rec in plan:
        written = _write_demo_recording(out, rec, dealer, rng)
        if rec.quality != "poor":
            recordings[rec.group] += 1
            events[rec.group].update(kind for _, _, kind in written)
    return {
        "recordings": dict(recordings),
        "events": {g: dict(c) for g, c in events.items()},
        "poor_quality": sum(r.quality == "poor" for r in plan),
        "no_record_annotation": sum(r.quality == "no-record" for r in plan),
        "clipped": 1,
        "json_files": len(plan),
        "patients": n_train_patients + n_inter_patients,
    }
