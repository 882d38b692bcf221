"""``--severity``: which results a report shows. It changes what is shown in every format and never what the
report decides: the gate, the exit code and the summary counts are computed from every result, and a
report that hides some says how many (Trivy's convention for the option's values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagevet.errors import ImagevetError
from imagevet.model import Severity


@dataclass(frozen=True)
class SeverityFilter:
    """The severities to show; every other result is counted as hidden."""

    shown: frozenset[Severity]

    def shows(self, label: str) -> bool:
        """Whether a result of severity ``label`` (``unknown`` is ``info``) is shown."""
        return Severity.of(label) in self.shown

    def labels(self) -> list[str]:
        return [s.value for s in Severity if s in self.shown]

    def note(self, hidden: int, failing: list[str]) -> dict[str, Any]:
        """The ``filter`` field of a JSON document: the severities shown, how many results were not, and
        the hidden ones that trip the gate all the same (the gate sees every result)."""
        return {"severity": self.labels(), "hidden": hidden, "failing": list(dict.fromkeys(failing))}


def hidden_line(note: dict[str, Any]) -> str:
    """What a table or page says about a document's ``filter`` field."""
    count = note["hidden"]
    results = "result is" if count == 1 else "results are"
    line = f"{count} {results} outside --severity {','.join(note['severity'])} and not shown"
    if note["failing"]:
        line += f"; failing the gate among them: {', '.join(note['failing'])}"
    return line


def parse_severities(text: str) -> SeverityFilter:
    """``--severity critical,HIGH`` as a filter; ImagevetError (exit 2) naming the bad value and the
    choices. ``unknown`` (Trivy's name for an advisory without a severity) is accepted as ``info``."""
    choices = ", ".join(s.value for s in Severity)
    shown: set[Severity] = set()
    for part in text.split(","):
        label = part.strip()
        if not label:
            continue
        try:
            shown.add(Severity.of(label))
        except ValueError:
            raise ImagevetError(
                f"--severity: unknown severity {label!r} (choose from: {choices}; unknown is info)"
            ) from None
    if not shown:
        raise ImagevetError(f"--severity names no severity (choose from: {choices})")
    return SeverityFilter(frozenset(shown))
