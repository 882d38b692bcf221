"""The in-toto Statement (v1) imagevet signs, and how it is signed and verified."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from imagevet.attest.dsse import IN_TOTO, Envelope, EnvelopeError, pae, parse_envelope
from imagevet.attest.keys import key_id

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://github.com/imagevet/imagevet/attestation/image-audit/v1"


def sha256_of(document: Any) -> str:
    """Digest of a JSON document in canonical form (sorted keys, no spaces), so it can be re-checked."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_statement(
    image_id: str, image_digest: str, audit: dict[str, Any], sbom: dict[str, Any], generated_by: str
) -> dict[str, Any]:
    algorithm, _, value = image_digest.partition(":")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": image_id, "digest": {algorithm: value}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "generatedBy": generated_by,
            "audit": {"digest": {"sha256": sha256_of(audit)}, "document": audit},
            "sbom": {"digest": {"sha256": sha256_of(sbom)}, "document": sbom},
        },
    }


def sign(statement: dict[str, Any], private_key: Any) -> Envelope:
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature = private_key.sign(pae(IN_TOTO, payload))
    return Envelope(IN_TOTO, payload, ((key_id(private_key.public_key()), signature),))


@dataclass(frozen=True)
class Verified:
    ok: bool
    reasons: tuple[str, ...]
    statement: dict[str, Any] | None = None


def verify(text: str, public_key: Any, image_id: str | None = None) -> Verified:
    """Signature over PAE, then the statement's shape, embedded document digests and subject."""
    from cryptography.exceptions import InvalidSignature

    try:
        envelope = parse_envelope(text)
    except EnvelopeError as exc:
        return Verified(False, (f"not a valid envelope: {exc}",))
    if envelope.payload_type != IN_TOTO:
        return Verified(False, (f"payload type {envelope.payload_type!r} is not in-toto",))
    mine = key_id(public_key)
    good = False
    for keyid, signature in envelope.signatures:
        if keyid != mine:  # the keyid is not signed; insisting on it makes every byte of the file count
            continue
        try:
            public_key.verify(signature, pae(envelope.payload_type, envelope.payload))
            good = True
            break
        except InvalidSignature:
            continue
    if not good:
        signers = ", ".join(k[:16] for k, _ in envelope.signatures)
        return Verified(False, (f"no signature verifies with key {mine[:16]} (signed by keyid {signers})",))
    try:
        statement = json.loads(envelope.payload)
    except ValueError:
        return Verified(False, ("the signed payload is not JSON",))
    reasons = []
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        return Verified(False, ("the payload is not an in-toto Statement v1",))
    predicate = statement.get("predicate") or {}
    for part in ("audit", "sbom"):
        entry = predicate.get(part) or {}
        if sha256_of(entry.get("document")) != (entry.get("digest") or {}).get("sha256"):
            reasons.append(f"the embedded {part} does not match its digest")
    names = [s.get("name") for s in statement.get("subject", []) if isinstance(s, dict)]
    if image_id is not None and image_id not in names:
        reasons.append(f"the subject is {', '.join(map(str, names))}, not {image_id}")
    return Verified(not reasons, tuple(reasons) or ("signature and subject verified",), statement)
