"""Feedback on answers and message tests, as the assistant says them (docs/feedback.md).

`answers`: what a rated answer carries (its two buttons, its `rating`) and the tap's payload;
`variants`: which wording of an entry under test a conversation sees; `links`: the click-counting
address that stands in for an entry's source while it is under test. The aggregator
(`bot.analytics`) reads what these put on the bot's events; the NLG (`bot.nlg`) applies them.
"""
