"""How the drill and the browser tests launch Debian's Chromium (no browser download is possible here).

One definition for both: deploy/drill/checks.py imports it as a sibling module (`python deploy/drill/checks.py`
puts this folder on the path), the test suite as `deploy.drill.chromium`. Standard library only.
"""

EXECUTABLE = "/usr/bin/chromium"

# Headless in a container: no sandbox (no user namespaces), no GPU, and none of the background traffic a
# desktop profile makes (updates, sync, first-run pages), which would only wait on a network that is not there.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
