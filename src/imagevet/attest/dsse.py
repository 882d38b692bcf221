"""DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol v1): what is signed is
the pre-authentication encoding PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, so the
payload type is bound to the signature. Pure: bytes in, bytes out."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

IN_TOTO = "application/vnd.in-toto+json"


class EnvelopeError(ValueError):
    """The file is not a DSSE envelope (or was altered so that it no longer is one)."""


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, signature)

    def to_json(self) -> str:
        document = {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode(),
            "signatures": [{"keyid": k, "sig": base64.b64encode(s).decode()} for k, s in self.signatures],
        }
        return json.dumps(document, indent=2) + "\n"


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{what} is not a base64 string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"{what} is not valid base64") from exc
    if base64.b64encode(decoded).decode() != value:  # non-canonical: spare bits set, so bytes could vary
        raise EnvelopeError(f"{what} is not canonical base64")
    return decoded


def parse_envelope(text: str) -> Envelope:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnvelopeError(f"not JSON ({exc.msg} at line {exc.lineno})") from exc
    except ValueError as exc:
        raise EnvelopeError("not JSON") from exc
    if not isinstance(document, dict) or set(document) != {"payloadType", "payload", "signatures"}:
        raise EnvelopeError("not a DSSE envelope (payloadType, payload, signatures)")
    signatures = document["signatures"]
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("the envelope has no signatures")
    parsed = []
    for entry in signatures:
        if not isinstance(entry, dict) or not isinstance(entry.get("keyid", ""), str):
            raise EnvelopeError("a signature entry is malformed")
        parsed.append((str(entry.get("keyid", "")), _b64(entry.get("sig"), "a signature")))
    if not isinstance(document["payloadType"], str):
        raise EnvelopeError("payloadType is not a string")
    return Envelope(document["payloadType"], _b64(document["payload"], "the payload"), tuple(parsed))
