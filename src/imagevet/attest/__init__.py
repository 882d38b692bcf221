"""Signed attestations: an in-toto Statement binding an image id and digest to its audit report and SBOM,
in a DSSE envelope signed with Ed25519 (keys as PEM files, as `openssl genpkey -algorithm ed25519` makes)."""
