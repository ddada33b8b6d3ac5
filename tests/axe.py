"""axe-core in a Playwright page: the accessibility check every browser test runs (no tests in here).

The `axe_page` fixture (tests/conftest.py) opens a phone-sized and a desktop-sized page for it.
"""

from pathlib import Path

from django.conf import settings

# Installed from package.json by `make install` (npm ci); never fetched at test time.
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = r"""async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " (" + n.failureSummary.replace(/\s+/g, " ").trim() + ")"),
  }));
}"""


def violations(page, base_url, path):
    """Return one line per serious or critical violation on the page at `path`: id, help, then each target."""
    response = page.goto(f"{base_url}{path}")
    assert response is not None and response.status < 500, f"{path} answered {response and response.status}"
    page.add_script_tag(path=AXE_JS)
    return [
        f"{path} [{v['impact']}] {v['id']}: {v['help']}" + "".join(f"\n    at {node}" for node in v["nodes"])
        for v in page.evaluate(RUN_AXE)
        if v["impact"] in BLOCKING_IMPACTS
    ]


def assert_accessible(page, base_url, paths):
    found = [line for path in paths for line in violations(page, base_url, path)]
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)
