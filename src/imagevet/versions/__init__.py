"""Version ordering per packaging scheme, identical to the reference tools."""

from imagevet.versions.deb import compare_deb

__all__ = ["compare_deb"]
