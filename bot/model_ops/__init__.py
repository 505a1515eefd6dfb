"""Retrain on the staff's content and swap the new model into the running Rasa without a restart."""
