"""Message tests (A/B): the results of each tested content entry and Promote (docs/experiments.md).

The arms live in the content (``variants:`` on an entry, ``bot.content``), the NLG serves them
(``bot.feedback.variants``) and the analytics consumer counts their outcomes (``bot.analytics``);
this package turns those counts into rates with intervals (`stats`, `results`), serves them in the
console (`web`) and writes the winning wording back into the content (`promote`).
"""
