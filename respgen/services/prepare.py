"""`prepare`: a dataset (an ICBHI 2017 folder, a SPRSound folder or an annotation table) -> 16 kHz
respiratory-cycle clips + manifest in the workspace, with the classes the data defines."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from respgen import __version__
from respgen.atomic import staged_dir, write_json, write_jsonl
from respgen.audio import read_audio, resample, write_wav
from respgen.config import PrepareConfig
from respgen.data.cut import cut_source_recording
from respgen.data.icbhi import (
    DIAGNOSIS_FILE_NAME,
    SPLIT_FILE_NAME,
    Cycle,
    RecordingName,
    SplitTable,
    find_file,
    find_recordings,
    parse_annotation,
    read_diagnoses,
)
from respgen.data.layout import detect_layout
from respgen.data.manifest import RealClip
from respgen.data.splits import ValSplit, choose_val_patients
from respgen.data.task import Task, build_task, read_label_map
from respgen.errors import RespgenError
from respgen.features import fade
from respgen.labels import classes_for, label_for
from respgen.lock import locked
from respgen.workspace import Workspace

Progress = Callable[[int, int], None]


@dataclass
class RecordingJob:
    wav: Path
    name: RecordingName
    split: str
    cycles: list[Cycle]
    diagnosis: str | None


@dataclass
class PrepareResult:
    manifest: Path
    counts: dict[str, dict[str, int]]  # split -> class -> cycles
    recordings: dict[str, int]  # split -> recordings
    skipped: list[dict[str, str]]  # {"item", "reason"}
    val_note: str
    classes: tuple[str, ...] = field(default_factory=tuple)
    notes: list[str] = field(default_factory=list)  # what the reader decided for the user (one line each)

    def to_dict(self) -> dict:
        return {
            "manifest": str(self.manifest),
            "classes": list(self.classes),
            "notes": self.notes,
            "counts": self.counts,
            "recordings": self.recordings,
            "skipped": self.skipped,
            "val_note": self.val_note,
        }


@locked("prepare")
def prepare(cfg: PrepareConfig, progress: Progress | None = None) -> PrepareResult:
    """Cut every annotated cycle (or event) of the dataset `cfg.icbhi_dir` into a clip at `cfg.sample_rate`.

    The layout is detected (`--format` forces it): ICBHI (wav + annotation txt, the official split file,
    the diagnoses), SPRSound (BioCAS JSON per recording) or an annotation table. The classes come from the
    data (`--labels`, `--label-map`, `--normal-class`; `data.task`). Writes `data/` of the workspace:
    `clips/<split>/<id>.wav`, `manifest.jsonl` (one row per clip) and `prepare.json` (config, format,
    classes with the normal one first, counts, val patients, skipped items). The folder is built in staging
    and swapped in whole: an interrupted run leaves the previous `data/` as it was."""
    fmt = detect_layout(cfg.icbhi_dir) if cfg.format == "auto" else cfg.format
    label_map = read_label_map(cfg.label_map) if cfg.label_map is not None else None
    if fmt == "icbhi":
        return _prepare_icbhi(cfg, label_map, progress)
    return prepare_source(cfg, fmt, label_map, progress)


def _prepare_icbhi(cfg: PrepareConfig, label_map: dict | None, progress: Progress | None) -> PrepareResult:
    """The ICBHI layout: cycles from the annotation txt files, splits from the official split file."""
    root = cfg.icbhi_dir
    if not root.is_dir():
        raise RespgenError("ICBHI folder not found", root)
    wavs = find_recordings(root)
    if not wavs:
        raise RespgenError("no .wav recordings found", root)
    split_path = cfg.split_file or find_file(root, SPLIT_FILE_NAME)
    if split_path is None or not split_path.is_file():
        raise RespgenError(f"split file {SPLIT_FILE_NAME} not found (pass --split-file)", split_path or root)
    splits = SplitTable(split_path)
    diagnoses = read_diagnoses(find_file(root, DIAGNOSIS_FILE_NAME))

    jobs, skipped = _plan(wavs, splits, diagnoses, cfg.strict)
    if not jobs:
        raise RespgenError("no annotated recordings found", root)
    scheme = _icbhi_scheme(cfg)
    task = build_task("icbhi", cfg.labels, classes_for(scheme), label_map, cfg.normal_class, cfg.label_map)
    val = _assign_val(jobs, cfg)

    ws = Workspace(cfg.workdir)
    with staged_dir(ws.data) as staging:
        (staging / "clips").mkdir()
        rows: list[RealClip] = []
        args = [(j, staging, cfg.sample_rate, scheme, cfg.recording_fade) for j in jobs]
        for job_rows, job_skipped in run_parallel(_cut_recording, args, cfg.workers, progress):
            rows.extend(job_rows)
            skipped.extend(job_skipped)
        rows = relabel(rows, task, skipped)
        recordings = Counter(j.split for j in jobs)
        info = {"format": "icbhi", "split_file": str(split_path)}
        counts = write_data(staging, ws, cfg, task, rows, recordings, val, skipped, info)
    return PrepareResult(ws.manifest, counts, _per_split(recordings), skipped, val.note, task.classes)


def _icbhi_scheme(cfg: PrepareConfig) -> str:
    """ICBHI's label set: four (also for --labels auto) or binary."""
    if cfg.labels == "events":
        raise RespgenError("--labels events does not apply to the icbhi format (choose four or binary)")
    return "binary" if cfg.labels == "binary" else "four"


