"""`respgen report`'s index.html as a person opens it: it parses, every image and sound it links is a file
beside it that loads, it plays real vs synthetic pairs of every minority class of every set and the
run's errors; a workspace missing runs, synthetic data or a finished run still gets a report saying so."""

from __future__ import annotations

import json
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

VOID = {"meta", "img", "br", "hr", "input", "link", "source", "wbr"}


class Page(HTMLParser):
    """Every tag with its attributes, the section ids, and whether every element that was opened was closed."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.unbalanced.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]

    @property
    def sections(self) -> list[str]:
        return [a["id"] for a in self.all("section")]


def read_page(report: Path) -> Page:
    page = Page((report / "index.html").read_text(encoding="utf-8"))
    assert not page.stack and not page.unbalanced, (page.stack, page.unbalanced)
    return page


def assert_self_contained(report: Path, page: Page) -> None:
    """Every src / href is a relative file inside the report folder (or an anchor): nothing from the network."""
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            if key in attrs:
                link = attrs[key]
                assert "://" not in link and not link.startswith("//"), (tag, link)
                if not link.startswith("#"):
                    assert (report / link).is_file() and (report / link).resolve().is_relative_to(report.resolve()), (
                        link
                    )


@pytest.fixture(scope="module")
def quick(quickstart_small):
    """The quickstart's workspace at the size tests/test_quickstart.py uses (shared with it)."""
    return quickstart_small[0]


