"""Class names and the mapping from ICBHI (crackle, wheeze) flags to labels."""

from __future__ import annotations

from typing import Literal

from respgen.errors import RespgenError

CLASSES = ("normal", "crackle", "wheeze", "both")
BINARY_CLASSES = ("normal", "abnormal")
LabelScheme = Literal["four", "binary"]


def label_for(crackle: int, wheeze: int, scheme: LabelScheme = "four") -> str:
    if scheme == "binary":
        return "abnormal" if (crackle or wheeze) else "normal"
    return CLASSES[crackle + 2 * wheeze]


def classes_for(scheme: LabelScheme) -> tuple[str, ...]:
    return BINARY_CLASSES if scheme == "binary" else CLASSES


def parse_classes(names: list[str], known: tuple[str, ...] = CLASSES) -> list[str]:
    """Expand `all` and validate class names, keeping order and dropping repeats."""
    out: list[str] = []
    for name in names:
        for part in name.split(","):
            part = part.strip().lower()
            picked = list(known) if part == "all" else [part]
            for p in picked:
                if p not in known:
                    raise RespgenError(f"unknown class {p!r}; choose from {', '.join(known)} or all")
                if p not in out:
                    out.append(p)
    return out
