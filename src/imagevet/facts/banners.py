"""The login banners an image shows: /etc/motd (after login), /etc/issue (before a console login; agetty
expands its backslash escapes), /etc/issue.net (before a telnet login) and the file sshd's ``Banner``
names (before SSH authentication, usually /etc/issue.net; sent as it is, no escapes).

A banner is judged by what it says, so a missing file and an empty one are facts (nothing is shown),
while a file that cannot be read is Unknown: the checks then say so instead of passing.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.sshd import SshdConfig
from imagevet.model import Unknown
from imagevet.target.base import Target

# A login banner is a few lines; sshd itself sends at most what fits its packet. Larger is not a banner.
MAX_BANNER_BYTES = 64 * 1024
LOGIN_BANNERS = ("/etc/motd", "/etc/issue", "/etc/issue.net")


@dataclass(frozen=True)
class Banner:
    """One banner file: its bytes as decoded text, or None where no file is there (dangling links too:
    nothing can be shown from them)."""

    path: str
    text: str | None

    @property
    def shows_text(self) -> bool:
        """Whether the banner says anything at all (not missing, not only blanks)."""
        return bool(self.text and self.text.strip())


def read_banner(target: Target, path: str) -> Banner | Unknown:
    """The banner at ``path`` in the image. Bytes that are not UTF-8 are kept as replacement characters:
    sshd and agetty send them regardless, so they are text to judge, not a reason to give up."""
    if not target.exists(path):
        return Banner(path, None)
    data = target.read_bytes(path, MAX_BANNER_BYTES)
    if isinstance(data, Unknown):
        return Unknown(f"the banner cannot be judged: {data.reason}")
    return Banner(path, data.decode("utf-8", errors="replace"))


def gather_banners(target: Target, sshd: SshdConfig | Unknown | None) -> dict[str, Banner | Unknown]:
    """/etc/motd, issue and issue.net, and every absolute path sshd's Banner names, globally or in a Match
    block (a relative one is the check's error, never read), by path."""
    named = []
    if isinstance(sshd, SshdConfig):
        named = [sshd.get("banner").value, *(s.value for _, s in sshd.match_overrides("banner"))]
    paths = [*LOGIN_BANNERS, *(path for path in named if path.startswith("/"))]
    return {path: read_banner(target, path) for path in dict.fromkeys(paths)}
