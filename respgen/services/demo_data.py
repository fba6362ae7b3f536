"""`demo-data`: a small, seeded, synthetic dataset in the ICBHI folder layout (signals from `respgen.data.demo`),
or in the SPRSound or annotation-table layout (`respgen.data.sprsound`, `respgen.data.annotation_table`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from respgen.atomic import write_text
from respgen.audio import write_wav
from respgen.config import DemoDataConfig
from respgen.data.demo import CLASS_PROBS, DEVICES, FIRST_PATIENT, LOCATIONS, make_cycle
from respgen.data.icbhi import DIAGNOSIS_FILE_NAME, SPLIT_FILE_NAME
from respgen.errors import RespgenError
from respgen.labels import CLASSES


@dataclass
class DemoDataResult:
    out_dir: Path
    recordings: dict[str, int]
    counts: dict[str, dict[str, int]]
    classes: tuple[str, ...] = field(default=CLASSES)

    def to_dict(self) -> dict:
        return {"out_dir": str(self.out_dir), "recordings": self.recordings, "counts": self.counts}


def class_pool(n: int, rng: np.random.Generator) -> list[str]:
    """n labels in ICBHI's imbalance (CLASS_PROBS, largest remainder; every class at least once when
    n allows), shuffled: a split's cycles are dealt from it, so its class shares are exact."""
    want = [p * n for p in CLASS_PROBS]
    counts = [max(1, int(w)) if n >= len(CLASSES) else int(w) for w in want]
    for i in sorted(range(len(want)), key=lambda i: int(want[i]) - want[i]):
        if sum(counts) >= n:
            break
        counts[i] += 1
    while sum(counts) > n:
        counts[counts.index(max(counts))] -= 1
    labels = [c for c, k in zip(CLASSES, counts) for _ in range(k)]
    return [str(x) for x in rng.permutation(labels)]


def make_demo_data(cfg: DemoDataConfig) -> DemoDataResult:
    """Write `cfg.out_dir`: for the ICBHI layout one wav + annotation txt per recording, the split file and
    the diagnoses; for the others, their own layout (`prepare` reads each).

    Reads nothing; touches no workspace. Separable, imbalanced classes (see `respgen.data.demo`)."""
    out = cfg.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RespgenError(f"cannot create output folder: {e.strerror or e}", out) from None
    if cfg.layout != "icbhi":
        return _other_layout(cfg)
    rng = np.random.default_rng(cfg.seed)
    n_train = max(1, round(cfg.patients * 2 / 3))
    split_lines, diagnosis_lines = [], []
    counts = {s: Counter() for s in ("train", "test")}
    recordings = Counter()
    per_recording = cfg.recordings_per_patient * cfg.cycles_per_recording
    n_test = cfg.patients - n_train
    pools = {"train": class_pool(n_train * per_recording, rng), "test": class_pool(n_test * per_recording, rng)}
    for p in range(cfg.patients):
        patient = FIRST_PATIENT + p
        split = "train" if p < n_train else "test"
        device = DEVICES[p % len(DEVICES)]
        diagnosis_lines.append(f"{patient},{'Healthy' if p % 3 == 0 else 'COPD'}")
        for r in range(cfg.recordings_per_patient):
            name = f"{patient}_{r + 1}b1_{LOCATIONS[r % len(LOCATIONS)]}_sc_{device}"
            labels = pools[split][: cfg.cycles_per_recording]
            del pools[split][: cfg.cycles_per_recording]
            pieces, lines, t = [np.zeros(int(0.1 * cfg.sample_rate))], [], 0.1
            for label in labels:
                n = int(rng.uniform(2.0, 4.0) * cfg.sample_rate)
                pieces.append(make_cycle(str(label), n, cfg.sample_rate, rng))
                c, w = int(label in ("crackle", "both")), int(label in ("wheeze", "both"))
                lines.append(f"{t:.3f}\t{t + n / cfg.sample_rate:.3f}\t{c}\t{w}")
                t += n / cfg.sample_rate
                counts[split][str(label)] += 1
            pieces.append(np.zeros(int(0.1 * cfg.sample_rate)))
            write_wav(out / f"{name}.wav", np.concatenate(pieces), cfg.sample_rate)
            write_text(out / f"{name}.txt", "\n".join(lines) + "\n")
            split_lines.append(f"{name}\t{split}")
            recordings[split] += 1
    write_text(out / SPLIT_FILE_NAME, "\n".join(split_lines) + "\n")
    write_text(out / DIAGNOSIS_FILE_NAME, "\n".join(diagnosis_lines) + "\n")
    return DemoDataResult(
        out_dir=out,
        recordings=dict(recordings),
        counts={s: {c: counts[s][c] for c in CLASSES} for s in counts},
    )


def _other_layout(cfg: DemoDataConfig) -> DemoDataResult:
    """A SPRSound-layout or annotation-table demo dataset, counted by reading it back as `prepare` will."""
    if cfg.layout == "sprsound":
        from respgen.data.sprsound import read_sprsound, write_demo_sprsound

        write_demo_sprsound(cfg.out_dir, seed=cfg.seed)
        source = read_sprsound(cfg.out_dir)
    else:
        from respgen.data.annotation_table import read_table, write_demo_table

        source = read_table(write_demo_table(cfg.out_dir, seed=cfg.seed))
    counts: dict[str, Counter] = {}
    for rec in source.recordings:
        counts.setdefault(rec.split or "train", Counter()).update(seg.label for seg in rec.segments)
    labels = tuple(sorted({label for c in counts.values() for label in c}))
    recordings = Counter(rec.split or "train" for rec in source.recordings)
    return DemoDataResult(
        cfg.out_dir, dict(recordings), {s: {c: counts[s][c] for c in labels} for s in counts}, classes=labels
    )
