"""Atomic writes: whole files only, with the permissions a plain open() would give (not mkstemp's 0600)."""

import os
import stat

import pytest

from task_envs.io_utils import atomic_write_bytes, atomic_write_json, atomic_write_text


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_atomic_writes_get_the_mode_open_would_give(tmp_path, umask, mask, mode):
    umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    for path, write in (
        (tmp_path / "a.txt", lambda p: atomic_write_text(p, "a")),
        (tmp_path / "b.bin", lambda p: atomic_write_bytes(p, b"b")),
        (tmp_path / "c.json", lambda p: atomic_write_json(p, {"c": 1})),
    ):
        write(path)
        assert stat.S_IMODE(path.stat().st_mode) == mode == stat.S_IMODE(plain.stat().st_mode), path


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "out.json"
    atomic_write_json(path, {"v": 1})
    atomic_write_json(path, {"v": 2})
    assert path.read_text() == '{\n "v": 2\n}\n'
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]
