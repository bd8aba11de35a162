"""KeyDoor, an example MGSD task plugin (README: Add your own task)."""

from .task import KeyDoor, KeyDoorInstance

__all__ = ["KeyDoor", "KeyDoorInstance"]
