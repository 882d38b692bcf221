"""API tokens in the inventory database: create (the token is returned once, only its digest is kept),
list (never the token, which is not stored), revoke (at once, on every server using the database).
`imagevet token create|list|revoke` parse options, call these and print what they return."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from imagevet.errors import ImagevetError
from imagevet.service.auth import digest, new_token
from imagevet.service.db import ApiToken
from imagevet.service.vocabulary import SCOPES

SCHEMA = "imagevet/tokens/v1"


class TokenError(ImagevetError):
    """A token operation that cannot be done as asked (no such token)."""


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    scope: str
    created_at: str  # ISO 8601


def create(make_session: sessionmaker[Session], scope: str, name: str = "") -> str:
    """A new token of ``scope`` (one of SCOPES), stored as its digest; the token itself is returned."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    token = new_token()
    with make_session() as db:
        db.add(ApiToken(name=name, scope=scope, digest=digest(token)))
        db.commit()
    return token


def listed(make_session: sessionmaker[Session]) -> list[TokenRow]:
    with make_session() as db:
        return [
            TokenRow(t.id, t.name, t.scope, t.created_at.isoformat())
            for t in db.scalars(select(ApiToken).order_by(ApiToken.id))
        ]


def count(make_session: sessionmaker[Session]) -> int:
    """How many tokens can authenticate (for the start-up line)."""
    with make_session() as db:
        return int(db.scalar(select(func.count()).select_from(ApiToken)) or 0)


def revoke(make_session: sessionmaker[Session], token_id: int) -> str:
    """Delete the token (its dashboard sessions go with it); what was revoked, as one line."""
    with make_session() as db:
        token = db.get(ApiToken, token_id)
        if token is None:
            raise TokenError(f"no token with id {token_id} (imagevet token list)")
        db.delete(token)
        db.commit()
    return f"revoked token {token_id} ({token.scope}{', ' + token.name if token.name else ''})"


def as_json(rows: list[TokenRow]) -> str:
    return json.dumps({"schema": SCHEMA, "tokens": [asdict(r) for r in rows]}, indent=2) + "\n"


def as_table(rows: list[TokenRow]) -> str:
    lines = [f"{'id':>4}  {'scope':<6} {'created':<25} name"]
    lines += [f"{r.id:>4}  {r.scope:<6} {r.created_at:<25} {r.name}" for r in rows]
    return "\n".join(lines) + "\n"
