"""What sshd 9.x accepts, as tables: each modelled keyword's kind and compiled-in default, the algorithms
it supports, aliases, list keywords, what a Match block may set, and every other keyword it knows (so a typo
is the fatal error sshd would raise). Knowledge of OpenSSH (servconf.c, sshd_config(5)); the grammar that
uses it is in sshd_grammar.py and the parser in sshd.py."""

from __future__ import annotations

FLAG = "flag"
TIME = "time"
INT = "int"
LOGLEVEL = "loglevel"
ROOTLOGIN = "rootlogin"
WORDS = "words"
ALGORITHMS = "algorithms"  # comma lists with OpenSSH's +append, -remove (patterns) and ^prepend forms

# Keywords whose effective value we model: type and OpenSSH's default (fill_default_server_options).
MODELED: dict[str, tuple[str, str]] = {
    "passwordauthentication": (FLAG, "yes"),
    "permitrootlogin": (ROOTLOGIN, "prohibit-password"),
    "permitemptypasswords": (FLAG, "no"),
    "kbdinteractiveauthentication": (FLAG, "yes"),
    "usepam": (FLAG, "no"),
    "pubkeyauthentication": (FLAG, "yes"),
    "hostbasedauthentication": (FLAG, "no"),
    "ignorerhosts": (FLAG, "yes"),
    "x11forwarding": (FLAG, "no"),
    "allowagentforwarding": (FLAG, "yes"),
    "gssapiauthentication": (FLAG, "no"),
    "permituserenvironment": (WORDS, "no"),
    "maxauthtries": (INT, "6"),
    "maxsessions": (INT, "10"),
    "logingracetime": (TIME, "120"),
    "clientaliveinterval": (TIME, "0"),
    "clientalivecountmax": (INT, "3"),
    "loglevel": (LOGLEVEL, "INFO"),
    "authenticationmethods": (WORDS, "any"),
    "banner": (WORDS, "none"),
    # Debian 12's OpenSSH 9.2p1 defaults, as its sshd -T prints them (checked by the oracle tests).
    "ciphers": (
        ALGORITHMS,
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    ),
    "macs": (
        ALGORITHMS,
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    ),
    "kexalgorithms": (
        ALGORITHMS,
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
        "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    ),
}

# What Debian 12's OpenSSH 9.2p1 supports (``ssh -Q cipher|mac|kex``): sshd refuses other names ("Bad SSH2
# cipher spec") unless the list removes (``-``) patterns.
SUPPORTED = {
    "ciphers": frozenset(
        "3des-cbc aes128-cbc aes192-cbc aes256-cbc aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com "
        "aes256-gcm@openssh.com chacha20-poly1305@openssh.com".split()
    ),
    "macs": frozenset(
        "hmac-sha1 hmac-sha1-96 hmac-sha2-256 hmac-sha2-512 hmac-md5 hmac-md5-96 umac-64@openssh.com "
        "umac-128@openssh.com hmac-sha1-etm@openssh.com hmac-sha1-96-etm@openssh.com "
        "hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com hmac-md5-etm@openssh.com "
        "hmac-md5-96-etm@openssh.com "
        "umac-64-etm@openssh.com umac-128-etm@openssh.com".split()
    ),
    "kexalgorithms": frozenset(
        "diffie-hellman-group1-sha1 diffie-hellman-group14-sha1 diffie-hellman-group14-sha256 "
        "diffie-hellman-group16-sha512 diffie-hellman-group18-sha512 diffie-hellman-group-exchange-sha1 "
        "diffie-hellman-group-exchange-sha256 ecdh-sha2-nistp256 ecdh-sha2-nistp384 ecdh-sha2-nistp521 "
        "curve25519-sha256 curve25519-sha256@libssh.org sntrup761x25519-sha512 "
        "sntrup761x25519-sha512@openssh.com".split()
    ),
}

ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
    "dsaauthentication": "pubkeyauthentication",
}

# Keywords that add to a list instead of being set once.
ACCUMULATING = frozenset(
    {
        "port",
        "listenaddress",
        "hostkey",
        "hostcertificate",
        "acceptenv",
        "subsystem",
        "allowusers",
        "denyusers",
        "allowgroups",
        "denygroups",
        "logverbose",
    }
)

# Keywords allowed inside a Match block (sshd_config(5), "Match"); the values a matching block sets
# override the global ones for that connection. Others inside a Match (but "Match all") are fatal.
MATCH_ALLOWED = frozenset(
    """
    acceptenv allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers
    authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile
    authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner
    casignaturealgorithms channeltimeout chrootdirectory clientalivecountmax clientaliveinterval denygroups
    denyusers disableforwarding exposeauthinfo forcecommand gatewayports gssapiauthentication
    hostbasedacceptedalgorithms hostbasedauthentication hostbasedusesnamefrompacketonly ignorerhosts include
    ipqos kbdinteractiveauthentication kerberosauthentication loglevel maxauthtries maxsessions
    passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty permittunnel
    permituserrc pubkeyacceptedalgorithms pubkeyauthentication pubkeyauthoptions rekeylimit revokedkeys
    rdomain setenv streamlocalbindmask streamlocalbindunlink trustedusercakeys unusedconnectiontimeout
    x11displayoffset x11forwarding x11uselocalhost
    """.split()
)

