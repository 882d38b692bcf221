"""The system-wide crypto policy of the Red Hat family (crypto-policies(7)): the policy named in
/etc/crypto-policies/config, which update-crypto-policies applies to OpenSSL, GnuTLS, OpenSSH and the
other back ends. LEGACY re-enables SHA-1 signatures, TLS 1.0/1.1 and small Diffie-Hellman groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

CONFIG = "/etc/crypto-policies/config"


@dataclass(frozen=True)
class CryptoPolicy:
    policy: str  # the base policy: DEFAULT, LEGACY, FUTURE, FIPS or a custom one
    modules: tuple[str, ...]  # the sub-policies after it (DEFAULT:SHA1 -> ("SHA1",))
    line: int


def parse_config(text: str) -> CryptoPolicy | None:
    """The first line that is not blank or a comment, as update-crypto-policies reads it; None when
    there is none (the tool then falls back to DEFAULT)."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            base, *modules = line.split(":")
            return CryptoPolicy(base.strip(), tuple(m.strip() for m in modules), number)
    return None


def gather_crypto_policy(target: Target) -> CryptoPolicy | Unknown | None:
    """None where the image has no crypto policy (crypto-policies is not installed, as on Debian)."""
    if not target.exists(CONFIG) and not target.is_dir("/etc/crypto-policies"):
        return None
    text = target.read_text(CONFIG)
    if isinstance(text, Unknown):
        return Unknown(f"{CONFIG}: {text.reason}")
    return parse_config(text) or CryptoPolicy("DEFAULT", (), 0)
