"""The HTML report in a real headless Chromium: what it shows, and stepping with the keyboard.

Drives the system Chromium (``/usr/bin/chromium``, from Debian's package;
``.ci/install-chromium`` installs it) through the ``playwright`` package;
no browser is downloaded.  The page is opened from a ``file://`` URL with
every http(s) and websocket request intercepted, and the tests assert none
was made.  Skipped, saying why, when Chromium or playwright is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.cli import main

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is missing: install the test extra (pip install -e '.[test]')")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package "
                "(bash .ci/install-chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``check --report`` at ring size 1: memory-safe (8 steps) and a lasso."""
    out = tmp_path_factory.mktemp("browser") / "run"
    with pytest.raises(SystemExit) as exc:
        main(["check", "--ring-size", "1", "--property", "memory-safe", "--property",
              "put-and-wait-terminates", "--out", str(out), "-q", "--report"])
    assert exc.value.code == 1
    return out


@pytest.fixture(scope="module")
def result(run_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((run_dir / "result.json").read_text())
    return doc


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (playwright gives it a fresh temporary profile)."""
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class OpenedPage:
    """A report page in the browser, with every network request it tried."""

    def __init__(self, page: Any, network: list[str]) -> None:
        self.page = page
        self.network = network


@pytest.fixture
def report(browser: Any, run_dir: Path) -> Iterator[OpenedPage]:
    network: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    def refuse(route: Any) -> None:
        network.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(https?|wss?|ftp)://"), refuse)
    page.on("request", lambda req: None if req.url.startswith(("file:", "data:"))
            else network.append(req.url))
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto((run_dir / "report.html").resolve().as_uri())
    yield OpenedPage(page, network)
    context.close()
    assert errors == []
    assert network == []


def step_of(itf: dict[str, Any], index: int) -> dict[str, Any]:
    """The ``#meta`` the ITF file records for step ``index``: actor, action, code, changes."""
    meta: dict[str, Any] = itf["states"][index]["#meta"]
    return meta


def test_title_heading_and_verdict_table(report: OpenedPage, result: dict[str, Any]) -> None:
    page = report.page
    assert page.title().startswith("vhostmc report: revision v9, ring size 1")
    assert page.inner_text("h1") == "vhostmc report: revision v9, ring size 1"
    rows = page.locator("#verdicts tr.verdict")
    shown = [(rows.nth(i).locator("td").nth(0).inner_text(),
              rows.nth(i).locator("td").nth(3).inner_text()) for i in range(rows.count())]
    assert shown == [(p["name"], p["status"].upper()) for p in result["properties"]]
    steps = [rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count())]
    assert steps == [f"{p['length']} steps" if p["loop"] is None
                     else f"lasso: {p['length']} steps, then stays put"
                     for p in result["properties"]]
    assert "the lower device eventually frees every skb" in page.locator(
        "ul.fairness").inner_text()
    env = page.locator("table.environment tbody tr")
    assert env.count() == len(result["environment"])
    assert page.locator("#stats").inner_text().count(str(result["stats"]["states"])) >= 1


def test_each_counterexample_has_one_row_per_step_and_its_pictures(
    report: OpenedPage, run_dir: Path, result: dict[str, Any]
) -> None:
    page = report.page
    for prop in result["properties"]:
        section = page.locator(f'section.cex[data-property="{prop["name"]}"]')
        assert section.locator("tr.step").count() == prop["length"]
        itf = json.loads(Path(run_dir / Path(prop["trace"]["itf"]).name).read_text())
        assert len(itf["states"]) - 1 == prop["length"]
        chart = section.locator("figure.chart svg")
        assert chart.count() == 1
        chart_text = chart.text_content() or ""
        lanes = section.locator("figure.chart figcaption .lane").all_inner_texts()
        assert lanes == ["guest", "worker", "device", "control"]
        for lane in lanes:
            assert lane in chart_text
        assert section.locator("figure.graph svg").count() == 1
        assert section.locator(".explanation").inner_text().endswith(prop["explanation"])