def test_html_report_plays_pairs_and_errors(cli, quick):
    r = cli("report", "--workdir", quick, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    report = quick / "report"
    assert out["html"] == str(report / "index.html") and out["report"] == str(report / "report.md")
    page = read_page(report)
    assert_self_contained(report, page)
    # nothing missing; the study section: each run's cost and its difference to ce, paired
    assert page.sections == ["counts", "sets", "feature-space", "runs", "study", "errors", "vocoder"]
    md = (report / "report.md").read_text(encoding="utf-8")
    for heading in ("Cycles per class (train)", "Synthetic sets", "Runs", "Errors, playable", "Vocoder validation"):
        assert f"## {heading}" in md  # the same sections in both views

    # every image is a picture, every sound a short 16 kHz 16-bit WAV that decodes
    images = [a["src"] for a in page.all("img")]
    sounds = [a["src"] for a in page.all("audio")]
    assert sounds and all("controls" in a for a in page.all("audio"))
    for src in sounds:
        info = sf.info(str(report / src))
        wave, rate = sf.read(str(report / src), dtype="float32")
        assert info.subtype == "PCM_16" and rate == 16000 and 0 < len(wave) <= 4 * 16000, src
        assert np.isfinite(wave).all() and np.abs(wave).max() > 0, src
    assert sorted(f for f in out["media"] if f.endswith(".wav")) == sorted(sounds)
    for src in images:
        assert (report / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src

    # real vs synthetic: pairs of every minority class in every set, each a real and a synthetic player,
    # ordered best to worst by the mel L1 the JSON reports
    cards = [a for a in page.all("div") if "pair" in a.get("class", "").split()]
    for name in ("diffwave", "griffinlim"):
        mine = [c for c in cards if c["data-set"] == name]
        assert {c["data-class"] for c in mine} == {"crackle", "wheeze", "both"}
        assert all(c["data-pick"] in ("best", "median", "worst") for c in mine)
        listed = out["listening"][name]
        assert len(listed) == len(mine)
        for label in ("crackle", "wheeze", "both"):
            distances = [p["mel_l1"] for p in listed if p["label"] == label]
            assert distances == sorted(distances) and len(distances) == 2  # 2 cycles: best and worst
        for side in ("real", "synthetic"):
            assert all(f"listen/{name}-{p['label']}-{p['pick']}-{side}.wav" in sounds for p in listed)
    rows = [json.loads(line) for line in (quick / "synth" / "griffinlim" / "manifest.jsonl").read_text().splitlines()]
    stored = {r["id"]: r["mel_l1"] for r in rows}
    assert all(p["mel_l1"] == stored[p["synthetic"]] for p in out["listening"]["griffinlim"])

    # errors of models/latest: as many as its recorded confusion has off the diagonal, most confident first
    errors = out["errors"]
    latest = (quick / "models" / "latest").resolve()
    m = json.loads((Path(errors["model_dir"]) / "metrics.json").read_text())  # a several-seed run: its first seed
    cm = np.asarray(m["test"]["confusion"])
    assert errors["run"] == latest.name and errors["n_wrong"] == errors["recorded_wrong"] == cm.sum() - np.trace(cm)
    assert errors["predictions"] == "recorded"  # finetune's predictions.json: no model run again
    if errors["n_wrong"]:
        played = [s for s in sounds if s.startswith("listen/error-")]
        assert len(played) == sum(len(w) for w in errors["by_class"].values()) > 0
        for label, wrong in errors["by_class"].items():
            i = m["classes"].index(label)
            assert len(wrong) == min(3, int(cm[i].sum() - cm[i, i]))
            assert all(w["predicted"] != label for w in wrong)
            confidence = [w["probabilities"][w["predicted"]] for w in wrong]
            assert confidence == sorted(confidence, reverse=True)
            assert all(abs(sum(w["probabilities"].values()) - 1) < 1e-3 for w in wrong)
        assert "Run <code>" + latest.name in (report / "index.html").read_text()

    # the runs table sorts in the browser and starts ordered by test Score, like report.md
    table = (report / "index.html").read_text().split('<table class="sortable">')[1].split("</table>")[0]
    html_order = [row.split("<td>")[1].split("</td>")[0] for row in table.split("<tr>")[2:]]
    md_order = [
        line.split(" | ")[0][2:]
        for line in md.split("## Runs")[1].split("\n## ")[0].splitlines()  # the Runs section only
        if line.startswith("| quickstart-")
    ]
    assert html_order == md_order and set(html_order) == set(out["runs"])
    assert "<script>" in (report / "index.html").read_text()


def test_no_audio_another_run_and_an_unknown_run(cli, quick):
    r = cli("report", "--workdir", quick, "--no-audio", "--run", "quickstart-ce", "--errors-per-class", "1", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    report = quick / "report"
    page = read_page(report)
    assert_self_contained(report, page)
    assert not page.all("audio") and not list(report.rglob("*.wav")) and page.all("img")
    assert out["errors"]["run"] == "quickstart-ce"
    assert all(len(w) <= 1 for w in out["errors"]["by_class"].values())
    r = cli("report", "--workdir", quick, "--run", "nosuch")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "no finished run 'nosuch'" in r.stderr


def test_errors_of_a_run_without_recorded_predictions(cli, quick, tmp_path):
    """A run made before finetune recorded its predictions: the report runs the model on the test split,
    with the same result as the recorded probabilities give."""
    ws = workspace(quick, tmp_path, "older-run", ("models", "synth"))
    recorded = json.loads(cli("report", "--workdir", ws, "--no-audio", "--json").stdout)["errors"]
    for f in (ws / "models").glob("*/predictions.json"):
        f.unlink()
    r = cli("report", "--workdir", ws, "--no-audio", "--json")
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout)["errors"]
    assert recorded["predictions"] == "recorded" and again["predictions"] == "recomputed"
    assert again["n_wrong"] == again["recorded_wrong"] == recorded["n_wrong"]
    assert {c: sorted(w["id"] for w in ws_) for c, ws_ in again["by_class"].items()} == {
        c: sorted(w["id"] for w in ws_) for c, ws_ in recorded["by_class"].items()
    }
    assert "run again on the test split" in (ws / "report" / "report.md").read_text(encoding="utf-8")


def workspace(quick: Path, tmp_path: Path, name: str, parts: tuple[str, ...]) -> Path:
    """A workspace with the quickstart's prepared data (linked) and copies of some of its other parts."""
    ws = tmp_path / name
    ws.mkdir()
    (ws / "data").symlink_to(quick / "data", target_is_directory=True)
    for part in parts:
        shutil.copytree(quick / part, ws / part, symlinks=True)
    return ws


def report_of(cli, ws: Path) -> tuple[dict, Page, str]:
    r = cli("report", "--workdir", ws, "--json")
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    out = json.loads(r.stdout)
    page = read_page(ws / "report")
    assert_self_contained(ws / "report", page)
    md = (ws / "report" / "report.md").read_text(encoding="utf-8")
    html = (ws / "report" / "index.html").read_text(encoding="utf-8")
    assert page.sections[0] == "missing" and "## Missing" in md
    for line in out["missing"]:  # one line per missing part, in both views
        assert f"- {line}" in md and escape(line.split("`")[0], quote=False) in html
    return out, page, md


def test_partial_workspaces_still_get_a_report(cli, quick, tmp_path, monkeypatch):
    # no runs
    out, page, md = report_of(cli, workspace(quick, tmp_path, "no-runs", ("synth",)))
    assert out["missing"] == ["no finished fine-tuning runs (run `respgen finetune` or `respgen compare`)"]
    assert out["errors"] is None and out["runs"] == [] and "No fine-tuned models" in md
    assert {a["data-set"] for a in page.all("div") if "data-set" in a} == {"diffwave", "griffinlim"}

    # no synthetic data
    out, page, md = report_of(cli, workspace(quick, tmp_path, "no-synth", ("models",)))
    assert out["missing"] == ["no synthetic cycles (run `respgen synth`, e.g. `--vocoder griffinlim` without a GPU)"]
    assert out["listening"] == {} and out["errors"]["n_wrong"] >= 0 and "No synthetic cycles" in md

    # a half-written run, which models/latest points to
    ws = workspace(quick, tmp_path, "half", ("synth",))
    (ws / "models" / "half").mkdir(parents=True)
    shutil.copy(quick / "models" / "quickstart-ce" / "respgen.json", ws / "models" / "half")
    (ws / "models" / "latest").symlink_to("half")
    out, page, md = report_of(cli, ws)
    assert len(out["missing"]) == 3 and out["errors"] is None
    assert "no finished fine-tuning runs" in out["missing"][0]
    assert out["missing"][1] == "run folder half has no readable metrics.json (interrupted?): left out"
    assert out["missing"][2].startswith("no feature-space numbers")

    # --open hands index.html to the default browser, and is quiet where there is none
    import webbrowser

    from respgen.config import ReportConfig
    from respgen.services.report import build_report

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    assert build_report(ReportConfig(workdir=ws, open=True)).opened and opened == [
        (ws / "report" / "index.html").resolve().as_uri()
    ]

    def no_browser(url):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "open", no_browser)
    assert build_report(ReportConfig(workdir=ws, open=True)).opened is False
