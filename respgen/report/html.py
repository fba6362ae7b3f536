"""index.html, rendered from a `ReportModel` alone: the same sections, tables and sentences as report.md
(`report.content`), plus an `<audio controls>` player beside each excerpt's mel (`report.media`'s files)
and a runs table sorted by clicking a column. Self-contained: inline CSS and a few lines of inline
JavaScript, every image and sound a file beside it; nothing is fetched from the network."""

from __future__ import annotations

import re
from html import escape

from respgen.report import content
from respgen.report.content import SECTIONS, Table
from respgen.report.media import error_name, pair_name
from respgen.report.model import Clip, ErrorsReport, ReportModel, SyntheticSetReport

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 0 1.2em 3em; color: #1d1d1f; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5em 0; z-index: 1; }
nav a { margin-right: 1em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: .25em .55em; }
th { background: #f4f4f6; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-order=asc]::after { content: " ▲"; }
table.sortable th[data-order=desc]::after { content: " ▼"; }
.missing { background: #fff4e5; border: 1px solid #f0c36d; padding: .4em 1em; }
td img.mel { width: 300px; height: 90px; image-rendering: pixelated; display: block; }
td audio { width: 300px; }
.pairs { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 1em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em; }
.card h4 { margin: 0 0 .4em; font-size: 14px; }
.sides { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .6em; }
figure { margin: 0; }
figcaption { font-size: 12px; color: #555; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
figure img.mel { width: 100%; height: 90px; image-rendering: pixelated; display: block; }
audio { width: 100%; height: 32px; margin-top: .2em; }
img.plot { max-width: 100%; }
code { font-size: 12px; background: #f4f4f6; padding: 0 .2em; }
"""

# Click a header of a sortable table: sort its rows by that column (numbers by `data-v`, missing last),
# ascending, then descending.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.dataset.order !== "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
      th.dataset.order = asc ? "asc" : "desc";
      var body = table.tBodies[0], numeric = th.classList.contains("num");
      var key = function (row) {
        var cell = row.cells[col];
        return numeric ? (cell.dataset.v === "" ? null : parseFloat(cell.dataset.v)) : cell.textContent;
      };
      Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
        var c = numeric ? x - y : x.localeCompare(y);
        return asc ? c : -c;
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?")


def inline(text: str) -> str:
    """`report.content`'s Markdown inline syntax (`code`, **strong**, *emphasis*) as escaped HTML."""
    parts = text.split("`")
    out = []
    for i, part in enumerate(parts):
        part = escape(part, quote=False)
        if i % 2:
            out.append(f"<code>{part}</code>")
        else:
            part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
            out.append(re.sub(r"\*(.+?)\*", r"<em>\1</em>", part))
    return "".join(out)


def table(t: Table, sortable: bool = False, extra: list[list[str]] | None = None) -> str:
    """A `content.Table`; `extra`: raw HTML cells appended to each row (their headers are in t.header)."""
    cls = ' class="sortable"' if sortable else ""
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i < len(t.numeric) and t.numeric[i] else f"<th>{escape(h)}</th>"
        for i, h in enumerate(t.header)
    )
    rows = []
    for r, row in enumerate(t.rows):
        cells = []
        for text, numeric in zip(row, t.numeric):
            if numeric:
                m = _NUMBER.match(text)
                cells.append(f'<td class="num" data-v="{m.group(0) if m else ""}">{escape(text)}</td>')
            else:
                cells.append(f"<td>{inline(text)}</td>")
        cells += [f"<td>{cell}</td>" for cell in (extra[r] if extra else [])]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def player(name: str, clip: Clip, audio: bool) -> str:
    """An excerpt's mel picture and, with `audio`, its player."""
    img = f'<img class="mel" src="{escape(name)}.png" alt="mel of {escape(clip.id)}" loading="lazy">'
    if not audio:
        return img
    return img + f'<audio controls preload="none" src="{escape(name)}.wav"></audio>'


def render(model: ReportModel, figures: dict[str, str], audio: bool = True) -> str:
    """The whole index.html; `figures`: figure key -> file name (those drawn); `audio`: excerpts written."""
    sections = [
        ("missing", _missing(model)),
        ("counts", _counts(model, figures)),
        ("sets", _sets(model, audio)),
        ("feature-space", _feature_space(model)),
        ("runs", _runs(model, figures)),
        ("study", _study(model, figures)),
        ("evaluations", _evaluations(model)),
        ("errors", _errors(model, audio)),
        ("vocoder", _vocoder(figures)),
    ]
    shown = [(key, body) for key, body in sections if body]
    nav = " ".join(f'<a href="#{key}">{escape(SECTIONS[key])}</a>' for key, _ in shown)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{escape(SECTIONS[key])}</h2>\n{html}\n</section>' for key, html in shown
    )
    note = "" if audio else "<p>Audio left out (<code>--no-audio</code>): mels only.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(content.TITLE)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(content.TITLE)}</h1>
<p>Workspace: <code>{escape(model.workspace)}</code></p>
{note}
<nav>{nav}</nav>
{body}
<script>{SCRIPT}</script>
</body>
</html>
"""


def _study(model: ReportModel, figures: dict[str, str]) -> str:
    cost = content.costs(model)
    out = []
    if model.sweeps:
        out.append(_p(content.SWEEP_INTRO))
        if "sweep" in figures:
            out.append(f'<p><img class="plot" src="{escape(figures["sweep"])}" alt="amount sweep"></p>')
        for s in model.sweeps:
            out.append(f"<h3>{escape(s.label)}: runs {escape(s.runs)}-n*</h3>" + table(content.sweep_table(s)))
    diffs = content.differences(model)
    if diffs is not None:
        out += [_p(content.DIFFERENCES_INTRO), table(diffs)]
    if cost is not None:
        out += [_p(content.COST_INTRO), table(cost)]
    return "\n".join(out)


def _evaluations(model: ReportModel) -> str:
    evaluated = content.evaluations(model)
    return "" if evaluated is None else _p(content.EVALUATIONS_INTRO) + table(evaluated)


def _p(text: str) -> str:
    return f"<p>{inline(text)}</p>"


def _missing(model: ReportModel) -> str:
    if not model.missing:
        return ""
    items = "".join(f"<li>{inline(line)}</li>" for line in model.missing)
    return f'<div class="missing"><ul>{items}</ul></div>'


def _counts(model: ReportModel, figures: dict[str, str]) -> str:
    out = table(content.counts(model))
    if "counts" in figures:
        out += f'<p><img class="plot" src="{escape(figures["counts"])}" alt="cycles per class"></p>'
    return out


def _sets(model: ReportModel, audio: bool) -> str:
    if not model.sets:
        return _p(content.SETS_NONE)
    out = [_p(content.SETS_INTRO), _p(content.label_model(model))]
    out += [_set(s, audio) for s in model.sets]
    return "\n".join(out)


def _set(s: SyntheticSetReport, audio: bool) -> str:
    out = [f'<h3 id="set-{escape(s.name)}">{escape(s.name)}</h3>', _p(content.vocoder_kinds(s))]
    out.append(table(content.set_quality(s)))
    warning = content.noise_warning(s)
    if warning:
        out.append(_p(warning))
    lines = content.diversity_lines(s)
    if lines:
        out.append("<ul>" + "".join(f"<li>{inline(line)}</li>" for line in lines) + "</ul>")
    if s.pairs:
        out += [f"<h4>Listen: {escape(s.name)}</h4>", _p(content.LISTEN_INTRO), '<div class="pairs">']
        for p in s.pairs:
            sides = []
            for side, clip, caption in (("real", p.real, "real (source)"), ("synthetic", p.synthetic, "synthetic")):
                sides.append(
                    f'<figure><figcaption title="{escape(clip.id)}">{caption}, {clip.seconds:.1f} s<br>'
                    f"<code>{escape(clip.id)}</code></figcaption>{player(pair_name(s.name, p, side), clip, audio)}"
                    "</figure>"
                )
            out.append(
                f'<div class="card pair" data-set="{escape(s.name)}" data-class="{escape(p.label)}" '
                f'data-pick="{p.pick}"><h4>{inline(content.pair_title(p))}</h4>'
                f'<div class="sides">{"".join(sides)}</div></div>'
            )
        out.append("</div>")
    return "\n".join(out)


def _feature_space(model: ReportModel) -> str:
    fs = model.feature_space
    if fs is None:
        return _p(content.FEATURE_SPACE_NONE)
    return _p(content.feature_space_intro(model, fs)) + table(content.frechet(fs)) + _p(content.discriminator(fs))


def _runs(model: ReportModel, figures: dict[str, str]) -> str:
    if not model.runs:
        return _p(content.RUNS_NONE)
    out = [_p(content.RUNS_INTRO + " Click a column to sort by it."), table(content.runs(model), sortable=True)]
    for r in model.runs:
        key = f"run-{r.name}"
        if key in figures:
            out.append(
                f'<h3 id="run-{escape(r.name)}">{escape(r.name)}</h3>{_p(content.run_figure_caption(r))}'
                f'<p><img class="plot" src="{escape(figures[key])}" alt="{escape(r.name)}" loading="lazy"></p>'
            )
    return "\n".join(out)


def _errors(model: ReportModel, audio: bool) -> str:
    e = model.errors
    if e is None:
        return _p(model.errors_note or "")
    out = [_p(content.errors_intro(e))]
    for label, wrong in e.by_class.items():
        out.append(f"<h3>true {escape(label)}</h3>")
        out.append(_error_class(e, label, wrong, audio))
    return "\n".join(out)


def _error_class(e: ErrorsReport, label: str, wrong: list, audio: bool) -> str:
    if not wrong:
        return _p(content.errors_none(e, label))
    t = content.errors_table(e, wrong)
    t.header.append("listen")
    extra = [[player(error_name(label, i), m.clip, audio)] for i, m in enumerate(wrong)]
    return f'<div class="errors-table" data-class="{escape(label)}">{table(t, extra=extra)}</div>'


def _vocoder(figures: dict[str, str]) -> str:
    if "vocoder-validation" not in figures:
        return ""
    return f'<p><img class="plot" src="{escape(figures["vocoder-validation"])}" alt="vocoder validation distance"></p>'
