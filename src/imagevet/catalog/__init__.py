"""Knowledge as data: release lifecycles (and, later, publishers and image offerings)."""
