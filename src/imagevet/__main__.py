"""``python -m imagevet``."""

from imagevet.cli import main

main()
