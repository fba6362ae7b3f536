"""Bad input to `prepare`: one `error:` line naming the file, exit 2, nothing written."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SPLIT = "ICBHI_challenge_train_test.txt"


def make_folder(root: Path, names=("901_1b1_Al_sc_Meditron", "902_1b1_Ar_sc_Litt3200"), split="train") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in names:
        sf.write(str(root / f"{name}.wav"), 0.1 * np.random.default_rng(0).standard_normal(8000 * 3), 8000)
        (root / f"{name}.txt").write_text("0.1\t1.0\t0\t0\n1.0\t2.5\t1\t0\n")
        lines.append(f"{name}\t{split}")
    (root / SPLIT).write_text("\n".join(lines) + "\n")
    return root


def run_prepare(cli, src: Path, work: Path, *extra):
    return cli("prepare", src, "--workdir", work, "--val-fraction", "0", "--workers", "1", *extra)


def assert_clean_error(result, *fragments, code=2):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in lines[0], lines[0]


def test_ok_baseline(cli, tmp_path):
    r = run_prepare(cli, make_folder(tmp_path / "src"), tmp_path / "w")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "w" / "data" / "manifest.jsonl").is_file()


def test_missing_folder(cli, tmp_path):
    assert_clean_error(run_prepare(cli, tmp_path / "nope", tmp_path / "w"), "dataset not found", "nope")
    assert not (tmp_path / "w").exists()


def test_folder_without_recordings(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_clean_error(run_prepare(cli, tmp_path / "empty", tmp_path / "w"), "no .wav recordings")


def test_missing_split_file(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    (src / SPLIT).unlink()
    assert_clean_error(run_prepare(cli, src, tmp_path / "w"), "split file")


def test_wav_without_annotation_skips_or_errors_with_strict(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    (src / "902_1b1_Ar_sc_Litt3200.txt").unlink()
    r = run_prepare(cli, src, tmp_path / "w", "--json")
    assert r.exit_code == 0
    assert "no annotation file" in r.stdout and "902_1b1_Ar_sc_Litt3200.wav" in r.stdout
    assert_clean_error(
        run_prepare(cli, src, tmp_path / "w2", "--strict"), "no annotation file", "902_1b1_Ar_sc_Litt3200.wav"
    )
    assert not (tmp_path / "w2" / "data").exists()


@pytest.mark.parametrize(
    "line, fragment",
    [("0.1\t1.0\t0", "needs 4 fields"), ("0.1\tx\t0\t0", "not numeric"), ("2.0\t1.0\t0\t0", "<= start")],
)
def test_bad_annotation_line(cli, tmp_path, line, fragment):
    src = make_folder(tmp_path / "src")
    (src / "901_1b1_Al_sc_Meditron.txt").write_text("0.1\t1.0\t0\t0\n" + line + "\n")
    assert_clean_error(run_prepare(cli, src, tmp_path / "w"), fragment, "901_1b1_Al_sc_Meditron.txt:2")
    assert not (tmp_path / "w" / "data").exists()


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "header-only", "nan"])
def test_bad_audio(cli, tmp_path, kind):
    src = make_folder(tmp_path / "src")
    wav = src / "902_1b1_Ar_sc_Litt3200.wav"
    data = wav.read_bytes()
    if kind == "empty":
        wav.write_bytes(b"")
    elif kind == "garbage":
        wav.write_bytes(np.random.default_rng(1).bytes(2000))
    elif kind == "truncated":
        wav.write_bytes(data[: len(data) // 2])
    elif kind == "header-only":
        wav.write_bytes(data[:44])
    else:
        x = np.zeros(8000 * 3, dtype=np.float32)
        x[100] = np.nan
        sf.write(str(wav), x, 8000, subtype="FLOAT")
    assert_clean_error(run_prepare(cli, src, tmp_path / "w"), "902_1b1_Ar_sc_Litt3200.wav")
    assert not (tmp_path / "w" / "data").exists()
    assert not (tmp_path / "w").exists()  # staging removed; a new workdir is not left behind empty


def test_bad_audio_keeps_previous_good_output(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    assert run_prepare(cli, src, tmp_path / "w").exit_code == 0
    before = (tmp_path / "w" / "data" / "manifest.jsonl").read_text()
    (src / "902_1b1_Ar_sc_Litt3200.wav").write_bytes(b"RIFF")
    assert_clean_error(run_prepare(cli, src, tmp_path / "w"), "unreadable audio")
    assert (tmp_path / "w" / "data" / "manifest.jsonl").read_text() == before


def test_recording_missing_from_split_file(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    (src / SPLIT).write_text("901_1b1_Al_sc_Meditron\ttrain\n")
    assert_clean_error(run_prepare(cli, src, tmp_path / "w"), "902_1b1_Ar_sc_Litt3200 is not in the split file")


def test_unwritable_workdir(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_clean_error(run_prepare(cli, src, blocker / "w"), "workdir is not writable")


def test_invalid_option_value(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    assert_clean_error(cli("prepare", src, "--workdir", tmp_path / "w", "--val-fraction", "1.5"), "val-fraction")
    assert_clean_error(cli("prepare", src, "--workdir", tmp_path / "w", "--labels", "five"), "labels")


def test_config_file_and_flag_precedence(cli, tmp_path):
    src = make_folder(tmp_path / "src")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'workdir = "{tmp_path / "from-file"}"\n[prepare]\nlabels = "binary"\nval_fraction = 0\nworkers = 1\n'
    )
    r = cli("prepare", src, "--config", cfg, "--json")
    assert r.exit_code == 0, r.output
    assert '"abnormal"' in r.stdout and (tmp_path / "from-file" / "data" / "manifest.jsonl").is_file()
    r = cli("prepare", src, "--config", cfg, "--labels", "four", "--workdir", tmp_path / "flag", "--json")
    assert '"crackle"' in r.stdout and (tmp_path / "flag" / "data").is_dir()
    cfg.write_text("[prepare]\nbogus = 1\n")
    assert_clean_error(cli("prepare", src, "--config", cfg, "--workdir", tmp_path / "x"), "bogus")
    assert_clean_error(cli("prepare", src, "--config", tmp_path / "missing.toml"), "config file not found")
