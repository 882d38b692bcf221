"""The knowledge cache (src/imagevet/knowledge.py): a parse is reused only for the same parser and text,
damage and planted entries are parsed again, and a cache that cannot be used costs only time."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from imagevet import knowledge
from tests.support.cli import imagevet_env, run_imagevet

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian"
TEXT = "name: web\nreleased: 2024-04-25\nitems: [1, 2.5, true, null]\n"


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> Any:
        self.calls += 1
        return knowledge._safe_load(text)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "knowledge"
    monkeypatch.setenv(knowledge.CACHE_ENV, str(folder))
    return folder


def test_the_same_text_is_parsed_once_and_read_back_equal(cache: Path) -> None:
    parse = Counting()
    first = knowledge.parsed("yaml-safe", TEXT, parse)
    second = knowledge.parsed("yaml-safe", TEXT, parse)
    assert parse.calls == 1
    assert first == second == {"name": "web", "released": dt.date(2024, 4, 25), "items": [1, 2.5, True, None]}
    assert len(list(cache.glob("*.pickle"))) == 1
    assert cache.stat().st_mode & 0o777 == 0o700


def test_another_text_or_parser_is_parsed_again(cache: Path) -> None:
    parse = Counting()
    knowledge.parsed("yaml-safe", TEXT, parse)
    knowledge.parsed("yaml-safe", TEXT + "extra: 1\n", parse)
    knowledge.parsed("yaml-unique-keys", TEXT, parse)
    assert parse.calls == 3


def test_a_damaged_entry_is_parsed_again_and_rewritten(cache: Path) -> None:
    parse = Counting()
    knowledge.parsed("yaml-safe", TEXT, parse)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:10])  # truncated
    assert knowledge.parsed("yaml-safe", TEXT, parse)["name"] == "web"
    assert parse.calls == 2
    assert knowledge.parsed("yaml-safe", TEXT, parse)["name"] == "web"
    assert parse.calls == 2


def test_a_planted_entry_cannot_run_code(cache: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    cache.mkdir(mode=0o700)
    (cache / knowledge.entry_name("yaml-safe", TEXT)).write_bytes(pickle.dumps(Planted()))
    assert knowledge.parsed("yaml-safe", TEXT, Counting())["name"] == "web"
    assert not marker.exists()


def test_a_folder_others_may_write_is_not_used(cache: Path) -> None:
    cache.mkdir()
    cache.chmod(0o777)
    parse = Counting()
    knowledge.parsed("yaml-safe", TEXT, parse)
    knowledge.parsed("yaml-safe", TEXT, parse)
    assert parse.calls == 2
    assert not list(cache.iterdir())


def test_a_cache_that_cannot_be_written_costs_only_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(knowledge.CACHE_ENV, str(blocker / "knowledge"))
    assert knowledge.parsed("yaml-safe", TEXT, Counting())["name"] == "web"


def test_off_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(knowledge.CACHE_ENV, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    parse = Counting()
    knowledge.parsed("yaml-safe", TEXT, parse)
    knowledge.parsed("yaml-safe", TEXT, parse)
    assert parse.calls == 2 and not list(tmp_path.iterdir())


def test_a_failing_parse_is_not_cached(cache: Path) -> None:
    for _ in range(2):
        with pytest.raises(Exception, match="mapping values"):
            knowledge.safe_yaml("a: b: c\n")
    assert not list(cache.glob("*.pickle")) if cache.exists() else True


def test_the_default_folder_follows_xdg() -> None:
    assert knowledge.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/imagevet/knowledge")
    assert knowledge.cache_dir({"HOME": "/root"}) == Path("/root/.cache/imagevet/knowledge")
    assert knowledge.cache_dir({"XDG_CACHE_HOME": "relative", "HOME": "/root"}) == Path(
        "/root/.cache/imagevet/knowledge"
    )
    assert knowledge.cache_dir({"HOME": "/nonexistent-home"}) is None  # never created for a cache
    assert knowledge.cache_dir({}) is None


def test_an_audit_says_the_same_with_the_cache_cold_warm_and_off(tmp_path: Path) -> None:
    """The whole tool, three ways: the report (timestamps aside) does not depend on the cache."""

    def audit(cache: str) -> dict[str, Any]:
        env = imagevet_env(IMAGEVET_KNOWLEDGE_CACHE=cache)
        proc = run_imagevet(
            "audit", str(ROOT), "--profile", "all", "-f", "json", "--fail-on", "never", env=env
        )
        assert proc.returncode == 0, proc.stderr
        report: dict[str, Any] = json.loads(proc.stdout)
        report.pop("generated_at", None)
        report.get("tool", {}).pop("duration_ms", None)
        return report

    folder = str(tmp_path / "k")
    cold, warm, off = audit(folder), audit(folder), audit("off")
    assert cold == warm == off
    assert list((tmp_path / "k").glob("*.pickle"))
    assert list((tmp_path / "k").glob("dataclass-code-*.marshal"))  # classcode.py: the warm run reused it


def test_another_pyyaml_release_is_not_served_an_older_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry's name covers the installed PyYAML (its yaml/__init__.py, read without importing it)."""
    import yaml

    assert yaml.__version__.encode() in knowledge.yaml_release()
    before = knowledge.entry_name("yaml-safe", TEXT)
    monkeypatch.setattr(knowledge, "yaml_release", lambda: b"__version__ = '99.0'")
    assert knowledge.entry_name("yaml-safe", TEXT) != before
