"""Package inventory: readers for dpkg, rpm (SQLite, Berkeley DB, NDB) and apk databases."""
