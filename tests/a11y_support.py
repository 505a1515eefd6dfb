"""axe-core in the browser tests (imported as `a11y_support`): every WCAG 2.x A and AA rule.

axe runs only the rules with a WCAG 2.0/2.1/2.2 level A or AA tag, and all of them: including the
ones tagged `experimental` (e.g. `label-content-name-mismatch`, WCAG 2.5.3) or `deprecated`, which
axe leaves out unless they are enabled by name. Any violation of any impact fails the test.
"""

from __future__ import annotations

import json
from typing import Any

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OFF_BY_DEFAULT = {"experimental", "deprecated"}  # axe's own `tagExclude`
RESULT_KINDS = ("violations", "passes", "incomplete", "inapplicable")
_AXE = Axe()  # the axe-core bundled with axe_playwright_python


def wcag_rules(page: Any) -> list[dict[str, Any]]:
    """axe's rules carrying any of WCAG_TAGS (`ruleId`, `tags`...), as the axe in `page` lists them."""
    page.evaluate(_AXE.axe_script)
    return page.evaluate("tags => axe.getRules(tags)", WCAG_TAGS)


def axe_options(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """`axe.run` options: the WCAG tags, plus the off-by-default rules among `rules` enabled by name."""
    return {
        "runOnly": {"type": "tag", "values": WCAG_TAGS},
        "rules": {r["ruleId"]: {"enabled": True} for r in rules if OFF_BY_DEFAULT & set(r["tags"])},
        "resultTypes": ["violations"],
    }


def assert_no_wcag_violations(page: Any, where: str = "") -> None:
    """Run axe on `page` as it is now; fail on any violation, or if axe did not run exactly the WCAG rules."""
    rules = wcag_rules(page)
    expected = {r["ruleId"] for r in rules}
    assert "label-content-name-mismatch" in expected, "the WCAG rule list lacks the experimental rules"
    results = _AXE.run(page, options=axe_options(rules)).response
    ran = {r["id"] for kind in RESULT_KINDS for r in results[kind]}
    assert ran == expected, f"axe left out {sorted(expected - ran)} and ran {sorted(ran - expected)}"
    found = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
    ]
    assert found == [], f"WCAG violations on {where or page.url}:\n{json.dumps(found, indent=1)}"
