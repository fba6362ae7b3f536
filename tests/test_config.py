"""Config loading: defaults < TOML < flags; unknown keys and sections, and wrongly typed TOML values,
are one-line errors naming the key and the file."""

from pathlib import Path

import pytest

from respgen.config import FinetuneConfig, PrepareConfig, SynthConfig, load_config
from respgen.errors import RespgenError


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "respgen.toml"
    path.write_text(text)
    return path


def error(cfg_cls, section, path, flags=None) -> str:
    with pytest.raises(RespgenError) as e:
        load_config(cfg_cls, section, path, flags or {})
    assert e.value.exit_code == 2
    return str(e.value)


def test_unknown_top_level_key_suggests(tmp_path):
    path = toml(tmp_path, 'wrkdir = "x"\n')
    msg = error(SynthConfig, "synth", path)
    assert "'wrkdir'" in msg and "did you mean 'workdir'?" in msg and str(path) in msg


def test_unknown_section_suggests(tmp_path):
    msg = error(SynthConfig, "synth", toml(tmp_path, "[synthh]\nn = 1\n"))
    assert "[synthh]" in msg and "did you mean [synth]?" in msg


def test_unknown_key_in_any_section(tmp_path):
    path = toml(tmp_path, "[synth]\nnn = 1\n")
    assert "did you mean 'n'?" in error(PrepareConfig, "prepare", path, {"icbhi_dir": Path("x")})
    msg = error(PrepareConfig, "prepare", toml(tmp_path, "[prepare]\nbogus = 1\n"), {"icbhi_dir": Path("x")})
    assert "'bogus' in [prepare]" in msg and "did you mean" not in msg


def test_section_must_be_a_table(tmp_path):
    assert "[synth] must be a table" in error(SynthConfig, "synth", toml(tmp_path, "synth = 1\n"))


@pytest.mark.parametrize(
    ("line", "key"), [("n = true", "n"), ('length = "4"', "length"), ("n = 2.0", "n"), ('seed = "1"', "seed")]
)
def test_toml_values_are_strict(tmp_path, line, key):
    base = "" if line.startswith("n ") else "n = 1\n"
    path = toml(tmp_path, f'[synth]\nclasses = ["crackle"]\n{base}{line}\n')
    msg = error(SynthConfig, "synth", path)
    assert msg.startswith(f"invalid {key}:") and str(path) in msg


def test_toml_paths_and_ints_for_floats(tmp_path):
    path = toml(tmp_path, 'workdir = "w"\n[synth]\nclasses = ["crackle"]\nn = 2\nlength = 3\n')
    cfg = load_config(SynthConfig, "synth", path, {})
    assert cfg.workdir == Path("w") and cfg.length == 3.0


def test_flags_win_and_name_no_file(tmp_path):
    path = toml(tmp_path, "[finetune]\nepochs = 3\nseeds = [1, 2]\n")
    cfg = load_config(FinetuneConfig, "finetune", path, {"seeds": "7,8", "epochs": None})
    assert cfg.seeds == [7, 8] and cfg.optim.epochs == 3
    msg = error(FinetuneConfig, "finetune", path, {"seeds": "7,7"})
    assert msg == "invalid seeds: seed 7 given twice"  # from a flag: no file named


def test_sections_of_other_commands_are_accepted(tmp_path):
    path = toml(tmp_path, '[prepare]\nlabels = "binary"\n[vocoder_import]\nforce = true\n[finetune]\naft = true\n')
    assert load_config(SynthConfig, "synth", path, {"classes": ["both"], "n": 1}).n == 1


def test_seeds_validator():
    assert FinetuneConfig(seeds="1, 2,3").seeds == [1, 2, 3]
    for bad in ("", "1,1", "1,,2", "a", [3, 3]):
        with pytest.raises(ValueError):
            FinetuneConfig(seeds=bad)


def test_cli_config_errors(cli, tmp_path):
    def one_error(r, *fragments):
        assert r.exit_code == 2, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and all(f in lines[0] for f in fragments), r.stderr

    path = toml(tmp_path, 'wrkdir = "x"\n')
    one_error(cli("report", "--config", path, "--print-config"), "wrkdir", str(path), "workdir")
    path.write_text("[synthh]\nn = 1\n")
    one_error(cli("synth", "--config", path, "--print-config"), "[synthh]", "[synth]")
    path.write_text('[synth]\nclasses = ["crackle"]\nn = true\n')
    one_error(cli("synth", "--config", path, "--print-config"), "invalid n", str(path))
    path.write_text('[synth]\nclasses = ["crackle"]\nn = 1\nlength = "4"\n')
    one_error(cli("synth", "--config", path, "--print-config"), "invalid length", str(path))
    one_error(cli("report", "--config", tmp_path / "missing.toml", "--print-config"), "config file not found")
