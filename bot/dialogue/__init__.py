"""Dialogue-side Rasa components (policies)."""
