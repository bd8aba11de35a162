"""The FrozenLake renderer finds every gymnasium sprite it draws, byte for byte the ones the VSP boards use.

gymnasium 1.4 renamed and redrew its sprites; the base install pins the range whose sprites these are.
"""

import hashlib
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from task_envs.errors import TaskError
from task_envs.render import frozenlake as fl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_tiles():
    """Empty the tile caches so that the sprites are read again (and again after the test)."""
    for cache in (fl._tiles, fl._tile_stack):
        cache.cache_clear()
    yield
    for cache in (fl._tiles, fl._tile_stack):
        cache.cache_clear()


@pytest.mark.parametrize("name", sorted(fl.SPRITES))
def test_every_sprite_exists_with_the_expected_bytes(name):
    path = fl.sprite_path(name)
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fl.SPRITES[name], f"{path} was redrawn"


def test_the_renderer_reads_only_listed_sprites(fresh_tiles, monkeypatch):
    read = []
    real = fl.sprite_path
    monkeypatch.setattr(fl, "sprite_path", lambda name: read.append(name) or real(name))
    fl.render_frozenlake(["SF", "HG"])
    assert read and set(read) == set(fl.SPRITES)


def test_a_missing_sprite_is_a_one_line_error_naming_the_range(fresh_tiles, monkeypatch, tmp_path):
    monkeypatch.setattr(fl, "sprite_dir", lambda: tmp_path)
    with pytest.raises(TaskError, match=rf"{tmp_path}/ice\.png: FrozenLake sprite missing .*gymnasium>=1\.0,<1\.4"):
        fl.render_frozenlake(["SF", "HG"])


def test_pyproject_pins_the_sprite_range_and_the_installed_gymnasium_is_in_it():
    deps = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    (gym,) = [d for d in deps if d.name == "gymnasium"]
    assert str(gym.specifier) == str(Requirement(f"gymnasium{fl.GYMNASIUM_RANGE}").specifier)
    assert version("gymnasium") in gym.specifier
    assert "1.4.0" not in gym.specifier
