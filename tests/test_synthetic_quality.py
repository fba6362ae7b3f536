"""One synthetic set's fidelity, realism and diversity on the demo workspace (respgen.synthetic_quality)."""

import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from conftest import add_synthetic_rows

from respgen.classifier.data import n_frames
from respgen.classifier.model import AFTClassifier
from respgen.classifier.presets import PRESETS
from respgen.classifier.store import INFO_FILE, FeatureSpec
from respgen.data.manifest import read_rows
from respgen.diversity import NEAR_COPY_RATIO
from respgen.synthetic_quality import capped, held_out_real, set_quality
from respgen.workspace import Workspace


def _tiny_model_dir(out: Path, labels: tuple[str, ...]) -> Path:
    """A randomly initialised tiny AST as a model dir (1 s inputs; only the files `load_model_dir` reads)."""
    torch.manual_seed(0)
    spec = FeatureSpec(sample_rate=16000, length=1.0, pad="repeat", frames=n_frames(1.0))
    AFTClassifier(PRESETS["tiny"].ast_config(spec.frames, labels), discriminator=False).save(out)
    (out / INFO_FILE).write_text(json.dumps({"labels": list(labels), "features": asdict(spec)}))
    return out


def test_held_out_real_and_capped():
    real = [{"id": f"r{i}", "label": "crackle", "split": "train"} for i in range(6)]
    real += [{"id": f"t{i}", "label": "crackle", "split": "test"} for i in range(3)]
    syn = [
        {"id": "s0", "label": "crackle", "conditioned_on": "r0"},
        {"id": "s1", "label": "crackle", "conditioned_on": "r1"},
    ]
    rows, where = held_out_real(real, syn, "crackle")  # 3 test cycles are too few: train cycles but no sources
    assert where == "train (not sources)" and [r["id"] for r in rows] == ["r2", "r3", "r4", "r5"]
    real.append({"id": "v0", "label": "crackle", "split": "val"})
    rows, where = held_out_real(real, syn, "crackle")
    assert where == "val+test" and len(rows) == 4
    assert capped(real, 3, seed=1) == capped(list(reversed(real)), 3, seed=1) and len(capped(real, 3)) == 3
    assert capped(real, 100) == sorted(real, key=lambda r: r["id"])


@pytest.fixture
def demo_synth5(demo_copy: Path) -> Path:
    """Like `demo_synth`, with up to 5 synthetic rows per class (a two-sample test needs >= 4 a side)."""
    add_synthetic_rows(demo_copy, per_class=5)
    return demo_copy


def test_set_quality_on_demo(demo_synth5: Path, tmp_path: Path):
    ws = Workspace(demo_synth5)
    rows = read_rows(ws.synth_manifest)
    rows[0]["mel_l1_other_seed"] = 0.01  # a row with a second synthesis (what synth will record)
    real_by_id = {r["id"]: r for r in ws.real_rows(("train",))}
    model_dir = _tiny_model_dir(tmp_path / "model", ws.classes())
    q = set_quality(ws, rows, real_by_id, model_dir, ws.synth_manifest, max_per_class=5)
    assert set(q) == {"fidelity", "realism", "diversity"}
    present = {r["label"] for r in rows}
    assert set(q["fidelity"]) == set(q["realism"]) == set(q["diversity"]) == present
    for c in present:
        f, r, d = q["fidelity"][c], q["realism"][c], q["diversity"][c]
        n = sum(row["label"] == c for row in rows)  # 5, or all the demo's train cycles of the class
        assert n >= 4 and f["n"] == n and 0 <= f["mel_l1"] < f["mel_l1_noise"] and f["mel_l1_real"] > 0
        assert 0 <= f["label_agreement"] <= 1
        assert r["n_synthetic"] == n and r["real_from"] in ("val+test", "train (not sources)")
        if r["n_real"] >= 4:
            assert 0 <= r["model"] <= 1 and 0 <= r["logmel"] <= 1
        else:  # too few held-out real cycles (the demo's wheeze and both): no test
            assert r["model"] is None and r["logmel"] is None
        assert d["copy_ratio"] == pytest.approx(f["mel_l1"] / f["mel_l1_real"])
        assert d["near_copy"] == (d["copy_ratio"] < NEAR_COPY_RATIO)
    # the demo's crackle class has 7 test cycles: compared with 5 of them (capped)
    assert q["realism"]["crackle"]["real_from"] == "val+test" and q["realism"]["crackle"]["n_real"] == 5
    assert q["realism"]["crackle"]["model"] is not None
    assert q["diversity"][rows[0]["label"]]["seed_spread"] == pytest.approx(0.01)
    assert all(q["diversity"][c]["seed_spread"] is None for c in present - {rows[0]["label"]})

    # without a model: the fallback features only, the same numbers (deterministic)
    q2 = set_quality(ws, rows, real_by_id, None, ws.synth_manifest, max_per_class=5)
    assert all(v["label_agreement"] is None for v in q2["fidelity"].values())
    assert q2["realism"] == {c: {**v, "model": None} for c, v in q["realism"].items()}

    # rows that carry their distances (as synth writes them) are used as stored; tiny ones are near-copies
    stored = [{**r, "mel_l1": 0.001, "mel_l1_noise": 0.3} for r in rows]
    q3 = set_quality(ws, stored, real_by_id, None, ws.synth_manifest, max_per_class=5)
    assert all(v["near_copy"] for v in q3["diversity"].values())


