"""`synth` on a tiny vocoder trained on the demo workspace's cycles."""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from respgen.data.manifest import read_rows
from respgen.services.synth import conditioning_order


def copy_work(src: Path, dst: Path) -> Path:
    dst.mkdir()
    (dst / "data").symlink_to((src / "data").resolve(), target_is_directory=True)
    shutil.copytree(src / "vocoder", dst / "vocoder", symlinks=True)  # keep `latest` a pointer
    return dst


def test_synth_crackle_and_wheeze(cli, demo_vocoder: Path, tmp_path: Path):
    work = copy_work(demo_vocoder, tmp_path / "w")
    r = cli("synth", "--class", "crackle", "--n", "4", "--workdir", work, "--length", "1.0", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["written"] == {"crackle": 4}
    assert json.loads(r.stdout)["set"] == "diffwave"
    assert cli("synth", "--class", "wheeze", "--n", "2", "--workdir", work, "--length", "1.0", "--quiet").exit_code == 0
    rows = read_rows(work / "synth" / "diffwave" / "manifest.jsonl")
    assert sorted(r["id"] for r in rows) == [
        "crackle_00000",
        "crackle_00001",
        "crackle_00002",
        "crackle_00003",
        "wheeze_00000",
        "wheeze_00001",
    ]
    real = {r["id"]: r for r in read_rows(work / "data" / "manifest.jsonl")}
    vocoder_step = int((work / "vocoder" / "latest").resolve().name[-8:])
    for row in rows:
        info = sf.info(str(work / "synth" / "diffwave" / row["path"]))
        assert info.samplerate == 16000 and info.channels == 1 and info.frames == 16000
        assert row["source"] == "synthetic" and row["steps"] == "fast" and row["split"] == "train"
        src = real[row["conditioned_on"]]
        assert src["label"] == row["label"] and src["split"] == "train"
        assert row["vocoder"]["step"] == vocoder_step and len(row["vocoder"]["hash"]) == 12
        assert row["vocoder"]["kind"] == "diffwave"
        # the first 4 clips of each class also record how far another seed's synthesis is
        assert ("mel_l1_other_seed" in row) == (int(row["id"][-5:]) < 4)
        assert row.get("mel_l1_other_seed", 1.0) > 0
    # each real crackle cycle is used once before any is reused
    crackle_src = [r["conditioned_on"] for r in rows if r["label"] == "crackle"]
    assert len(set(crackle_src)) == 4


def test_conditioning_order_uses_every_cycle_once_per_pass():
    ids = [f"c{i}" for i in range(5)]
    first, second = (
        [conditioning_order(ids, k, 0, "crackle") for k in range(5)],
        [conditioning_order(ids, k, 0, "crackle") for k in range(5, 10)],
    )
    assert sorted(first) == ids and sorted(second) == ids
    assert [conditioning_order(ids, k, 1, "crackle") for k in range(5)] != first


def test_determinism_and_resume(cli, demo_vocoder: Path, tmp_path: Path):
    a = copy_work(demo_vocoder, tmp_path / "a")
    b = copy_work(demo_vocoder, tmp_path / "b")
    args = ["--class", "both", "--n", "3", "--length", "0.5", "--quiet", "--precision", "no"]  # fp32: exact
    assert cli("synth", *args, "--workdir", a).exit_code == 0
    assert cli("synth", *args, "--workdir", b, "--batch-size", "1").exit_code == 0
    same = copy_work(demo_vocoder, tmp_path / "same")
    assert cli("synth", *args, "--workdir", same).exit_code == 0
    for k in range(3):  # the same command twice: byte-identical audio
        name = f"both/both_{k:05d}.wav"
        assert (a / "synth" / "diffwave" / name).read_bytes() == (same / "synth" / "diffwave" / name).read_bytes()
    for k in range(3):
        wa, _ = sf.read(str(a / "synth" / "diffwave" / "both" / f"both_{k:05d}.wav"))
        wb, _ = sf.read(str(b / "synth" / "diffwave" / "both" / f"both_{k:05d}.wav"))
        np.testing.assert_allclose(wa, wb, atol=2 / 32768)  # same seed -> same audio, whatever the batching
    # interrupted run: one clip missing -> only that clip is written again, identically
    lost = a / "synth" / "diffwave" / "both" / "both_00001.wav"
    before = lost.read_bytes()
    lost.unlink()
    r = cli("synth", "--class", "both", "--n", "3", "--length", "0.5", "--precision", "no", "--json", "--workdir", a)
    assert json.loads(r.stdout)["written"] == {"both": 1}
    redone, _ = sf.read(str(lost))
    np.testing.assert_allclose(redone, sf.read(io.BytesIO(before))[0], atol=2 / 32768)
    # --n is the total wanted: asking for 4 writes one more
    r = cli("synth", "--class", "both", "--n", "4", "--length", "0.5", "--json", "--workdir", a)
    assert json.loads(r.stdout)["written"] == {"both": 1} and json.loads(r.stdout)["total"] == {"both": 4}
    # a different seed gives different audio
    c = copy_work(demo_vocoder, tmp_path / "c")
    cli("synth", *args, "--workdir", c, "--seed", "7")
    wc, _ = sf.read(str(c / "synth" / "diffwave" / "both" / "both_00000.wav"))
    wa, _ = sf.read(str(a / "synth" / "diffwave" / "both" / "both_00000.wav"))
    assert np.abs(wc - wa).max() > 1e-3


def test_synth_errors(cli, demo_vocoder: Path, demo_copy: Path, tmp_path: Path):
    work = copy_work(demo_vocoder, tmp_path / "w")

    def err(*args, where=work):
        r = cli("synth", *args, "--workdir", where)
        assert r.exit_code == 2, r.output
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: ")
        return r.stderr

    assert "unknown class 'rattle'" in err("--class", "rattle", "--n", "2")
    assert "invalid n" in err("--class", "crackle", "--n", "0")
    assert "no trained vocoder" in err("--class", "crackle", "--n", "1", where=demo_copy)
    # a workspace whose train split has no 'both' cycles
    data = tmp_path / "nb" / "data"
    shutil.copytree((work / "data").resolve(), data)
    rows = [r for r in read_rows(data / "manifest.jsonl") if r["label"] != "both"]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    shutil.copytree(work / "vocoder", tmp_path / "nb" / "vocoder")
    assert "no real train cycles of class 'both'" in err("--class", "both", "--n", "1", where=tmp_path / "nb")
    # a checkpoint whose weights do not fit its config
    ckpt = (work / "vocoder" / "latest").resolve()
    meta = json.loads((ckpt / "config.json").read_text())
    meta["params"]["residual_channels"] = 32
    (ckpt / "config.json").write_text(json.dumps(meta))
    assert "incompatible" in err("--class", "crackle", "--n", "1")
    (ckpt / "model.safetensors").write_bytes(b"garbage")
    assert "vocoder" in err("--class", "crackle", "--n", "1")
    assert not (work / "synth").exists()


def test_bf16_synthesis_is_close_to_fp32(demo_vocoder: Path):
    """bf16 changes the audio far less than the gap between two real cycles (the fidelity baseline)."""
    import torch

    from respgen.data.manifest import load_clip
    from respgen.features import fit_length, vocoder_mel
    from respgen.vocoder.checkpoint import load_vocoder
    from respgen.vocoder.diffusion import sample
    from respgen.workspace import Workspace

    ws = Workspace(demo_vocoder)
    model, _ = load_vocoder(ws.vocoder)
    p = model.params
    n = 32 * p.hop
    clips = [fit_length(load_clip(ws.manifest, r, p.sample_rate), n) for r in ws.real_rows(("train",))[:3]]
    mels = [vocoder_mel(c, **p.mel_kwargs()) for c in clips]
    real_vs_real = min(float((a - b).abs().mean()) for i, a in enumerate(mels) for b in mels[i + 1 :])
    cond = torch.stack(mels)[:, :, :32]

    def gens():
        return [torch.Generator().manual_seed(k) for k in range(3)]

    a32 = sample(model, cond, "fast", gens())
    a16 = sample(model, cond, "fast", gens(), torch.bfloat16)
    bf16_l1 = float((vocoder_mel(a32, **p.mel_kwargs()) - vocoder_mel(a16, **p.mel_kwargs())).abs().mean())
    assert bf16_l1 < 0.1 * real_vs_real, (bf16_l1, real_vs_real)


def test_default_precision_is_deterministic(cli, trained_vocoder: Path, tmp_path: Path):
    """`--precision auto` (the default: bf16 on CPUs with native bf16) gives the same bytes for the same command."""
    runs = [copy_work(trained_vocoder, tmp_path / name) for name in ("x", "y")]
    for work in runs:
        assert (
            cli("synth", "--class", "wheeze", "--n", "2", "--length", "0.5", "--quiet", "--workdir", work).exit_code
            == 0
        )
    for k in range(2):
        name = f"wheeze/wheeze_{k:05d}.wav"
        assert (runs[0] / "synth" / "diffwave" / name).read_bytes() == (
            runs[1] / "synth" / "diffwave" / name
        ).read_bytes()
