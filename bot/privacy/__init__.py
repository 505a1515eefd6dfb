"""Keeping citizens' personal data out of what we store and log."""
