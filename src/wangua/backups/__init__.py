"""Backups of the database and their restore (R-32c)."""
