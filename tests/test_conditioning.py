"""Synthesis as the reference's inference.py: conditioning cycles drawn uniformly with replacement
(`conditioning = "random"`) and every vocoded mel frame kept (`trim = false`: hop x frames samples)."""

import json
import shutil
from collections import Counter
from pathlib import Path

import soundfile as sf

from respgen.data.manifest import read_rows
from respgen.services.synth import conditioning_order


def test_random_conditioning_draws_with_replacement():
    ids = [f"c{i:02d}" for i in range(10)]
    draws = [conditioning_order(ids, k, 0, "crackle", "random") for k in range(5000)]
    assert draws == [conditioning_order(list(reversed(ids)), k, 0, "crackle", "random") for k in range(5000)]  # seeded
    assert len(set(draws[:10])) < 10  # repeats before every cycle is used: with replacement
    counts = Counter(draws)
    assert set(counts) == set(ids) and all(400 < n < 600 for n in counts.values())  # uniform
    assert draws != [conditioning_order(ids, k, 1, "crackle", "random") for k in range(5000)]
    perm = [conditioning_order(ids, k, 0, "crackle") for k in range(10)]
    assert sorted(perm) == ids  # the default: each once per pass


def test_synth_untrimmed_random_conditioning(cli, demo_vocoder: Path, tmp_path: Path):
    work = tmp_path / "w"
    work.mkdir()
    (work / "data").symlink_to((demo_vocoder / "data").resolve(), target_is_directory=True)
    shutil.copytree(demo_vocoder / "vocoder", work / "vocoder", symlinks=True)
    r = cli(
        "synth",
        "--class",
        "normal",
        "--class",
        "crackle",
        "--n",
        "2",
        "--workdir",
        work,
        "--length",
        "1.0",
        "--no-trim",
        "--conditioning",
        "random",
        "--fade-out",
        "1000",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["written"] == {"normal": 2, "crackle": 2}
    for row in read_rows(work / "synth" / "diffwave" / "manifest.jsonl"):
        # 1 s -> 16000 samples -> 1 + 16000 // 256 = 63 mel frames -> 63 * 256 samples, not cut to 16000
        assert sf.info(str(work / "synth" / "diffwave" / row["path"])).frames == 63 * 256
        assert row["duration"] == 63 * 256 / 16000
