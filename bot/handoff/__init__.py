"""Human handoff: the Redis queue, the event relay, accounts and the agent console (JSON API + pages)."""