def relabel(rows: list[dict], task: Task, skipped: list[dict]) -> list[dict]:
    """Rows with their label mapped to the task's class (a dropped label's rows left out, counted)."""
    out = []
    for r in rows:
        label = task.class_of(r["label"])
        if label is None:
            skipped.append({"item": r["id"], "reason": f"label {r['label']!r} dropped by the label map"})
            continue
        out.append(r if label == r["label"] else {**r, "label": label})
    return out


def _per_split(recordings: Counter) -> dict[str, int]:
    return {s: recordings.get(s, 0) for s in ("train", "val", "test")}


def write_data(staging: Path, ws: Workspace, cfg: PrepareConfig, task: Task, rows, recordings, val, skipped, info):
    """Manifest and prepare.json into `staging` (rows sorted by id); returns the counts per split and class."""
    rows.sort(key=lambda r: r["id"])
    counts = {s: {c: 0 for c in task.classes} for s in ("train", "val", "test")}
    subsets: dict[str, dict[str, int]] = {}
    for r in rows:
        counts[r["split"]][r["label"]] += 1
        if r.get("subset") is not None:
            subsets.setdefault(r["subset"], {c: 0 for c in task.classes})[r["label"]] += 1
    write_jsonl(staging / ws.manifest.name, rows)
    record = {"respgen_version": __version__, "config": cfg.model_dump(mode="json"), **info}
    record.update(classes=list(task.classes), normal_class=task.normal, counts=counts)
    if subsets:
        record["subsets"] = subsets
    if cfg.label_map is not None:
        record["label_map"] = task.mapping
    record.update(
        recordings=_per_split(recordings), val_patients=sorted(val.patients), val_note=val.note, skipped=skipped
    )
    write_json(staging / ws.prepare_info.name, record)
    return counts


def _plan(wavs: list[Path], splits: SplitTable, diagnoses: dict[str, str], strict: bool):
    jobs: list[RecordingJob] = []
    skipped: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    for wav in wavs:
        name = RecordingName.parse(wav.stem)
        if name is None:
            if strict:
                raise RespgenError("file name is not an ICBHI recording name (patient_index_location_mode_device)", wav)
            skipped.append({"item": str(wav), "reason": "not an ICBHI recording name"})
            continue
        if name.name in seen:
            raise RespgenError(f"recording {name.name} appears twice (also {seen[name.name]})", wav)
        seen[name.name] = wav
        txt = wav.with_suffix(".txt")
        if not txt.is_file():
            if strict:
                raise RespgenError("recording has no annotation file", wav)
            skipped.append({"item": str(wav), "reason": "no annotation file"})
            continue
        cycles = parse_annotation(txt)
        split = splits.split_of(name)
        if split is None:
            raise RespgenError(f"recording {name.name} is not in the split file", splits.path)
        if not cycles:
            skipped.append({"item": str(txt), "reason": "annotation file has no cycles"})
            continue
        jobs.append(RecordingJob(wav, name, split, cycles, diagnoses.get(name.patient)))
    return jobs, skipped


def _assign_val(jobs: list[RecordingJob], cfg: PrepareConfig):
    per_patient: dict[str, Counter] = {}
    for j in jobs:
        if j.split == "train":
            c = per_patient.setdefault(j.name.patient, Counter())
            c.update(label_for(cy.crackle, cy.wheeze, _icbhi_scheme(cfg)) for cy in j.cycles)
    val = choose_val_patients(per_patient, cfg.val_fraction, cfg.seed) if per_patient else None
    if val is None:
        return ValSplit(frozenset(), "no train recordings: no val split")
    for j in jobs:
        if j.split == "train" and j.name.patient in val.patients:
            j.split = "val"
    return val


