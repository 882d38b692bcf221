"""Helpers shared by the tests: real external tools (debootstrap, sshd) driven as oracles."""
