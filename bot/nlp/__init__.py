"""The project's spaCy pipeline and NLU components."""
