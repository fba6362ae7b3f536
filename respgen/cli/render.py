"""Rich tables for results."""

from __future__ import annotations

from rich.table import Table

from respgen.cli.common import console


def render_counts(title: str, counts: dict[str, dict[str, int]], classes, extra: dict[str, dict[str, int]] | None = None) -> None:
    """A split x class table of counts, with a total column and optional extra columns per split."""
    table = Table(title=title)
    table.add_column("split")
    for c in classes:
        table.add_column(c, justify="right")
    table.add_column("total", justify="right")
    for name in extra or {}:
        table.add_column(name, justify="right")
    for split, row in counts.items():
        cells = [str(row.get(c, 0)) for c in classes] + [str(sum(row.values()))]
        cells += [str(col.get(split, 0)) for col in (extra or {}).values()]
        table.add_row(split, *cells)
    console.print(table)
