"""The command line: options generated from the config models, --print-config precedence, --seeds, and
finetune / compare's renamed and removed options. Nothing here runs a service (--print-config, or a
config error, stops before it), so no data or models are needed."""

import json

import pytest
import typer

from respgen import __version__, config
from respgen.cli.app import app

COMMANDS = {
    ("prepare",): config.PrepareConfig,
    ("demo-data",): config.DemoDataConfig,
    ("vocoder", "train"): config.VocoderTrainConfig,
    ("synth",): config.SynthConfig,
    ("finetune",): config.FinetuneConfig,
    ("compare",): config.CompareConfig,
    ("classify",): config.ClassifyConfig,
    ("quickstart",): config.QuickstartConfig,
    ("report",): config.ReportConfig,
}
COMMON = ("--config", "--quiet", "--json", "--debug", "--print-config")
# options a command's config has but its command line does not offer (each compare arm sets them)
OMITTED = {"compare": {"aft", "synthetic", "oversample"}}


def click_command(path):
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def field_default(info):
    return None if info.is_required() else info.get_default(call_default_factory=True)


def assert_one_error(r, *fragments):
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_version(cli):
    r = cli("--version")
    assert r.exit_code == 0 and __version__ in r.stdout


def test_all_commands_registered(cli):
    r = cli("--help")
    for name in ("prepare", "vocoder", "synth", "finetune", "classify", "demo-data", "quickstart", "report"):
        assert name in r.stdout
    assert "train" in cli("vocoder", "--help").stdout


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_options_come_from_the_config_fields(path, monkeypatch):
    monkeypatch.delenv("RESPGEN_WORKDIR", raising=False)
    params = {p.name: p for p in click_command(path).params}
    cls = COMMANDS[path]
    omitted = OMITTED.get(path[-1], set())
    for name, info in config.leaf_fields(cls).items():  # a sectioned config's options are its flat keys
        if name in omitted:
            assert name not in params, name
            continue
        param = params.pop(name)
        assert param.help == info.description and info.description, name
        default = field_default(info)
        if param.param_type_name == "option" and default is not None:
            comma_separated = name in ("seeds", "arms", "synthetic_sets")  # --seeds 1,2,3, --arms ce,aft
            expected = ",".join(map(str, default)) if comma_separated else default
            assert param.default == expected and param.show_default is not False, name
    extra = {"finetune": {"seed"}, "classify": {"csv"}}.get(path[-1], set())
    assert set(params) == {"config", "quiet", "json", "debug", "print_config"} | extra
    assert ("workdir" in cls.model_fields) == (path != ("demo-data",))


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("vocoder", "train"), ["--max-steps", "200000", "--fresh", "--resume", "--include-val", "--no-include-val"]),
        (("synth",), ["--class", "--n", "--max-cache-gb", "4.0", "[fast|full]"]),
        (("finetune",), ["--aft", "--no-aft", "--synthetic", "--no-synthetic", "--seeds", "--seed", "--class-weights"]),
        (("prepare",), ["ICBHI_DIR", "--val-fraction", "0.1", "--strict", "--no-strict", "[auto|four|binary|events]"]),
        (("classify",), ["FILES", "--csv", "--annotations", "--hop", "--cpu", "--no-cpu"]),
    ],
)
def test_help_lists_options_and_defaults(cli, monkeypatch, path, shown):
    monkeypatch.setenv("COLUMNS", "250")
    r = cli(*path, "--help")
    assert r.exit_code == 0
    for text in [*shown, *COMMON, "[default:"]:
        assert text in r.stdout, text


def test_demo_data_has_no_workdir(cli):
    assert "--workdir" not in cli("demo-data", "--help").stdout
    assert cli("demo-data", "out", "--workdir", "x", "--print-config").exit_code == 2


# For each command: (command line, its TOML section, lines of that section, flags, expected {field: value}):
# a value left at its default, one from the file, one from the file overridden by a flag.
PRECEDENCE = [
    (
        ["prepare", "icbhi"],
        "prepare",
        'labels = "binary"\nseed = 5',
        ["--seed", "7"],
        {"labels": "binary", "seed": 7, "val_fraction": 0.1},
    ),
    (
        ["demo-data", "out"],
        "demo_data",
        "patients = 4\nseed = 2",
        ["--seed", "9"],
        {"patients": 4, "seed": 9, "cycles_per_recording": 8},
    ),
    (
        ["vocoder", "train"],
        "vocoder_train",
        "max_steps = 10\nkeep = 3\nfresh = true",
        ["--keep", "5"],
        {"max_steps": 10, "keep": 5, "fresh": True, "batch_size": 16},
    ),
    (
        ["synth"],
        "synth",
        'classes = ["crackle"]\nn = 3\nlength = 2.0',
        ["--length", "1.5"],
        {"classes": ["crackle"], "n": 3, "length": 1.5, "steps": "fast"},
    ),
    (
        ["finetune"],
        "finetune",
        "aft = true\nseeds = [1, 2]\nepochs = 3",
        ["--seeds", "5,6", "--no-synthetic"],
        {"aft": True, "seeds": [5, 6], "epochs": 3, "synthetic": False, "alpha": None, "adversary": "paired"},
    ),
    (
        ["classify", "a.wav"],
        "classify",
        "batch_size = 4\nhop = 1.0",
        ["--hop", "2"],
        {"files": ["a.wav"], "batch_size": 4, "hop": 2.0, "cpu": False},
    ),
    (
        ["quickstart"],
        "quickstart",
        "epochs = 2\nseed = 1",
        ["--seed", "3"],
        {"epochs": 2, "seed": 3, "vocoder_steps": 50},
    ),
    (["report"], "report", 'max_per_class = 10\nmodel = "m"', ["--model", "n"], {"max_per_class": 10, "model": "n"}),
]