def run_parallel(fn, args: list, workers: int, progress: Progress | None):
    """`fn` over `args` (one recording each) in up to `workers` processes, results in order."""
    workers = min(workers, len(args))
    done = 0
    if workers <= 1:
        results = map(fn, args)
        pool = None
    else:
        # spawn, not fork: forking a process that already ran torch ops can deadlock its thread pools
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)
        results = pool.map(fn, args, chunksize=max(1, len(args) // (workers * 8)))
    try:
        for out in results:
            done += 1
            if progress:
                progress(done, len(args))
            yield out
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _cut_recording(arg) -> tuple[list[RealClip], list[dict[str, str]]]:
    """Decode one recording once, resample it once (and with `recording_fade`, fade the whole recording in
    and out linearly, as the reference's get_individual_cycles_torchaudio), write every cycle as its own clip."""
    job, staging, sample_rate, scheme, recording_fade = arg
    wave, sr = read_audio(job.wav)
    wave = fade(resample(wave, sr, sample_rate), recording_fade, recording_fade)
    n = wave.shape[0]
    rows, skipped = [], []
    out_dir = staging / "clips" / job.split
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, cy in enumerate(job.cycles):
        cid = f"{job.name.name}_{i:03d}"
        s = round(cy.start * sample_rate)
        e = min(round(cy.end * sample_rate), n)
        if e <= s:
            skipped.append(
                {"item": f"{job.wav.with_suffix('.txt')}:{i + 1}", "reason": "cycle starts after the audio ends"}
            )
            continue
        rel = f"clips/{job.split}/{cid}.wav"
        write_wav(out_dir / f"{cid}.wav", wave[s:e], sample_rate, atomic=False)  # staging dir: swapped in whole
        rows.append(
            RealClip(
                id=cid,
                path=rel,
                label=label_for(cy.crackle, cy.wheeze, scheme),
                crackle=cy.crackle,
                wheeze=cy.wheeze,
                split=job.split,
                patient=job.name.patient,
                recording=job.name.name,
                location=job.name.location,
                mode=job.name.mode,
                device=job.name.device,
                diagnosis=job.diagnosis,
                start=cy.start,
                end=cy.end,
                duration=(e - s) / sample_rate,
                clipped=e < round(cy.end * sample_rate),
                sample_rate=sample_rate,
                source="real",
                provenance={"file": job.wav.name, "orig_sample_rate": sr},
            )
        )
    return rows, skipped


def prepare_source(cfg: PrepareConfig, fmt: str, label_map: dict | None, progress: Progress | None) -> PrepareResult:
    """Every other layout (`data.sprsound`, `data.annotation_table`): its reader's recordings and segments,
    mapped to the task's classes, a val split carved from train unless the data has one, cut by
    `data.cut.cut_source_recording`."""
    source = _read_source(cfg, fmt)
    if cfg.strict and source.skipped:
        first = source.skipped[0]
        raise RespgenError(f"{first.reason} (--strict)", first.item)
    if not source.recordings:
        raise RespgenError("no annotated recordings found", cfg.icbhi_dir)
    labels = [seg.label for rec in source.recordings for seg in rec.segments]
    order = _canonical_labels(fmt, labels)
    task = build_task(fmt, cfg.labels, order, label_map, cfg.normal_class, cfg.label_map)
    val = _assign_source_val(source.recordings, task, cfg)
    skipped = [s.to_dict() for s in source.skipped]
    ws = Workspace(cfg.workdir)
    with staged_dir(ws.data) as staging:
        (staging / "clips").mkdir()
        rows: list[dict] = []
        args = [(rec, staging, cfg.sample_rate, task.mapping, cfg.recording_fade) for rec in source.recordings]
        for rec_rows, rec_skipped in run_parallel(_cut_source, args, cfg.workers, progress):
            rows.extend(rec_rows)
            skipped.extend(rec_skipped)
        recordings = Counter(rec.split for rec in source.recordings)
        info = {"format": fmt, "source": str(cfg.icbhi_dir), "notes": source.notes}
        counts = write_data(staging, ws, cfg, task, rows, recordings, val, skipped, info)
    return PrepareResult(ws.manifest, counts, _per_split(recordings), skipped, val.note, task.classes, source.notes)


def _read_source(cfg: PrepareConfig, fmt: str):
    if fmt == "sprsound":
        from respgen.data.sprsound import read_sprsound

        return read_sprsound(cfg.icbhi_dir, strict=cfg.strict)
    from respgen.data.annotation_table import read_table

    return read_table(cfg.icbhi_dir, strict=cfg.strict, test_fraction=cfg.test_fraction, seed=cfg.seed)


def _canonical_labels(fmt: str, labels: list[str]) -> list[str]:
    """The labels present in the format's own order: SPRSound's event types as listed, a table's sorted."""
    if fmt == "sprsound":
        from respgen.data.sprsound import SPRSOUND_EVENT_TYPES

        return [t for t in SPRSOUND_EVENT_TYPES if t in labels] + sorted(set(labels) - set(SPRSOUND_EVENT_TYPES))
    return sorted(set(labels))


def _assign_source_val(recordings, task: Task, cfg: PrepareConfig) -> ValSplit:
    """Moves the train recordings of some patients to val (`data.splits.choose_val_patients`), unless the
    data already has a val split."""
    if any(rec.split == "val" for rec in recordings):
        return ValSplit(frozenset({r.patient for r in recordings if r.split == "val"}), "val split from the data")
    per_patient: dict[str, Counter] = {}
    for rec in recordings:
        if rec.split == "train":
            classes = (task.class_of(seg.label) for seg in rec.segments)
            per_patient.setdefault(rec.patient, Counter()).update(c for c in classes if c is not None)
    val = choose_val_patients(per_patient, cfg.val_fraction, cfg.seed) if per_patient else None
    if val is None:
        return ValSplit(frozenset(), "no train recordings: no val split")
    for rec in recordings:
        if rec.split == "train" and rec.patient in val.patients:
            rec.split = "val"
    return val


def _cut_source(arg) -> tuple[list[dict], list[dict[str, str]]]:
    return cut_source_recording(*arg)
