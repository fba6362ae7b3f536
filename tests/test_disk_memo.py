"""`disk_memo.memo`: a result computed once per key, recomputed when the key changes or the file is broken."""

import json
import os
from pathlib import Path

from respgen.disk_memo import dir_fingerprint, file_fingerprint, memo


def test_computed_once_per_key_and_recomputed_when_broken(tmp_path: Path):
    calls = []

    def compute():
        calls.append(1)
        return {"a": (1, 2), "b": None}

    path = tmp_path / "cache" / "x.json"
    assert memo(path, {"k": 1}, compute) == {"a": [1, 2], "b": None}  # as JSON reads it back
    assert memo(path, {"k": 1}, compute) == {"a": [1, 2], "b": None} and len(calls) == 1
    assert memo(path, {"k": 2}, compute) and len(calls) == 2  # another key: computed again
    path.write_text('{"key": {"k": 2}, "val')  # a half-written file
    assert memo(path, {"k": 2}, compute) and len(calls) == 3
    assert json.loads(path.read_text())["key"] == {"k": 2}
    assert not [p for p in path.parent.iterdir() if p.name != "x.json"]  # no temporaries left


def test_fingerprints_change_with_the_files(tmp_path: Path):
    f = tmp_path / "m" / "w.bin"
    f.parent.mkdir()
    f.write_bytes(b"12")
    before_file, before_dir = file_fingerprint(f), dir_fingerprint(f.parent)
    os.utime(f, ns=(1, 1))
    assert file_fingerprint(f) != before_file and dir_fingerprint(f.parent) != before_dir
    (f.parent / "other").write_text("x")
    assert len(dir_fingerprint(f.parent)) == 3
    assert dir_fingerprint(tmp_path / "gone") == [str((tmp_path / "gone").resolve())]
    # under a root: named relative to it, so a copied workspace (times kept) keeps its results
    assert file_fingerprint(f, tmp_path)[0] == "m/w.bin" and dir_fingerprint(f.parent, tmp_path)[0] == "m"
    copy = tmp_path / "copy" / "m"
    copy.mkdir(parents=True)
    for p in f.parent.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
        os.utime(copy / p.name, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns))
    assert dir_fingerprint(copy, tmp_path / "copy") == dir_fingerprint(f.parent, tmp_path)


def test_a_stored_value_its_parser_refuses_is_recomputed(tmp_path: Path):
    """A cached result with a string where a number belongs, or a NaN, is a miss, not a crash later."""
    from respgen.set_quality import SetQuality

    good = {"fidelity": {"crackle": {"n": 2, "mel_l1": 0.1, "mel_l1_noise": 0.4}}}
    calls = []

    def compute():
        calls.append(1)
        return good

    path = tmp_path / "q.json"
    first = memo(path, {"k": 1}, compute, parse=SetQuality.model_validate)
    assert isinstance(first, SetQuality) and first.fidelity["crackle"].mel_l1 == 0.1 and len(calls) == 1
    for bad in ("oops", float("nan")):
        stored = json.loads(path.read_text())
        stored["value"]["fidelity"]["crackle"]["mel_l1"] = bad
        path.write_text(json.dumps(stored))
        assert memo(path, {"k": 1}, compute, parse=SetQuality.model_validate) == first
    assert len(calls) == 3
