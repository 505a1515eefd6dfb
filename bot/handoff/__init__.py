"""Human handoff: the Redis queue, staffed hours, the event relay, and its JSON API and pages in the console.

Mounted on the console (`bot.console`) by `bot.handoff.web.setup`.
"""
