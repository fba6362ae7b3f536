"""`demo-data`: deterministic ICBHI-layout output whose four classes are genuinely different."""

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

from respgen.config import DemoDataConfig, PrepareConfig
from respgen.data.demo import make_cycle
from respgen.data.manifest import read_rows
from respgen.services.prepare import prepare


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_layout_determinism_and_prepare(cli, tmp_path):
    r = cli("demo-data", tmp_path / "a", "--patients", "6", "--json")
    assert r.exit_code == 0, r.output
    cli("demo-data", tmp_path / "b", "--patients", "6", "--quiet")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert (tmp_path / "a" / "ICBHI_challenge_train_test.txt").is_file()
    assert (tmp_path / "a" / "patient_diagnosis.csv").is_file()
    assert len(list((tmp_path / "a").glob("*.wav"))) == 12
    result = prepare(PrepareConfig(icbhi_dir=tmp_path / "a", workdir=tmp_path / "w", val_fraction=0, workers=1))
    for split in ("train", "test"):
        assert all(n > 0 for n in result.counts[split].values()), result.counts
    rows = read_rows(tmp_path / "w" / "data" / "manifest.jsonl")
    patients = {s: {r["patient"] for r in rows if r["split"] == s} for s in ("train", "test")}
    assert not patients["train"] & patients["test"]


def features(x: np.ndarray, sr: int) -> tuple[float, float]:
    """(crest factor of the first-difference: transients; spectral peakiness in 100-1000 Hz: tones)."""
    d = np.diff(x)
    crest = np.abs(d).max() / (np.sqrt((d**2).mean()) + 1e-12)
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    f = np.fft.rfftfreq(len(x), 1 / sr)
    band = spec[(f >= 100) & (f <= 1000)]
    return crest, band.max() / (np.median(band) + 1e-12)


def test_classes_are_distinguishable():
    sr, rng = 8000, np.random.default_rng(0)
    feats = {
        c: [features(make_cycle(c, 3 * sr, sr, rng), sr) for _ in range(20)]
        for c in ("normal", "crackle", "wheeze", "both")
    }
    crest = {c: np.array([f[0] for f in v]) for c, v in feats.items()}
    peak = {c: np.array([f[1] for f in v]) for c, v in feats.items()}
    # crackles: every crackle cycle has sharper transients than every cycle without crackles
    assert min(crest["crackle"].min(), crest["both"].min()) > max(crest["normal"].max(), crest["wheeze"].max())
    # wheezes: every wheeze cycle has a stronger tonal peak than every cycle without wheezes
    assert min(peak["wheeze"].min(), peak["both"].min()) > max(peak["normal"].max(), peak["crackle"].max())


def test_written_audio_is_pcm(tmp_path):
    from respgen.services.demo_data import make_demo_data

    make_demo_data(DemoDataConfig(out_dir=tmp_path, patients=2, recordings_per_patient=1))
    for wav in tmp_path.glob("*.wav"):
        info = sf.info(str(wav))
        assert info.samplerate == 8000 and info.channels == 1 and info.subtype == "PCM_16"
