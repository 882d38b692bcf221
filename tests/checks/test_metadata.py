"""The subject files load together and every mistake that would otherwise go unnoticed is an error at
load: unknown keys, duplicate ids (in one file or across files), ids outside their file's prefixes, and a
registry that disagrees with the metadata."""

from __future__ import annotations

from typing import Any

import pytest

from imagevet.checks.metadata import SUBJECTS, builtin_metadata, load_subjects, load_yaml, subject_documents
from imagevet.checks.registry import CHECKS, REGISTRY, ROW
from imagevet.errors import DataError


def record(**extra: Any) -> dict[str, Any]:
    return {
        "title": "t",
        "severity": "low",
        "rationale": "r",
        "remediation": {"default": [{"note": "n"}]},
        "references": ["x"],
        **extra,
    }


SYSCTL_ROW = {"fact": "sysctl", "keys": ["vm.swappiness"], "op": "le", "want": 10}


def docs(**files: dict[str, Any]) -> dict[str, Any]:
    return dict(files)


def test_the_builtin_subjects_load_in_registry_order() -> None:
    metadata = builtin_metadata()
    assert list(metadata) == list(CHECKS) == [check_id for check_id, _ in REGISTRY]
    assert {meta.subject for meta in metadata.values()} == set(SUBJECTS)
    assert all(meta.value for check_id, entry in REGISTRY if entry is ROW for meta in [metadata[check_id]])


def test_every_id_lives_in_the_file_its_prefix_names() -> None:
    documents = subject_documents()
    for name, document in documents.items():
        for check_id in document.get("checks") or {}:
            assert any(check_id.startswith(p) for p in document["prefixes"]), (name, check_id)


def test_a_valid_pair_of_files_loads() -> None:
    documents = docs(
        a={"prefixes": ["a-"], "checks": {"a-one": record()}},
        b={"prefixes": ["b-"], "checks": {"b-one": record(value=SYSCTL_ROW)}},
    )
    loaded = load_subjects(documents, {"b-one": True, "a-one": False})
    assert list(loaded) == ["b-one", "a-one"] and loaded["b-one"].value[0].keys == ("vm.swappiness",)


@pytest.mark.parametrize(
    ("documents", "registry", "message"),
    [
        (
            {"a": {"prefixes": ["a-"], "checks": {"a-one": record(severty="low")}}},
            {"a-one": False},
            "severty",
        ),
        ({"a": {"prefixes": ["a-"], "check": {}}}, {}, "unknown key"),
        (
            {"a": {"prefixes": ["a-"], "checks": {"a-one": record(remediation={"default": [{"rn": "x"}]})}}},
            {"a-one": False},
            "unknown key",
        ),
        (
            {
                "a": {"prefixes": ["a-"], "checks": {"a-one": record()}},
                "b": {"prefixes": ["a-"], "checks": {}},
            },
            {"a-one": False},
            "already owned",
        ),
        (
            {
                "a": {"prefixes": ["a-"], "checks": {"a-one": record()}},
                "b": {"prefixes": ["b-"], "checks": {"a-one": record()}},
            },
            {"a-one": False},
            "also in a.yaml",
        ),
        ({"a": {"prefixes": ["a-"], "checks": {"b-one": record()}}}, {"b-one": False}, "prefix belongs"),
        ({"a": {"prefixes": ["a-"], "checks": {"a-one": record()}}}, {}, "without a registered check: a-one"),
        ({"a": {"prefixes": ["a-"], "checks": {}}}, {"a-two": False}, "without metadata: a-two"),
        ({"a": {"prefixes": ["a-"], "checks": {"a-one": record()}}}, {"a-one": True}, "has no value row"),
        (
            {"a": {"prefixes": ["a-"], "checks": {"a-one": record(value=SYSCTL_ROW)}}},
            {"a-one": False},
            "registered with a Python predicate",
        ),
        (
            {"a": {"prefixes": ["a-"], "checks": {"a-one": record(value={**SYSCTL_ROW, "wnat": 1})}}},
            {"a-one": True},
            "unknown key",
        ),
        (
            {"a": {"prefixes": ["a-"], "checks": {"a-one": record(value={**SYSCTL_ROW, "op": "in"})}}},
            {"a-one": True},
            "is not one of",
        ),
        (
            {
                "a": {
                    "prefixes": ["a-"],
                    "checks": {
                        "a-one": record(
                            value={"fact": "sshd", "keys": ["x11forwarding"], "op": "eq", "want": False}
                        )
                    },
                }
            },
            {"a-one": True},
            "quote sshd words",
        ),
    ],
)
def test_mistakes_are_errors_at_load(
    documents: dict[str, Any], registry: dict[str, bool], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_subjects(documents, registry)


def test_a_duplicate_id_in_one_file_is_an_error_not_the_last_one_wins() -> None:
    text = "prefixes: [a-]\nchecks:\n  a-one: {title: t}\n  a-one: {title: u}\n"
    with pytest.raises(DataError, match=r"a\.yaml: duplicate key 'a-one' \(line 4\)"):
        load_yaml(text, "a.yaml")
