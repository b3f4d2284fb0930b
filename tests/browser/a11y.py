"""axe-core checks for the browser tests: no serious or critical accessibility violation."""

from __future__ import annotations

SEVERE = ("serious", "critical")


def severe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    out = []
    for v in results.response["violations"]:
        if v.get("impact") in SEVERE:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            out.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x: {targets})")
    return out


def assert_accessible(page) -> None:
    problems = severe_violations(page)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)
