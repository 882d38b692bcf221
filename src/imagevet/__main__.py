"""``python -m imagevet``."""

from imagevet.cli.entry import run

run()
