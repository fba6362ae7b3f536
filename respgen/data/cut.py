"""Cutting a `SourceRecording` (any dataset layout) into one clip per labelled segment: decode once,
resample once, optionally fade the whole recording in and out, write each kept segment's audio and
return its manifest row. ICBHI recordings keep their own cutter (`services.prepare`, byte-identical
output); this one serves every other layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from respgen.audio import read_audio, resample, write_wav
from respgen.data.source import SourceRecording
from respgen.features import fade


def cut_source_recording(
    rec: SourceRecording, staging: Path, sample_rate: int, classes: dict[str, str | None], recording_fade: int
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(rows, skipped) of one recording: a row per segment whose source label maps to a class
    (`classes[label]` None: dropped, counted in skipped). Clip ids `<name>_<i>` number the segments in
    time order, dropped ones included, so an id never changes with the label map."""
    wave, sr = read_audio(rec.wav)
    wave = fade(resample(wave, sr, sample_rate), recording_fade, recording_fade)
    n = wave.shape[0]
    out_dir = staging / "clips" / rec.split
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], []
    for i, seg in enumerate(sorted(rec.segments, key=lambda s: (s.start, s.end))):
        where = f"{rec.wav}#{i + 1}"
        label = classes[seg.label]
        if label is None:
            skipped.append({"item": where, "reason": f"label {seg.label!r} dropped by the label map"})
            continue
        s, e = round(seg.start * sample_rate), min(round(seg.end * sample_rate), n)
        if e <= s:
            skipped.append({"item": where, "reason": "segment starts after the audio ends"})
            continue
        cid = f"{rec.name}_{i:03d}"
        write_wav(out_dir / f"{cid}.wav", wave[s:e], sample_rate, atomic=False)  # staging dir: swapped in whole
        rows.append(
            _row(rec, seg, cid, label, (e - s) / sample_rate, e < round(seg.end * sample_rate), sr, sample_rate)
        )
    return rows, skipped


def _row(rec, seg, cid: str, label: str, duration: float, clipped: bool, orig_sr: int, sample_rate: int) -> dict:
    row: dict[str, Any] = {
        "id": cid,
        "path": f"clips/{rec.split}/{cid}.wav",
        "label": label,
        "split": rec.split,
        "patient": rec.patient,
        "recording": rec.name,
    }
    if rec.subset is not None:
        row["subset"] = rec.subset
    row.update(
        start=seg.start,
        end=seg.end,
        duration=duration,
        clipped=clipped or bool(seg.metadata.get("clipped")),
        sample_rate=sample_rate,
        source="real",
        provenance={"file": rec.wav.name, "orig_sample_rate": orig_sr, "label": seg.label},
        metadata={**rec.metadata, **{k: v for k, v in seg.metadata.items() if k != "clipped"}},
    )
    return row
