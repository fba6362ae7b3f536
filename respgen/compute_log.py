"""What making a workspace's inputs cost, kept where they are made: each `synth` run appends
`{clips, wall_seconds, cpu_seconds, vocoder, time}` to `synth/<set>/compute.jsonl`, each `vocoder train` run
`{steps, wall_seconds, cpu_seconds, time}` to `vocoder/compute.jsonl`. compare and the report add a set's
cost (and, for a DiffWave set, the vocoder's training) to what an arm's fine-tuning cost."""

from __future__ import annotations

import json
import time
from pathlib import Path

from respgen.atomic import write_text

FILE = "compute.jsonl"


def append(folder: Path, entry: dict) -> None:
    """Append one record to `folder/compute.jsonl` (the file rewritten atomically)."""
    path = folder / FILE
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    line = json.dumps({**entry, "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
    write_text(path, before + line + "\n")


def total_seconds(folder: Path) -> float:
    """The wall seconds of every record in `folder/compute.jsonl` (0 without one; unreadable lines skipped)."""
    path = folder / FILE
    if not path.is_file():
        return 0.0
    total = 0.0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            seconds = json.loads(line).get("wall_seconds")
        except (ValueError, AttributeError):
            continue
        if isinstance(seconds, (int, float)) and seconds >= 0:
            total += float(seconds)
    return total


def making_seconds(synth_root: Path, vocoder_root: Path, kinds: set[str]) -> float:
    """Wall seconds spent making a synthetic set (`synth_root`): its synth runs, plus the vocoder's training
    when its clips are DiffWave's (`kinds`: the set's vocoder kinds)."""
    return total_seconds(synth_root) + (total_seconds(vocoder_root) if "diffwave" in kinds else 0.0)
