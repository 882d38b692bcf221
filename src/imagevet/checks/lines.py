"""Line-oriented reading of configuration files for checks: many CIS checks look for one line among a
main file and its drop-ins, and must name the file and line they found as evidence."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from imagevet.facts import Facts
from imagevet.model import Unknown


def config_lines(facts: Facts, paths: Iterable[str]) -> Iterator[tuple[str, str, int]]:
    """(line, path, line number) of every line of the readable files among ``paths``, in order.
    Unreadable or missing files are passed over: an absent drop-in is not an error."""
    for path in paths:
        text = facts.target.read_text(path)
        if isinstance(text, Unknown):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            yield line, path, number


def systemd_setting(facts: Facts, main: str, key: str, value: str) -> tuple[str, int] | None:
    """Where ``key=value`` (case-insensitive, spaces ignored) is set in a systemd configuration file
    ``main`` or its ``main.d/*.conf`` drop-ins, as (path, line), or None."""
    wanted = f"{key}={value}".lower()
    for line, path, number in config_lines(facts, [main, *facts.target.glob(f"{main}.d/*.conf")]):
        if line.strip().replace(" ", "").lower() == wanted:
            return path, number
    return None