@pytest.mark.parametrize(("args", "section", "lines", "flags", "expected"), PRECEDENCE, ids=[p[1] for p in PRECEDENCE])
def test_print_config_precedence(cli, tmp_path, monkeypatch, args, section, lines, flags, expected):
    monkeypatch.delenv("RESPGEN_WORKDIR", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'workdir = "from-file"\n[{section}]\n{lines}\n')
    r = cli(*args, "--config", cfg, *flags, "--print-config", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert {k: got[k] for k in expected} == expected
    assert json.loads(cli(*args, "--config", cfg, *flags, "--print-config").stdout) == got  # the same without --json
    if section == "demo_data":
        assert "workdir" not in got
    else:
        assert got["workdir"] == "from-file"
        r = cli(*args, "--config", cfg, *flags, "-w", "flag", "--print-config")
        assert json.loads(r.stdout)["workdir"] == "flag"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_print_config_defaults(cli, monkeypatch, path):
    monkeypatch.delenv("RESPGEN_WORKDIR", raising=False)
    required = {
        "prepare": ["icbhi"],
        "demo-data": ["out"],
        "classify": ["a.wav"],
        "synth": ["--class", "all", "--n", "1"],
    }
    r = cli(*path, *required.get(path[-1], []), "--print-config")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    for key, info in config.leaf_fields(COMMANDS[path]).items():  # flat keys, as the flags spell them
        if not info.is_required():
            assert got[key] == json.loads(json.dumps(field_default(info), default=str)), key


def test_seeds(cli):
    assert json.loads(cli("finetune", "--seeds", "1,2,3", "--print-config").stdout)["seeds"] == [1, 2, 3]
    assert json.loads(cli("finetune", "--seed", "4", "--print-config").stdout)["seeds"] == [4]
    assert json.loads(cli("finetune", "--print-config").stdout)["seeds"] == [1]
    assert_one_error(cli("finetune", "--seeds", "", "--print-config"), "seeds")
    assert_one_error(cli("finetune", "--seeds", "1,1", "--print-config"), "seeds", "twice")
    assert_one_error(cli("finetune", "--seeds", "1,x", "--print-config"), "seeds", "integers")
    assert_one_error(cli("finetune", "--seeds", "0,-1", "--print-config"), "seeds", "greater than or equal to 0")
    assert_one_error(cli("compare", "--seeds", "1,4294967296", "--print-config"), "seeds", "less than or equal to")


def test_invalid_flag_value_is_one_line(cli):
    assert_one_error(cli("prepare", "x", "--labels", "five", "--print-config"), "labels")
    assert_one_error(cli("synth", "--class", "crackle", "--print-config"), "n")


def test_compare_offers_no_flags_its_arms_set(cli):
    out = cli("compare", "--help").stdout
    assert "--arms" in out and "--aft" not in out and "--no-synthetic" not in out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["finetune", "--adversary", "mahalanobis"], ["invalid adversary", "'grl'", "'paired'"]),
        (["compare", "--adversary", "confusion"], ["invalid adversary"]),
        (["compare", "--arms", "ce,aft-mahalanobis"], ["invalid arms"]),
        (["compare", "--arms", "aft-ttur"], ["invalid arms"]),
    ],
    ids=" ".join,
)
def test_names_that_never_shipped_are_unknown(cli, tmp_path, args, fragments):
    """Option values added and removed before any release (no alias is kept for them): one `error:` line,
    exit 2, nothing written."""
    work = tmp_path / "work"
    assert_one_error(cli(*args, "--workdir", work), *fragments)
    assert not work.exists()


@pytest.mark.parametrize(
    ("command", "lines", "fragments"),
    [
        ("finetune", "[finetune]\ndisc_steps = 2", ["unknown key 'disc_steps' in [finetune]"]),
        ("finetune", "[finetune]\nfade_samples = 500", ["unknown key 'fade_samples' in [finetune]"]),
        ("finetune", "disc_lr = 1e-3", ["unknown key 'disc_lr'"]),
    ],
)
def test_config_keys_that_never_shipped_are_unknown(cli, tmp_path, command, lines, fragments):
    toml = tmp_path / "c.toml"
    toml.write_text(lines + "\n")
    work = tmp_path / "work"
    assert_one_error(cli(command, "--config", toml, "--workdir", work), *fragments, str(toml))
    assert not work.exists()


def test_help_lists_the_adversaries(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    for command in ("finetune", "compare"):
        out = cli(command, "--help").stdout
        assert "--adversary" in out and "[grl|paired]" in out and "--fade-out" in out
        assert "confusion" not in out and "mahalanobis" not in out
