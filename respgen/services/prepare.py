"""`prepare`: an ICBHI 2017 folder -> 16 kHz respiratory-cycle clips + manifest in the workspace."""

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
from respgen.data.manifest import RealClip
from respgen.data.splits import ValSplit, choose_val_patients
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

    def to_dict(self) -> dict:
        return {
            "manifest": str(self.manifest),
            "classes": list(self.classes),
            "counts": self.counts,
            "recordings": self.recordings,
            "skipped": self.skipped,
            "val_note": self.val_note,
        }


@locked("prepare")
def prepare(cfg: PrepareConfig, progress: Progress | None = None) -> PrepareResult:
    """Cut every annotated cycle of the ICBHI folder `cfg.icbhi_dir` into a clip at `cfg.sample_rate`.

    Reads the recordings (wav + annotation txt), the official split file and the diagnoses; writes
    `data/` of the workspace: `clips/<split>/<id>.wav`, `manifest.jsonl` (one `RealClip` per line)
    and `prepare.json` (config, classes, counts, val patients, skipped items). The folder is built in
    staging and swapped in whole: an interrupted run leaves the previous `data/` as it was."""
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
    val = _assign_val(jobs, cfg)

    ws = Workspace(cfg.workdir)
    with staged_dir(ws.data) as staging:
        (staging / "clips").mkdir()
        counts, recordings = _write_all(jobs, skipped, val, staging, ws, split_path, cfg, progress)
    return PrepareResult(
        manifest=ws.manifest,
        counts=counts,
        recordings=recordings,
        skipped=skipped,
        val_note=val.note,
        classes=classes_for(cfg.labels),
    )


def _write_all(jobs, skipped, val, staging: Path, ws: Workspace, split_path: Path, cfg: PrepareConfig, progress):
    """Clips, manifest and prepare.json into `staging`; returns (counts, recordings) per split."""
    rows: list[RealClip] = []
    for job_rows, job_skipped in _run_jobs(jobs, staging, cfg, progress):
        rows.extend(job_rows)
        skipped.extend(job_skipped)
    rows.sort(key=lambda r: r["id"])

    classes = classes_for(cfg.labels)
    counts = {s: {c: 0 for c in classes} for s in ("train", "val", "test")}
    for r in rows:
        counts[r["split"]][r["label"]] += 1
    recordings = Counter(j.split for j in jobs)
    per_split = {s: recordings.get(s, 0) for s in ("train", "val", "test")}
    write_jsonl(staging / ws.manifest.name, rows)
    write_json(
        staging / ws.prepare_info.name,
        {
            "respgen_version": __version__,
            "config": cfg.model_dump(mode="json"),
            "split_file": str(split_path),
            "classes": list(classes),
            "counts": counts,
            "recordings": per_split,
            "val_patients": sorted(val.patients),
            "val_note": val.note,
            "skipped": skipped,
        },
    )
    return counts, per_split


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
            c.update(label_for(cy.crackle, cy.wheeze, cfg.labels) for cy in j.cycles)
    val = choose_val_patients(per_patient, cfg.val_fraction, cfg.seed) if per_patient else None
    if val is None:
        return ValSplit(frozenset(), "no train recordings: no val split")
    for j in jobs:
        if j.split == "train" and j.name.patient in val.patients:
            j.split = "val"
    return val


def _run_jobs(jobs: list[RecordingJob], staging: Path, cfg: PrepareConfig, progress: Progress | None):
    args = [(j, staging, cfg.sample_rate, cfg.labels, cfg.recording_fade) for j in jobs]
    workers = min(cfg.workers, len(jobs))
    done = 0
    if workers <= 1:
        results = map(_cut_recording, args)
        pool = None
    else:
        # spawn, not fork: forking a process that already ran torch ops can deadlock its thread pools
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)
        results = pool.map(_cut_recording, args, chunksize=max(1, len(args) // (workers * 8)))
    try:
        for out in results:
            done += 1
            if progress:
                progress(done, len(jobs))
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
