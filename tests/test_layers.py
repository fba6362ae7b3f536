"""The house's layering, checked on every import (nested ones too): the CLI on top, then the services,
then the workspace-wide gatherers (`report/`, `synthetic_quality.py`), then the domain code (`data/`,
`vocoder/`, `classifier/`, the measures and helpers). Nothing imports from a layer above its own."""

import ast
from pathlib import Path

import respgen

PACKAGE = Path(respgen.__file__).parent
ENTRY_POINTS = {"respgen", "respgen.__main__"}  # the package exports the services; `python -m respgen` runs the CLI


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    return {"cli": 3, "services": 2, "report": 1, "synthetic_quality": 1}.get(top, 0)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "respgen" or m.startswith("respgen.")}


def test_no_import_climbs_a_layer():
    climbing = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        if module in ENTRY_POINTS:
            continue
        climbing += [f"{module} -> {m}" for m in imports(path) if layer(m) > layer(module)]
    assert not climbing, climbing


def test_the_check_sees_a_climbing_import():
    assert layer("respgen.classifier.probe") < layer("respgen.report.model") < layer("respgen.services.report")
    assert "respgen.frechet" in imports(PACKAGE / "classifier" / "probe.py")
