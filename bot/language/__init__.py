"""The languages the assistant speaks: which ones (``languages_offered`` in data/agency.yml), how
each is named and asked for (data/language/<code>.yml), which one a message is in, and which one a
conversation is in.
"""
