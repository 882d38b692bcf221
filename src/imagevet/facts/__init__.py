"""Facts: typed, parsed knowledge about an image, each gathered at most once per run."""

from imagevet.facts.collection import Facts

__all__ = ["Facts"]
