"""Click usage errors (a value that does not parse, an unknown option or command, a missing argument)
are one `error:` line on stderr and exit 2, for every command; --help still prints help."""

import pytest

from tests.test_prepare_errors import assert_clean_error


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("synth", "--n", "abc"), ("--n",)),
        (("synth", "--gl-iters", "nan"), ("--gl-iters",)),  # an int option: nan does not parse
        (("synth", "--n", "1", "--bogus"), ("No such option", "--bogus")),
        (("finetune", "--epochs", "x"), ("--epochs",)),
        (("finetune", "--length", "abc"), ("--length",)),
        (("vocoder", "train", "--max-steps", "q"), ("--max-steps",)),
        (("compare", "--epochs", "1.5"), ("--epochs",)),
        (("report", "--max-per-class", "many"), ("--max-per-class",)),
        (("classify",), ("Missing argument",)),
        (("prepare", "a", "b"), ("unexpected extra argument",)),
        (("nosuch",), ("No such command", "nosuch")),
        (("synthh",), ("No such command", "synth")),
        (("--bogus",), ("No such option", "--bogus")),
        (("vocoder", "nosuch"), ("No such command", "nosuch")),
    ],
    ids=lambda v: " ".join(v),
)
def test_usage_error_is_one_line(cli, args, fragments):
    r = cli(*args)
    assert_clean_error(r, *fragments)
    assert "Usage:" not in r.output and "╭" not in r.output


@pytest.mark.parametrize(
    "args",
    [
        ("prepare", "folder", "--workers", "abc"),
        ("prepare", "folder", "--val-fraction", "abc"),
        ("demo-data", "out", "--patients", "abc"),
        ("vocoder", "train", "--batch-size", "abc"),
        ("vocoder", "train", "--lr", "abc"),
        ("synth", "--batch-size", "abc"),
        ("synth", "--length", "abc"),
        ("finetune", "--synthetic-per-class", "abc"),
        ("finetune", "--seed", "abc"),  # finetune's own option, not a config field
        ("compare", "--batch-size", "abc"),
        ("classify", "a.wav", "--batch-size", "abc"),
        ("classify", "a.wav", "--hop", "abc"),
        ("quickstart", "--vocoder-steps", "abc"),
        ("report", "--errors-per-class", "abc"),
    ],
    ids=lambda v: " ".join(v),
)
def test_every_command_reports_a_non_number_in_one_line(cli, args):
    r = cli(*args)
    assert_clean_error(r, args[-2], "Invalid value")


def test_help_still_prints_help(cli):
    for args in (("--help",), ("synth", "--help"), ("vocoder", "train", "--help"), ("finetune", "--help")):
        r = cli(*args)
        assert r.exit_code == 0, r.output
        assert "Usage:" in r.stdout and "error:" not in r.output
    assert "--gl-iters" in cli("synth", "--help").stdout


def test_a_group_without_a_command_still_shows_its_help(cli):
    r = cli("vocoder")
    assert "Usage:" in r.output and "train" in r.output and "error:" not in r.output
