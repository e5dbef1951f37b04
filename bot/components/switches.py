"""What turns one of Rasa's patches in ``bot/components`` off: one reading of their environment switches."""
from __future__ import annotations

import os

OFF = ("0", "false", "no", "off")


def switched_off(name: str) -> bool:
    """``NAME=0`` (or false, no, off) leaves Rasa's own code in place, to measure a patch against it."""
    return os.environ.get(name, "1").strip().lower() in OFF
