"""Civic Assistant: the Harbor City citizen-engagement chatbot."""
