"""The knowledge cache (src/imagevet/knowledge.py): a parse is reused only for the same parser and text,
damage and planted entries are parsed again, and a cache that cannot be used costs only time."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import sys
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


# Validated objects (knowledge.validated): the check metadata and the catalog's core.


def test_validated_objects_are_built_once_per_text_and_read_back_equal(cache: Path) -> None:
    from imagevet.checks.metadata import builtin_metadata

    builtin_metadata.cache_clear()
    first = builtin_metadata()
    entries = set(cache.glob("*.pickle"))
    builtin_metadata.cache_clear()
    calls: list[str] = []
    real = knowledge._write
    knowledge._write = lambda *a: calls.append("write")  # type: ignore[assignment]
    try:
        second = builtin_metadata()
    finally:
        knowledge._write = real  # type: ignore[assignment]
        builtin_metadata.cache_clear()
    assert second == first and second is not first
    assert calls == [] and set(cache.glob("*.pickle")) == entries  # served from the cache, not rebuilt


def test_changed_code_is_never_served_objects_an_older_one_validated(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    build = lambda: built.append(1) or {"checks": 1}  # noqa: E731
    knowledge.validated("probe", ["text"], build)
    knowledge.validated("probe", ["text"], build)
    assert built == [1]
    monkeypatch.setattr(knowledge, "code_stamp", lambda: "src/imagevet/checks/values.py\0 1234\0 1")
    knowledge.validated("probe", ["text"], build)
    knowledge.validated("probe", ["other text"], build)
    assert built == [1, 1, 1]


def test_the_code_stamp_changes_when_a_module_of_the_package_is_edited(tmp_path: Path) -> None:
    """The stamp is each .py file's path, size and modification time: an edit changes it. Measured on a
    copy of the package, so the checkout's own files are left as they are."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "src-\udcff"  # a folder whose name is no UTF-8 (byte 0xff): the stamp stays text
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "src" / "imagevet", copy / "imagevet", ignore=skip)
    probe = "from imagevet import knowledge; print(repr(knowledge.code_stamp()))"
    env = {**os.environ, "PYTHONPATH": str(copy)}

    def stamp() -> str:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=True)
        return done.stdout.decode("utf-8", "surrogateescape")

    before = stamp()
    assert before.count("\\n") > 200 and "checks/metadata.py" in before
    module = copy / "imagevet" / "checks" / "values.py"
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 1))
    assert stamp() != before
    build = "from imagevet import knowledge; print(knowledge.validated('probe', ['text'], lambda: 7))"
    cached = {**env, knowledge.CACHE_ENV: str(tmp_path / "cache")}
    for _ in range(2):  # built, then read back
        done = subprocess.run([sys.executable, "-c", build], env=cached, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout == "7\n", done.stderr


@pytest.mark.parametrize(
    "planted",
    [
        ("os", "system", ("touch {marker}",)),
        ("imagevet.output", "write_text", ("{marker}", "planted")),
        ("imagevet.__main__", "run", ()),
    ],
    ids=["another-package", "an-imagevet-function", "a-module-not-imported"],
)
def test_a_planted_validated_entry_cannot_run_code(
    cache: Path, tmp_path: Path, planted: tuple[str, str, tuple[str, ...]]
) -> None:
    """Only imagevet's dataclasses and enums (and compiled expressions) are built from an entry: a
    function of another package or of imagevet's own is refused, and the objects are built again."""
    marker = tmp_path / "ran"
    module, name, args = planted

    class Planted:
        def __reduce__(self) -> Any:
            import importlib

            call = getattr(importlib.import_module(module), name)
            return call, tuple(a.format(marker=marker) for a in args)

    knowledge.validated("probe", ["text"], lambda: {"value": 1})
    (entry,) = cache.glob("*.pickle")
    if module == "imagevet.__main__":  # pickled by reference, as a planted file would name it
        entry.write_bytes(b"\x80\x02cimagevet.__main__\nrun\n)R.")  # GLOBAL, an empty tuple, REDUCE
    else:
        entry.write_bytes(pickle.dumps(Planted()))
    assert knowledge.validated("probe", ["text"], lambda: {"value": 2}) == {"value": 2}
    assert not marker.exists() and "imagevet.__main__" not in sys.modules


def test_a_failing_build_is_not_cached(cache: Path) -> None:
    from imagevet.errors import DataError

    def fail() -> Any:
        raise DataError("check metadata: broken")

    for _ in range(2):
        with pytest.raises(DataError, match="broken"):
            knowledge.validated("probe", ["text"], fail)
    assert list(cache.glob("*.pickle")) == []


def test_the_bundled_catalog_from_the_cache_is_the_catalog_parsed_whole(cache: Path) -> None:
    from imagevet.catalog import loader

    loader.bundled_catalog.cache_clear()
    try:
        cold = loader.bundled_catalog()
        loader.bundled_catalog.cache_clear()
        warm = loader.bundled_catalog()
    finally:
        loader.bundled_catalog.cache_clear()
    whole = loader.parse_catalog(loader.bundled_texts())
    for catalog in (cold, warm):
        assert catalog.releases == whole.releases and catalog.scenarios == whole.scenarios
        assert catalog.compliance == whole.compliance and catalog.rules == whole.rules
        assert dict(catalog.clouds) == dict(whole.clouds)