def test_keyboard_steps_forward_and_back(
    report: OpenedPage, run_dir: Path, result: dict[str, Any]
) -> None:
    page = report.page
    prop = result["properties"][0]
    itf = json.loads((run_dir / Path(prop["trace"]["itf"]).name).read_text())
    section = page.locator(f'section.cex[data-property="{prop["name"]}"]')
    current = section.locator("tr.step.current")
    code = section.locator(".panel pre.code")

    assert current.get_attribute("data-step") == "1"
    assert code.inner_text() == step_of(itf, 1)["code"]
    assert section.locator(".panel .hint").is_visible()
    section.locator(".steps-wrap").focus()
    page.keyboard.press("ArrowRight")
    assert current.get_attribute("data-step") == "2"
    assert section.locator("tr.step.current").count() == 1
    assert code.inner_text() == step_of(itf, 2)["code"]
    assert section.locator(".panel .action").inner_text() == itf["states"][2]["mbt::actionTaken"]
    diffs = section.locator(".panel ul.diffs li").all_inner_texts()
    assert len(diffs) == len(step_of(itf, 2)["changes"])
    page.keyboard.press("ArrowLeft")
    assert current.get_attribute("data-step") == "1"
    assert code.inner_text() == step_of(itf, 1)["code"]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current.get_attribute("data-step") == "3"
    page.keyboard.press("k")
    assert current.get_attribute("data-step") == "2"
    violation = section.locator(".panel .violation")
    assert not violation.is_visible()
    page.keyboard.press("End")
    last = prop["length"]
    assert current.get_attribute("data-step") == str(last)
    assert code.inner_text() == step_of(itf, last)["code"]
    assert violation.is_visible()
    assert prop["explanation"] in violation.inner_text()
    page.keyboard.press("ArrowRight")  # stays on the last step
    assert current.get_attribute("data-step") == str(last)
    page.keyboard.press("Home")
    assert current.get_attribute("data-step") == "1"
    page.keyboard.press("ArrowLeft")  # stays on the first step
    assert current.get_attribute("data-step") == "1"


def test_clicking_a_row_selects_it_and_shows_its_full_state(report: OpenedPage) -> None:
    page = report.page
    section = page.locator('section.cex[data-property="memory-safe"]')
    section.locator('tr.step[data-step="4"]').click()
    assert section.locator("tr.step.current").get_attribute("data-step") == "4"
    details = section.locator(".panel details.state-box")
    assert details.locator("summary").inner_text() == "Full state after step 4"
    details.locator("summary").click()
    changed = details.locator("td.changed").all_inner_texts()
    assert "w_pc" in changed
    page.keyboard.press("ArrowRight")  # the clicked counterexample takes the keys
    assert section.locator("tr.step.current").get_attribute("data-step") == "5"


def test_lasso_is_marked(report: OpenedPage, result: dict[str, Any]) -> None:
    prop = next(p for p in result["properties"] if p["name"] == "put-and-wait-terminates")
    section = report.page.locator('section.cex[data-property="put-and-wait-terminates"]')
    loop = section.get_attribute("data-loop")
    assert loop is not None
    cycle_rows = section.locator("tr.step.cycle").count()
    assert cycle_rows == prop["length"] - int(loop)
    assert "After step" in section.locator("tr.loop-back").inner_text()


def test_without_javascript_every_step_is_still_shown(
    browser: Any, run_dir: Path, result: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto((run_dir / "report.html").resolve().as_uri())
        prop = result["properties"][0]
        section = page.locator(f'section.cex[data-property="{prop["name"]}"]')
        assert section.locator("tr.step").count() == prop["length"]
        assert section.locator("tr.step.current").get_attribute("data-step") == "1"
        assert section.locator(".panel .pos").inner_text() == "1"
        assert not section.locator(".panel .hint").is_visible()  # no keys to press
        assert section.locator("figure.chart svg").count() == 1
    finally:
        context.close()
