"""axe-core in a Playwright page: the accessibility check every browser test runs (no tests in here).

The `axe_page` fixture (tests/conftest.py) opens a phone-sized and a desktop-sized page for it.
"""

from pathlib import Path

from django.conf import settings

# Installed from package.json by `make install` (npm ci); never fetched at test time.
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = r"""async (exclude) => {
  const results = await axe.run(exclude.length ? {exclude: exclude} : document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " (" + n.failureSummary.replace(/\s+/g, " ").trim() + ")"),
  }));
}"""


def found_on(page, *, exclude=()) -> list[str]:
    """One line per serious or critical violation on the page as it is now: id, help, then each target.

    `exclude`: CSS selectors axe skips (Django's own widgets, which are Django's to fix).
    """
    page.add_script_tag(path=AXE_JS)
    return [
        f"[{v['impact']}] {v['id']}: {v['help']}" + "".join(f"\n    at {node}" for node in v["nodes"])
        for v in page.evaluate(RUN_AXE, list(exclude))
        if v["impact"] in BLOCKING_IMPACTS
    ]


def violations(page, base_url, path):
    """`found_on` the page at `path`, each line starting with the path."""
    response = page.goto(f"{base_url}{path}")
    assert response is not None and response.status < 500, f"{path} answered {response and response.status}"
    return [f"{path} {line}" for line in found_on(page)]


def assert_accessible(page, base_url, paths):
    found = [line for path in paths for line in violations(page, base_url, path)]
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)
