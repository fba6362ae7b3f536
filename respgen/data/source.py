"""What every dataset reader hands to `prepare`, whatever the layout on disk: recordings, each with its
labelled segments (cycles / events) under the dataset's own label names, and what was skipped and why.

`prepare` maps the source labels to the workspace's classes (`--labels`, `--label-map`), cuts each
segment into a clip and writes the manifest; the readers only parse and check their layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Split = Literal["train", "val", "test"]


@dataclass
class Segment:
    """One labelled stretch of a recording: seconds from its start, the dataset's own label, and what
    else the dataset says about it (kept in the row's metadata)."""

    start: float
    end: float
    label: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceRecording:
    """One audio file and its segments. `name`: unique within the dataset (the clip ids derive from it);
    `patient`: the unit of the patient-disjoint val split; `split`: from the dataset (None: prepare
    assigns one); `subset`: a named part of the test split (SPRSound's inter / intra), or None."""

    wav: Path
    name: str
    patient: str
    split: Split | None
    segments: list[Segment]
    subset: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Skipped:
    """An item a reader left out, with the reason (counted in prepare's summary; an error with --strict)."""

    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


@dataclass
class SourceDataset:
    """A dataset as read: its format name, recordings, skipped items and notes (one line each)."""

    format: str
    recordings: list[SourceRecording]
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
