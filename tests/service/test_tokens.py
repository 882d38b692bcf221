"""service/tokens.py on a real migrated SQLite database: a created token authenticates with its scope and
is stored only as a digest; the list never holds a secret; revoking stops it at once and names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from imagevet.service import tokens
from imagevet.service.auth import AuthFailure, Gate
from imagevet.service.db import ApiToken, make_engine, sessions
from imagevet.service.migrate import upgrade


def test_create_list_count_and_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    upgrade(url)
    make = sessions(make_engine(url))
    assert tokens.count(make) == 0
    ci = tokens.create(make, "write", "ci")
    reader = tokens.create(make, "read")
    gate = Gate(make)
    assert (
        gate.bearer("127.0.0.1", f"Bearer {ci}") == "write"
        and gate.token("127.0.0.1", reader).scope == "read"
    )
    with make() as db:
        assert ci not in {t.digest for t in db.scalars(select(ApiToken))}
    rows = tokens.listed(make)
    assert [(r.id, r.scope, r.name) for r in rows] == [(1, "write", "ci"), (2, "read", "")]
    document = tokens.as_json(rows)
    assert json.loads(document)["schema"] == "imagevet/tokens/v1" and ci not in document
    assert tokens.as_table(rows).splitlines()[0].split() == ["id", "scope", "created", "name"]
    assert tokens.count(make) == 2
    assert tokens.revoke(make, 1) == "revoked token 1 (write, ci)"
    assert tokens.revoke(make, 2) == "revoked token 2 (read)"
    with pytest.raises(AuthFailure):
        gate.bearer("127.0.0.1", f"Bearer {ci}")
    with pytest.raises(tokens.TokenError, match=r"no token with id 1 \(imagevet token list\)"):
        tokens.revoke(make, 1)
    with pytest.raises(ValueError):
        tokens.create(make, "root")
