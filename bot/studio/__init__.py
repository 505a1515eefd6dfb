"""The content studio: staff edit, review, publish and roll back answers (docs/content-studio.md)."""
