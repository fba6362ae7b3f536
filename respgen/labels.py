"""Class names: the ICBHI label sets and the mapping from ICBHI (crackle, wheeze) flags to labels, the rule
every class name follows (whatever dataset it comes from), and which class is a workspace's normal one."""

from __future__ import annotations

import re
from typing import Literal

from respgen.errors import RespgenError

CLASSES = ("normal", "crackle", "wheeze", "both")
BINARY_CLASSES = ("normal", "abnormal")
LabelScheme = Literal["four", "binary"]
CLASS_NAME = re.compile(r"^[a-z0-9][a-z0-9_+-]*$")  # a class names a folder (synth/<set>/<class>/)
MAX_CLASS_NAME = 48


def label_for(crackle: int, wheeze: int, scheme: LabelScheme = "four") -> str:
    if scheme == "binary":
        return "abnormal" if (crackle or wheeze) else "normal"
    return CLASSES[crackle + 2 * wheeze]


def classes_for(scheme: LabelScheme) -> tuple[str, ...]:
    return BINARY_CLASSES if scheme == "binary" else CLASSES


def class_name(label: str) -> str:
    """A dataset's label as a class name: lower case, runs of anything but letters, digits, `+` and `_`
    joined by `-` ("Coarse Crackle" -> "coarse-crackle", "Wheeze+Crackle" -> "wheeze+crackle")."""
    name = re.sub(r"[^a-z0-9_+]+", "-", label.strip().lower()).strip("-")
    return check_class_name(name, label)


def check_class_name(name: str, given: str | None = None) -> str:
    """`name` when it can name a class (`CLASS_NAME`, at most `MAX_CLASS_NAME` characters), else a one-line error."""
    if not CLASS_NAME.fullmatch(name) or len(name) > MAX_CLASS_NAME:
        raise RespgenError(
            f"{given or name!r} cannot name a class: a class name is lower-case letters, digits, _, + and - "
            f"(at most {MAX_CLASS_NAME} characters)"
        )
    return name


def normal_first(classes: list[str], normal: str | None) -> tuple[str, ...]:
    """The class list with the normal class first (the one rule metrics rely on: Sp is the recall of the
    first class). `normal`: the class named so (default `normal` when present); a one-line error asking for
    `--normal-class` when there is none."""
    normal = normal or ("normal" if "normal" in classes else None)
    if normal is None:
        raise RespgenError(f"no class is named 'normal' (classes: {', '.join(classes)}); pass --normal-class NAME")
    if normal not in classes:
        raise RespgenError(f"--normal-class {normal!r} is not one of the classes: {', '.join(classes)}")
    return (normal, *(c for c in classes if c != normal))


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
