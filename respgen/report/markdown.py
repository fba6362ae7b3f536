"""report.md, rendered from a `ReportModel` alone: the tables and sentences of `report.content`, the
figures drawn by `report.figures` and the excerpts written by `report.media` (linked; a Markdown viewer
cannot play them: index.html does)."""

from __future__ import annotations

from respgen.report import content
from respgen.report.content import SECTIONS, Table
from respgen.report.media import error_name, pair_name
from respgen.report.model import ReportModel, SyntheticSetReport


def table(t: Table) -> list[str]:
    return [
        "| " + " | ".join(t.header) + " |",
        "|" + "".join("--:|" if n else "---|" for n in t.numeric),
        *("| " + " | ".join(row) + " |" for row in t.rows),
    ]


def render(model: ReportModel, figures: dict[str, str], audio: bool = True) -> str:
    """The whole report.md; `figures`: figure key -> file name (those drawn); `audio`: excerpts written."""
    md = [f"# {content.TITLE}", "", f"Workspace: `{model.workspace}`", ""]
    if model.missing:
        md += [f"## {SECTIONS['missing']}", ""] + [f"- {line}" for line in model.missing] + [""]
    md += _counts(model, figures)
    md += _sets(model, audio)
    md += _feature_space(model)
    md += _runs(model, figures)
    md += _study(model, figures)
    evaluated = content.evaluations(model)
    if evaluated is not None:
        md += [f"## {SECTIONS['evaluations']}", "", content.EVALUATIONS_INTRO, ""] + table(evaluated) + [""]
    md += _errors(model, audio)
    if "vocoder-validation" in figures:
        md += [f"## {SECTIONS['vocoder']}", "", f"![vocoder validation distance]({figures['vocoder-validation']})", ""]
    return "\n".join(md) + "\n"


def _counts(model: ReportModel, figures: dict[str, str]) -> list[str]:
    md = [f"## {SECTIONS['counts']}", ""] + table(content.counts(model))
    if "counts" in figures:
        md += ["", f"![cycles per class]({figures['counts']})"]
    return md + [""]


def _sets(model: ReportModel, audio: bool) -> list[str]:
    md = [f"## {SECTIONS['sets']}", ""]
    if not model.sets:
        return md + [content.SETS_NONE, ""]
    md += [content.SETS_INTRO, "", content.label_model(model), ""]
    for s in model.sets:
        md += _set(s, audio)
    return md


def _set(s: SyntheticSetReport, audio: bool) -> list[str]:
    md = [f"### {s.name}", "", content.vocoder_kinds(s), ""] + table(content.set_quality(s)) + [""]
    warning = content.noise_warning(s)
    if warning:
        md += [warning, ""]
    md += [f"- {line}" for line in content.diversity_lines(s)] + [""]
    if s.pairs:
        md += [content.LISTEN_INTRO, "", "| pair | real (source) | synthetic |", "|---|---|---|"]
        for p in s.pairs:
            cells = [content.pair_title(p)]
            for side, clip in (("real", p.real), ("synthetic", p.synthetic)):
                name = pair_name(s.name, p, side)
                cells.append(f"![{side} {clip.id}]({name}.png)<br>`{clip.id}`" + _listen(name, audio))
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
    return md


def _listen(name: str, audio: bool) -> str:
    return f" [listen]({name}.wav)" if audio else ""


def _feature_space(model: ReportModel) -> list[str]:
    md = [f"## {SECTIONS['feature-space']}", ""]
    fs = model.feature_space
    if fs is None:
        return md + [content.FEATURE_SPACE_NONE, ""]
    md += [content.feature_space_intro(model, fs), ""] + table(content.frechet(fs)) + [""]
    return md + [content.discriminator(fs), ""]


def _runs(model: ReportModel, figures: dict[str, str]) -> list[str]:
    md = [f"## {SECTIONS['runs']}", ""]
    if not model.runs:
        return md + [content.RUNS_NONE, ""]
    md += [content.RUNS_INTRO, ""] + table(content.runs(model)) + [""]
    for r in model.runs:
        key = f"run-{r.name}"
        if key in figures:
            md += [f"### {r.name}", "", content.run_figure_caption(r), "", f"![{r.name}]({figures[key]})", ""]
    return md


def _study(model: ReportModel, figures: dict[str, str]) -> list[str]:
    cost, diffs = content.costs(model), content.differences(model)
    if not model.sweeps and cost is None and diffs is None:
        return []
    md = [f"## {SECTIONS['study']}", ""]
    if model.sweeps:
        md += [content.SWEEP_INTRO, ""]
        if "sweep" in figures:
            md += [f"![amount sweep]({figures['sweep']})", ""]
        for s in model.sweeps:
            md += [f"### {s.label}: runs {s.runs}-n*", ""] + table(content.sweep_table(s)) + [""]
    if diffs is not None:
        md += [content.DIFFERENCES_INTRO, ""] + table(diffs) + [""]
    if cost is not None:
        md += [content.COST_INTRO, ""] + table(cost) + [""]
    return md


def _errors(model: ReportModel, audio: bool) -> list[str]:
    md = [f"## {SECTIONS['errors']}", ""]
    e = model.errors
    if e is None:
        return md + [model.errors_note or "", ""]
    md += [content.errors_intro(e), ""]
    for label, wrong in e.by_class.items():
        md += [f"### true {label}", ""]
        if not wrong:
            md += [content.errors_none(e, label), ""]
            continue
        t = content.errors_table(e, wrong)
        t.header.append("mel")
        for i, row in enumerate(t.rows):
            name = error_name(label, i)
            row.append(f"![{wrong[i].id}]({name}.png)" + _listen(name, audio))
        t.numeric.append(False)
        md += table(t) + [""]
    return md
