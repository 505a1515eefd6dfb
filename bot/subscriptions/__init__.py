"""Alert subscriptions: the catalog of topics and districts, and the subscribers in Redis."""
