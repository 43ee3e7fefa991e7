"""The HTML report without a browser: escaping, rebuilding from stored files, bad input.

``tests/test_report_browser.py`` opens the page in Chromium; here the page is
read as text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from checker.cli import main
from checker.outputs.html.page import build_report
from checker.outputs.html.parts import UnsafeSvg, inline_svg, json_for_script
from checker.runs.catalog import load_revision
from checker.runs.stored import load_run
from checker.traces.itf import ItfError, read_header, to_itf, trace_from_itf
from checker.traces.trace import render_text

RUN_ARGS = ["check", "--ring-size", "1", "--property", "memory-safe", "--property",
            "put-and-wait-terminates", "-q", "--report"]

HOSTILE_SPEC = '''\
from checker.lang.spec import invariant


@invariant("quiet-worker",
           "<script>alert('statement')</script> the worker stays idle & <b>quiet</b>",
           explain=lambda s: "</script><script>alert('explain')</script> w_pc left 0")
def quiet_worker(s):
    return s.w_pc == 0
'''


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of ``check --report``: memory-safe (8 steps), put-and-wait-terminates
    (a lasso)."""
    out = tmp_path_factory.mktemp("run") / "out"
    with pytest.raises(SystemExit) as exc:
        main([*RUN_ARGS, "--out", str(out)])
    assert exc.value.code == 1
    return out


def script_elements(page: str) -> list[str]:
    """The opening tags of every ``<script`` element of the page."""
    return re.findall(r"<script\b[^>]*>", page, re.IGNORECASE)