# Every other keyword sshd 9.x accepts, so a typo can be reported as the fatal error sshd would raise.
OTHER_KEYWORDS = frozenset(
    [
        "addressfamily",
        "requiredrsasize",
        "streamlocalbindmask",
        "unusedconnectiontimeout",
        "ignoreuserknownhosts",
        "hostbasedusesnamefrompacketonly",
        "kerberosauthentication",
        "kerberosorlocalpasswd",
        "kerberosticketcleanup",
        "kerberosgetafstoken",
        "gssapicleanupcredentials",
        "gssapikeyexchange",
        "gssapistrictacceptorcheck",
        "gssapistorecredentialsonrekey",
        "gssapikexalgorithms",
        "printmotd",
        "printlastlog",
        "x11displayoffset",
        "x11uselocalhost",
        "permittty",
        "permituserrc",
        "strictmodes",
        "tcpkeepalive",
        "compression",
        "gatewayports",
        "usedns",
        "allowtcpforwarding",
        "disableforwarding",
        "allowstreamlocalforwarding",
        "streamlocalbindunlink",
        "fingerprinthash",
        "exposeauthinfo",
        "pidfile",
        "modulifile",
        "xauthlocation",
        "ciphers",
        "macs",
        "forcecommand",
        "chrootdirectory",
        "trustedusercakeys",
        "revokedkeys",
        "securitykeyprovider",
        "authorizedprincipalsfile",
        "versionaddendum",
        "authorizedkeyscommand",
        "authorizedkeyscommanduser",
        "authorizedprincipalscommand",
        "authorizedprincipalscommanduser",
        "hostkeyagent",
        "kexalgorithms",
        "casignaturealgorithms",
        "hostbasedacceptedalgorithms",
        "hostkeyalgorithms",
        "pubkeyacceptedalgorithms",
        "syslogfacility",
        "authorizedkeysfile",
        "authorizedkeysfile2",
        "maxstartups",
        "persourcemaxstartups",
        "persourcenetblocksize",
        "permittunnel",
        "ipqos",
        "rekeylimit",
        "permitopen",
        "permitlisten",
        "pubkeyauthoptions",
        "setenv",
        "include",
        "match",
        "keepalive",
        "protocol",
        "useprivilegeseparation",
        "rsaauthentication",
        "rhostsrsaauthentication",
        "uselogin",
        "keyregenerationinterval",
        "serverkeybits",
        "pamauthenticationviakbdint",
        "skeyauthentication",
        "rhostsauthentication",
        "verifyreversemapping",
        "reversemappingcheck",
        "afstokenpassing",
        "kerberostgtpassing",
        "debianbanner",
        "channeltimeout",
        "sshdsessionpath",
        "perSourcePenalties",
        "persourcepenalties",
        "persourcepenaltyexemptlist",
        "refuseconnection",
    ]
)

FLAG_VALUES = {"yes": "yes", "no": "no"}
ROOTLOGIN_VALUES = {
    "yes": "yes",
    "no": "no",
    "without-password": "prohibit-password",
    "prohibit-password": "prohibit-password",
    "forced-commands-only": "forced-commands-only",
}
LOGLEVELS = {
    "QUIET": "QUIET",
    "FATAL": "FATAL",
    "ERROR": "ERROR",
    "INFO": "INFO",
    "VERBOSE": "VERBOSE",
    "DEBUG": "DEBUG",
    "DEBUG1": "DEBUG",
    "DEBUG2": "DEBUG2",
    "DEBUG3": "DEBUG3",
}


# Keywords sshd accepts when a comment is all that follows them ("AcceptEnv #c"): the lists it reads name
# by name (none is fine) and the retired keywords it ignores. sshd -T of OpenSSH 9.2 over every keyword,
# found by tests/facts/test_fuzz_parsers.py; any other keyword is "missing argument" there.
EMPTY_AFTER_COMMENT = frozenset(
    """acceptenv afstokenpassing allowgroups allowusers authorizedkeysfile authorizedkeysfile2 channeltimeout
    denygroups denyusers kerberosgetafstoken kerberostgtpassing keyregenerationinterval logverbose
    pamauthenticationviakbdint protocol pubkeyauthoptions reversemappingcheck rhostsauthentication
    rhostsrsaauthentication rsaauthentication serverkeybits setenv uselogin useprivilegeseparation
    verifyreversemapping""".split()
)
# Keywords whose value is the rest of the line as written, a "#" included (sshd -T: forcecommand #c).
REST_OF_LINE = frozenset({"forcecommand", "versionaddendum"})
