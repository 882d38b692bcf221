"""CVSS v3.0/v3.1 base scores from vector strings (FIRST's CVSS v3.1 specification, section 7).

OSV records carry vectors, not scores; computing the score keeps severities comparable across distros.
"""

from __future__ import annotations

import math

_WEIGHTS = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _roundup(value: float) -> float:
    """The specification's Roundup: the smallest number with one decimal that is >= value."""
    integer = round(value * 100000)
    if integer % 10000 == 0:
        return integer / 100000.0
    return (math.floor(integer / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a ``CVSS:3.x/AV:../AC:..`` vector; None when it is not a valid v3 vector."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep:
            return None
        metrics[key] = value
    try:
        scope = metrics["S"]
        iss = 1 - (1 - _WEIGHTS["C"][metrics["C"]]) * (1 - _WEIGHTS["I"][metrics["I"]]) * (
            1 - _WEIGHTS["A"][metrics["A"]]
        )
        if scope == "U":
            impact = 6.42 * iss
        elif scope == "C":
            impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
        else:
            return None
        exploitability = (
            8.22
            * _WEIGHTS["AV"][metrics["AV"]]
            * _WEIGHTS["AC"][metrics["AC"]]
            * _PR[scope][metrics["PR"]]
            * _WEIGHTS["UI"][metrics["UI"]]
        )
    except KeyError:
        return None
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def severity_of_score(score: float) -> str:
    """CVSS v3 qualitative rating."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"