def test_check_report_writes_the_page_and_report_rebuilds_it_byte_identical(
    stored_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = (stored_run / "report.html").read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>")
    code, out, err = run(capsys, "report", str(stored_run), "--output", str(tmp_path / "r.html"))
    assert (code, err) == (0, "")
    assert out.strip() == f"report: {tmp_path / 'r.html'}"
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == written
    # the folder may move: traces are found by name in it, and no path is in the page
    moved = tmp_path / "moved"
    shutil.copytree(stored_run, moved)
    (moved / "report.html").unlink()
    assert build_report(load_run(moved)) == written
    assert str(stored_run) not in written


def test_page_is_self_contained(stored_run: Path) -> None:
    page = (stored_run / "report.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the Content-Security-Policy forbids every fetch
    urls = set(re.findall(r"(?:https?|ftp)://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # xmlns only
    assert not re.search(r"<(?:link|img|iframe|object|embed)\b", page)
    assert not re.search(r"<script\b[^>]*\bsrc=", page)
    for tag in script_elements(page)[:-1]:
        assert tag == '<script type="application/json" class="cex-data">'


def test_report_has_verdicts_statistics_and_each_counterexample(stored_run: Path) -> None:
    doc = json.loads((stored_run / "result.json").read_text())
    page = (stored_run / "report.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="verdict status-(\w+)" data-property="([^"]+)"', page)
    assert [(name, status) for status, name in rows] == \
        [(p["name"], p["status"]) for p in doc["properties"]]
    for key in ("states", "transitions", "max_depth"):
        assert f"<dd>{doc['stats'][key]}</dd>" in page
    for prop in doc["properties"]:
        section = page.split(f'data-property="{prop["name"]}" data-steps=', 1)[1]
        section = section.split("</section>", 1)[0]
        assert section.startswith(f'"{prop["length"]}"')
        assert section.count('<tr class="step ') == prop["length"]
        assert prop["explanation"].split(":", 1)[1].strip()[:40] in section
    assert '<tr class="loop-back">' in page  # put-and-wait-terminates is a lasso
    assert "--initial-backend" in page and "Environment switches" in page


def test_lasso_cycle_rows_are_marked(stored_run: Path, tmp_path: Path) -> None:
    """Steps after ``loop`` repeat forever: their rows are marked."""
    run_dir = tmp_path / "run"
    shutil.copytree(stored_run, run_dir)
    itf = run_dir / "v9-n1-memory-safe.itf.json"
    doc = json.loads(itf.read_text())
    doc["loop"] = 5
    itf.write_text(json.dumps(doc))
    page = build_report(load_run(run_dir))
    section = page.split('id="cex-memory-safe"', 1)[1].split("</section>", 1)[0]
    cycle = re.findall(r'<tr class="step [^"]*\bcycle\b[^"]*" data-step="(\d+)"', section)
    assert cycle == ["6", "7", "8"]
    assert "steps 6&ndash;8" in section and 'data-loop="5"' in section


def test_hostile_property_text_and_spec_path_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "<script>alert('path')"
    folder.mkdir()
    spec = folder / "spec.py"
    spec.write_text(HOSTILE_SPEC)
    out = tmp_path / "out"
    code, _, _ = run(capsys, "check", "--ring-size", "1", "--spec", str(spec), "--property",
                     "quiet-worker", "--out", str(out), "-q", "--report")
    assert code == 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "alert(" in page  # the texts are there...
    assert "<script>alert" not in page and "<b>quiet" not in page  # ...but inert
    assert "&lt;script&gt;alert(&#x27;statement&#x27;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#x27;path&#x27;)/spec.py" in page  # the spec file's path
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert" in page  # in the steps' JSON
    # every <script> is the page's own: one JSON block per counterexample, then the code
    assert len(script_elements(page)) == page.count('class="cex-data"') + 1 == 2
    assert page.count("</script>") == 2


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "does not exist"),
    ("file", "is not a folder"),
    ("empty", "has no result.json"),
    ("not-json", "result.json is not JSON"),
    ("not-vhostmc", "is not a vhostmc result document"),
    ("no-itf", "cannot read"),
    ("bad-itf", "is not JSON"),
    ("bad-label", "no action 'no_such_step'"),
])
def test_report_bad_input_one_line_exit_2_nothing_written(
    stored_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str,
    message: str,
) -> None:
    run_dir = tmp_path / "run"
    if setup == "file":
        run_dir.write_text("x")
    elif setup == "empty":
        run_dir.mkdir()
    elif setup != "missing":
        shutil.copytree(stored_run, run_dir)
        (run_dir / "report.html").unlink()
        itf = run_dir / "v9-n1-memory-safe.itf.json"
        if setup == "not-json":
            (run_dir / "result.json").write_text("{")
        elif setup == "not-vhostmc":
            (run_dir / "result.json").write_text("[]")
        elif setup == "no-itf":
            itf.unlink()
            doc = json.loads((run_dir / "result.json").read_text())
            doc["properties"][0]["trace"]["itf"] = str(tmp_path / "gone.itf.json")
            (run_dir / "result.json").write_text(json.dumps(doc))
        elif setup == "bad-itf":
            itf.write_text("not json")
        elif setup == "bad-label":
            doc = json.loads(itf.read_text())
            doc["states"][2]["mbt::actionTaken"] = "no_such_step"
            itf.write_text(json.dumps(doc))
    output = tmp_path / "report.html"
    code, out, err = run(capsys, "report", str(run_dir), "--output", str(output))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vhostmc: error: ") and message in lines[0]
    assert not output.exists()
    assert not (run_dir / "report.html").exists()


def test_trace_from_itf_rebuilds_the_written_trace(stored_run: Path) -> None:
    for itf in sorted(stored_run.glob("*.itf.json")):
        doc = json.loads(itf.read_text())
        revision, params, _ = read_header(doc)
        model = load_revision(revision)(params)
        trace = trace_from_itf(model, doc)
        assert render_text(trace) + "\n" == itf.with_name(
            itf.name.replace(".itf.json", ".txt")).read_text()
        assert trace.loop == doc.get("loop")
        assert to_itf(model, trace) == doc


def test_trace_from_itf_rejects_a_bad_loop(stored_run: Path) -> None:
    doc = json.loads((stored_run / "v9-n1-memory-safe.itf.json").read_text())
    doc["loop"] = 99
    model = load_revision("v9")(read_header(doc)[1])
    with pytest.raises(ItfError, match="'loop' must be a state index 0..8"):
        trace_from_itf(model, doc)


def test_report_of_a_run_where_everything_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(capsys, "check", "--ring-size", "1", "--max-backend-changes", "0",
                     "--release", "no", "--send-failures", "0", "--initial-backend", "copy",
                     "--property", "memory-safe", "--out", str(tmp_path), "-q", "--report")
    assert code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<tr class="verdict status-holds" data-property="memory-safe"' in page
    assert "result: all properties hold (exit 0)" in page
    assert 'class="cex"' not in page


def test_json_for_script_cannot_close_its_element() -> None:
    text = json_for_script({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


@pytest.mark.parametrize("svg", [
    "<svg><script>alert(1)</script></svg>",
    '<svg><g onload="alert(1)"/></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg><image href="https://example.org/x.png"/></svg>',
    '<svg><rect style="fill: url(https://example.org/p)"/></svg>',
    "<svg><foreignObject><div>x</div></foreignObject></svg>",
])
def test_inline_svg_refuses_active_content(svg: str) -> None:
    with pytest.raises(UnsafeSvg):
        inline_svg(svg, "p-")


def test_inline_svg_prefixes_ids_and_drops_the_prologue() -> None:
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg><metadata>rdf</metadata>'
           '<defs><path id="m1"/><clipPath id="c1"/></defs>'
           '<use xlink:href="#m1" clip-path="url(#c1)"/></svg>')
    assert inline_svg(svg, "x-") == ('<svg><defs><path id="x-m1"/><clipPath id="x-c1"/></defs>'
                                     '<use xlink:href="#x-m1" clip-path="url(#x-c1)"/></svg>')


def test_report_property_takes_a_comma_list(
    stored_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(capsys, "report", str(stored_run), "--property",
                     "put-and-wait-terminates,memory-safe", "--output", str(tmp_path / "two.html"))
    assert code == 0
    page = (tmp_path / "two.html").read_text(encoding="utf-8")
    sections = re.findall(r'data-property="([^"]+)" data-steps=', page)
    assert sorted(sections) == ["memory-safe", "put-and-wait-terminates"]


def test_report_property_selects_counterexamples(
    stored_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(capsys, "report", str(stored_run), "--property", "memory-safe",
                     "--output", str(tmp_path / "one.html"))
    assert code == 0
    page = (tmp_path / "one.html").read_text(encoding="utf-8")
    sections = re.findall(r'data-property="([^"]+)" data-steps=', page)
    assert sections == ["memory-safe"]
    rows = re.findall(r'<tr class="verdict status-\w+" data-property="([^"]+)"', page)
    assert rows == ["memory-safe", "put-and-wait-terminates"]  # the verdict table keeps all
    code, out, err = run(capsys, "report", str(stored_run), "--property", "no-such",
                         "--output", str(tmp_path / "none.html"))
    assert (code, out) == (2, "")
    assert err.strip() == ("vhostmc: error: --property no-such: the run has no such property "
                           "(it has: memory-safe, put-and-wait-terminates)")
    assert not (tmp_path / "none.html").exists()
