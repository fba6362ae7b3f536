"""respgen.atomic: files replaced in one rename, folders staged and swapped in whole, `latest` pointers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import respgen.atomic as atomic
from respgen.atomic import point_latest, read_latest, staged_dir, swap_in, write_json, write_jsonl, write_text
from respgen.errors import RespgenError


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_json_replaces_whole_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "sub" / "a.json"
    write_json(target, {"x": 1})
    assert json.loads(target.read_text()) == {"x": 1}
    write_json(target, {"y": [1, 2]})
    assert json.loads(target.read_text()) == {"y": [1, 2]}
    assert siblings(target.parent) == ["a.json"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_failed_write_keeps_the_old_file(tmp_path: Path):
    target = tmp_path / "a.json"
    write_json(target, {"x": 1})
    with pytest.raises(TypeError):
        write_json(target, {"x": object()})  # not serialisable: nothing is written
    assert json.loads(target.read_text()) == {"x": 1}
    assert siblings(tmp_path) == ["a.json"]


def test_write_jsonl_and_text(tmp_path: Path):
    write_jsonl(tmp_path / "m.jsonl", [{"a": 1}, {"b": 2}])
    assert [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()] == [{"a": 1}, {"b": 2}]
    write_text(tmp_path / "t.txt", "héllo\n")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo\n"


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_staged_dir_swaps_in_and_replaces(tmp_path: Path):
    final = tmp_path / "out"
    with staged_dir(final) as stage:
        assert stage.parent == tmp_path and stage != final and not final.exists()
        (stage / "a").write_text("1")
    assert (final / "a").read_text() == "1"
    with staged_dir(final) as stage:
        (stage / "b").write_text("2")
    assert siblings(final) == ["b"]  # replaced whole, not merged
    assert siblings(tmp_path) == ["out"]  # no staging or retired folder left


def test_staged_dir_rolls_back_on_exception(tmp_path: Path):
    final = tmp_path / "out"
    with staged_dir(final) as stage:
        (stage / "a").write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with staged_dir(final) as stage:
            (stage / "a").write_text("new")
            raise RuntimeError("boom")
    assert (final / "a").read_text() == "old"
    assert siblings(tmp_path) == ["out"]


def test_staged_dir_without_replace_refuses_an_existing_folder(tmp_path: Path):
    final = tmp_path / "run"
    with staged_dir(final, replace=False) as stage:
        (stage / "a").write_text("first")
    with pytest.raises(FileExistsError):
        with staged_dir(final, replace=False) as stage:
            (stage / "a").write_text("second")
    assert (final / "a").read_text() == "first"
    assert siblings(tmp_path) == ["run"]


def test_staged_dir_in_unwritable_parent_is_a_respgen_error(tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(RespgenError, match="not writable"):
        with staged_dir(tmp_path / "file" / "out"):
            pass


def test_swap_in_restores_the_old_folder_when_the_rename_fails(tmp_path: Path, monkeypatch):
    final, staging = tmp_path / "out", tmp_path / ".out.partial"
    final.mkdir()
    (final / "a").write_text("old")
    staging.mkdir()
    (staging / "a").write_text("new")
    rename = os.rename

    def failing(src, dst):
        if Path(src) == staging:
            raise OSError(28, "No space left on device")
        return rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", failing)
    with pytest.raises(OSError):
        swap_in(staging, final)
    assert (final / "a").read_text() == "old"
    assert not list(tmp_path.glob(".out.old*"))
    monkeypatch.setattr(atomic.os, "rename", rename)
    swap_in(staging, final)
    assert (final / "a").read_text() == "new" and siblings(tmp_path) == ["out"]


def test_point_latest_and_read_latest(tmp_path: Path):
    runs = tmp_path / "models"
    (runs / "a").mkdir(parents=True)
    (runs / "b").mkdir()
    link = runs / "latest"
    assert read_latest(link) is None
    point_latest(link, runs / "a")
    assert link.is_symlink() and os.readlink(link) == "a"  # relative: the workspace can move
    assert read_latest(link) == runs / "a"
    point_latest(link, runs / "b")
    assert read_latest(link).resolve() == (runs / "b").resolve()
    assert siblings(runs) == ["a", "b", "latest"]  # no temporary link left


def test_point_latest_never_replaces_a_real_folder(tmp_path: Path):
    (tmp_path / "a").mkdir()
    squatter = tmp_path / "latest"
    squatter.mkdir()
    with pytest.raises(RespgenError, match="must be a pointer"):
        point_latest(squatter, tmp_path / "a")
    assert squatter.is_dir() and not squatter.is_symlink()
