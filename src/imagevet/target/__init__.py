"""Targets: the only code that touches an image's files.

A target is a read-only view of an image's root filesystem in which every path, symlinks included, is
resolved inside the image root. Everything above this package asks a target for text, never ``open()``.
"""

from imagevet.target.base import Target
from imagevet.target.open import open_target, opened_target
from imagevet.target.rootfs import RootfsTarget

__all__ = ["RootfsTarget", "Target", "open_target", "opened_target"]
