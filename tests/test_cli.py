from respgen import __version__


def test_version(cli):
    r = cli("--version")
    assert r.exit_code == 0 and __version__ in r.stdout


def test_all_commands_registered(cli):
    r = cli("--help")
    for name in ("prepare", "vocoder", "synth", "finetune", "classify", "demo-data"):
        assert name in r.stdout
    assert "train" in cli("vocoder", "--help").stdout
