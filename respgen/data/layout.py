"""Which layout a dataset path has: an annotation table (a .csv / .tsv file), a SPRSound folder
(`train*_wav/` + `train*_json/` ...), else an ICBHI folder."""

from __future__ import annotations

from pathlib import Path

from respgen.errors import RespgenError

LAYOUTS = ("icbhi", "sprsound", "table")


def detect_layout(path: Path) -> str:
    """`table`, `sprsound` or `icbhi` for `path`; a one-line error when it does not exist."""
    from respgen.data.annotation_table import looks_like_table
    from respgen.data.sprsound import looks_like_sprsound

    if not path.exists():
        raise RespgenError("dataset not found (an ICBHI or SPRSound folder, or a .csv/.tsv annotation table)", path)
    if path.is_file():
        if looks_like_table(path):
            return "table"
        raise RespgenError("a dataset file must be an annotation table (.csv or .tsv)", path)
    return "sprsound" if looks_like_sprsound(path) else "icbhi"
