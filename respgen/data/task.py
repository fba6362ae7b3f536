"""The classification task a workspace holds: which class each of a dataset's labels becomes, and the
class list (normal first). Chosen by `prepare --labels` per format, then merged or dropped by a label
map (`--label-map FILE`, TOML: `"source label" = "class"`, or `= false` to drop the label's segments).

Formats and their `--labels` (auto picks the first):
- icbhi: `four` (normal / crackle / wheeze / both) or `binary` (normal / abnormal);
- sprsound: `events` (its seven event types as classes: normal, rhonchi, wheeze, stridor, coarse-crackle,
  fine-crackle, wheeze+crackle) or `binary` (normal / adventitious);
- table: `events` (the table's labels as classes) or `binary` (the normal class / abnormal)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from respgen.errors import RespgenError
from respgen.labels import check_class_name, class_name, normal_first

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LABEL_SETS = {"icbhi": ("four", "binary"), "sprsound": ("events", "binary"), "table": ("events", "binary")}
ABNORMAL = {"icbhi": "abnormal", "sprsound": "adventitious", "table": "abnormal"}


@dataclass(frozen=True)
class Task:
    """Source label -> class (None: dropped), and the classes, normal first."""

    mapping: dict[str, str | None]
    classes: tuple[str, ...]

    @property
    def normal(self) -> str:
        return self.classes[0]

    def class_of(self, label: str) -> str | None:
        return self.mapping[label]


def read_label_map(path: Path) -> dict[str, str | None]:
    """A label map file: TOML, each key a source label (or its class name), each value a class name, or
    false / "" to drop the label. One-line errors naming the file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RespgenError("label map not found", path) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RespgenError(f"cannot read label map: {e}", path) from None
    doc = doc.get("labels", doc) if isinstance(doc.get("labels"), dict) else doc
    out: dict[str, str | None] = {}
    for key, value in doc.items():
        if value is False or value == "":
            out[key] = None
        elif isinstance(value, str):
            try:
                out[key] = check_class_name(value)
            except RespgenError as e:
                raise RespgenError(f"label map entry {key!r}: {e.message}", path) from None
        else:
            raise RespgenError(f"label map entry {key!r}: give a class name, or false to drop it", path)
    if not any(v is not None for v in out.values()):
        raise RespgenError("label map keeps no class", path)
    return out


def build_task(
    fmt: str,
    labels: str,
    source_labels: Iterable[str],
    label_map: dict[str, str | None] | None = None,
    normal_class: str | None = None,
    map_file: Path | None = None,
) -> Task:
    """The task for the labels present in a dataset (`source_labels`, in their canonical order)."""
    chosen = LABEL_SETS[fmt][0] if labels == "auto" else labels
    if chosen not in LABEL_SETS[fmt]:
        raise RespgenError(
            f"--labels {labels} does not apply to the {fmt} format (choose {', '.join(LABEL_SETS[fmt])}, or map "
            "the labels with --label-map)"
        )
    present = list(dict.fromkeys(source_labels))
    if label_map is not None:
        mapping = {label: _mapped(label, label_map, map_file) for label in present}
        order = [v for v in label_map.values() if v is not None]
    else:
        mapping = {label: _base_class(fmt, chosen, label, normal_class) for label in present}
        order = list(mapping.values())
    kept = [c for c in dict.fromkeys(order) if c in mapping.values()]
    if not kept:
        raise RespgenError("no segment keeps a class (the label map drops every label present)", map_file)
    return Task(mapping, normal_first(kept, normal_class))


def _base_class(fmt: str, chosen: str, label: str, normal_class: str | None) -> str:
    """The class of a source label under a format's own label set (ICBHI's labels are already classes)."""
    if fmt == "icbhi":
        return label
    name = class_name(label)
    if chosen == "binary":
        return name if name == (normal_class or "normal") else ABNORMAL[fmt]
    return name


def _mapped(label: str, label_map: dict[str, str | None], map_file: Path | None) -> str | None:
    for key in (label, class_name(label)):
        if key in label_map:
            return label_map[key]
    raise RespgenError(f"label {label!r} is not in the label map (map it to a class, or to false to drop it)", map_file)
