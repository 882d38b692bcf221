"""Paid extended support the image has attached: Ubuntu Pro (ESM), RHEL EUS/E4S, SUSE LTSS.

Each detector reads the files the vendor's own tools write, through the target, and says for each catalog
tier kind it can see (``esm``, ``legacy``, ``eus``, ``ltss``) whether the image has it ``attached``, does
not have it (``absent``), or cannot be told (``undecided``, with the reason). Nothing here reads the clock:
a contract's expiry is recorded and the checks compare it with the audit date.

Ubuntu Pro (ubuntu-pro-client, formerly ubuntu-advantage-tools):
  ``/var/lib/ubuntu-advantage/status.json``  the client's status cache, written as root by ``pro status``
      and by attach/enable/refresh: the dict of ``uaclient/status.py`` (``attached``, ``expires`` as an ISO
      8601 datetime or null/"n/a" when unattached, ``services``: a list of ``{"name", "status", ...}`` with
      ``status`` ``enabled``/``disabled``/``n/a``/``warning``), serialised by ``DatetimeAwareJSONEncoder``.
  ``/etc/apt/sources.list.d/ubuntu-esm-*.{list,sources}``  the apt sources the client writes on enable
      (``deb https://esm.ubuntu.com/infra/ubuntu <series>-infra-security main``, or deb822 with ``URIs:``).
  ``/etc/apt/auth.conf.d/90ubuntu-advantage``  apt credentials, ``machine esm.ubuntu.com/infra/ubuntu/
      login bearer password <token>  # ubuntu-pro-client``: only the machine part is ever kept.
ESM counts only when all three agree: attached, esm-infra enabled, an enabled ESM source and its credentials;
the Legacy add-on the same way with its own service, esm-infra-legacy (enabling esm-infra does not buy it).

RHEL: an enabled repository whose id has ``-eus-`` or ``-e4s-`` (``rhel-9-for-x86_64-baseos-eus-rpms``)
in ``/etc/yum.repos.d/*.repo`` (subscription-manager writes ``redhat.repo``; RHUI cloud images their own
file), and the release pinned to a minor version in ``/etc/dnf/vars/releasever`` (``/etc/yum/vars`` on
RHEL 7): an EUS repository without a pinned minor release serves nothing.

SUSE: the LTSS product registered (``/etc/products.d/*LTSS*.prod``, installed by SUSEConnect with the
extension's release package) or an enabled zypp repository with LTSS in its alias or name
(``/etc/zypp/repos.d/*.repo``). Repository URLs carry registration tokens and are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagevet.facts.support_files import ABSENT, ATTACHED, PRO_STATUS, UNDECIDED, PaidSupport
from imagevet.facts.support_rpm import eus_support, ltss_support
from imagevet.facts.support_ubuntu import (
    parse_auth_machines,
    parse_esm_sources,
    parse_pro_status,
    pro_support,
)
from imagevet.target.base import Target

__all__ = [
    "ABSENT",
    "ATTACHED",
    "PRO_STATUS",
    "UNDECIDED",
    "PaidSupport",
    "SupportFacts",
    "gather_support",
    "parse_auth_machines",
    "parse_esm_sources",
    "parse_pro_status",
]


@dataclass(frozen=True)
class SupportFacts:
    """Paid support by tier kind; a kind imagevet cannot detect has no entry."""

    paid: dict[str, PaidSupport] = field(default_factory=dict)

    def of(self, kind: str) -> PaidSupport | None:
        return self.paid.get(kind)


def gather_support(target: Target) -> SupportFacts:
    paid = pro_support(target)
    paid["eus"] = eus_support(target)
    paid["ltss"] = ltss_support(target)
    return SupportFacts(paid)