def test_measure_set_is_kept_until_an_input_changes(demo_synth5: Path, tmp_path: Path, monkeypatch):
    """compare, quickstart and report measure a set once: the result is read back while the set's and
    the workspace's manifests and the model dir are unchanged, and recomputed when one changes."""
    from respgen import synthetic_quality

    ws = Workspace(demo_synth5)
    model_dir = _tiny_model_dir(tmp_path / "model", ws.classes())
    name = ws.default_synthetic_set()
    first = synthetic_quality.measure_set(ws, name, model_dir, max_per_class=5)
    assert (ws.quality_cache / f"{name}.json").is_file()
    calls = []
    real = synthetic_quality.set_quality
    monkeypatch.setattr(synthetic_quality, "set_quality", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert synthetic_quality.measure_set(ws, name, model_dir, max_per_class=5) == first and not calls
    synthetic_quality.measure_set(ws, name, model_dir, max_per_class=4)  # another setting
    synthetic_quality.measure_set(ws, name, None, max_per_class=5)  # another model
    assert len(calls) == 2
    ws.synth_manifest.write_text(ws.synth_manifest.read_text())  # synth rewrote the set
    again = synthetic_quality.measure_set(ws, name, model_dir, max_per_class=5)
    assert len(calls) == 3 and again == first  # deterministic: the same numbers


def test_quality_key_covers_the_set_clips(demo_synth: Path):
    """The key holds each listed clip's fingerprint: a deleted clip (recorded as missing) or a rewritten
    one changes it; a stat only, no audio read."""
    from respgen.synthetic_quality import quality_key

    ws = Workspace(demo_synth)
    first = quality_key(ws, ws.synth_manifest, None, 5)
    assert quality_key(ws, ws.synth_manifest, None, 5) == first
    clips = sorted((demo_synth / "synth").rglob("*.wav"))
    clips[0].write_bytes(clips[0].read_bytes() + b"\0\0")  # rewritten: another size
    rewritten = quality_key(ws, ws.synth_manifest, None, 5)
    assert rewritten != first
    clips[1].unlink()
    missing = quality_key(ws, ws.synth_manifest, None, 5)
    assert missing != rewritten and any(f[-1] is None for f in missing["clips"])


def test_report_after_deleting_a_sets_clips_ignores_the_cached_quality(cli, demo_synth5: Path):
    """A cached quality was measured from clips since deleted: the report behaves as without the cache
    (the set's missing clips are an error naming them), not showing the stale numbers."""
    ws = Workspace(demo_synth5)
    first = cli("report", "--workdir", demo_synth5)
    assert first.exit_code == 0, first.output
    name = ws.default_synthetic_set()
    assert (ws.quality_cache / f"{name}.json").is_file()
    for wav in (demo_synth5 / "synth" / "crackle").glob("*.wav"):
        wav.unlink()
    r = cli("report", "--workdir", demo_synth5)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing" in lines[0], r.stderr
    assert "crackle" in lines[0] and ".wav" in lines[0], lines[0]
