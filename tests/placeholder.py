"""A full-size ICBHI-layout folder with placeholder audio, built from the annotation files alone.

Used by the full-scale tests and `bench/bench_prepare.py`: the real annotations, split file and
diagnoses, plus noise of the right length (the longest annotated end time) at the sample rate the
recording's device really uses. With `other_release=True`, the 91 recordings listed in
`filename_differences.txt` take their name from the other public release (another device field),
so split matching by the first four name fields is exercised.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from respgen.data.icbhi import DIAGNOSIS_FILE_NAME, SPLIT_FILE_NAME, RecordingName, parse_annotation

DEVICE_RATES = {"Litt3200": 4000, "Meditron": 44100, "LittC2SE": 44100, "AKGC417L": 44100}


def other_release_names(annotations_dir: Path) -> dict[str, str]:
    """Key (first four fields) -> the name the other release uses."""
    path = annotations_dir / "filename_differences.txt"
    if not path.is_file():
        return {}
    names = [line.strip().strip("'\"") for line in path.read_text().splitlines() if line.strip()]
    return {RecordingName.parse(n).key: n for n in names if RecordingName.parse(n)}


def build_placeholder_icbhi(annotations_dir: Path, out_dir: Path, other_release: bool = True, seed: int = 0) -> int:
    """Write `<name>.wav` + `<name>.txt` for every annotation file; return the number of recordings."""
    out_dir.mkdir(parents=True, exist_ok=True)
    renames = other_release_names(annotations_dir) if other_release else {}
    rng = np.random.default_rng(seed)
    count = 0
    for txt in sorted(annotations_dir.glob("*.txt")):
        name = RecordingName.parse(txt.stem)
        if name is None:
            continue
        cycles = parse_annotation(txt)
        target = renames.get(name.key, name.name)
        device = RecordingName.parse(target).device
        sr = DEVICE_RATES.get(device, 44100)
        n = math.ceil(max((c.end for c in cycles), default=1.0) * sr)
        noise = (0.05 * rng.standard_normal(n)).astype(np.float32)
        sf.write(str(out_dir / f"{target}.wav"), noise, sr, subtype="PCM_16")
        shutil.copyfile(txt, out_dir / f"{target}.txt")
        count += 1
    for extra in (SPLIT_FILE_NAME, DIAGNOSIS_FILE_NAME):
        shutil.copyfile(annotations_dir / extra, out_dir / extra)
    return count
