"""Small, safe building blocks of the HTML report: escaping, tables, JSON and SVG to inline.

Every piece of text that reaches the page goes through :func:`esc`; data
for the page's script is embedded with :func:`json_for_script`, which
cannot close the ``<script>`` element it sits in; pictures are inlined
with :func:`inline_svg`, which refuses SVG that carries script, event
handlers or references to anything outside the page.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}

_ACTIVE_SVG = re.compile(
    r"<\s*/?\s*(?:script|foreignObject|iframe|object|embed|image|feImage)\b"  # active elements
    r"|<[^>]*\s(?:on[a-z]+|src)\s*="  # event handlers, sources
    r"|<[^>]*\s(?:xlink:)?href\s*=\s*(?:\"(?!#)|'(?!#)|(?![\"'#]))"  # links out of the picture
    r"|url\(\s*(?:\"(?!#)|'(?!#)|(?![\"'#]))"  # CSS references to anything but its own ids
    r"|@import|javascript:|<!ENTITY",
    re.IGNORECASE,
)
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_SVG_ID = re.compile(r'(\sid=")([^"]+)(")')
_METADATA = re.compile(r"<metadata\b.*?</metadata>\s*", re.DOTALL)


def esc(value: object) -> str:
    """``value`` as text safe in HTML content and in quoted attribute values."""
    return html.escape(str(value), quote=True)


def json_for_script(data: Any) -> str:
    """``data`` as JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` (and the JavaScript line separators) are written
    as ``\\u`` escapes, so no string in the data can end the element or
    open a comment; ``JSON.parse`` reads them back unchanged.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def slug(text: str) -> str:
    """``text`` reduced to characters safe in an element id (letters, digits, ``-``, ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css_class: str = "",
          row_attrs: Iterable[str] | None = None) -> str:
    """An HTML table; ``headers`` are plain text (escaped), ``rows`` cells are HTML already.

    ``row_attrs`` gives each ``<tr>`` its attributes (HTML, e.g. ``' class="x"'``).
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    attrs = iter(row_attrs) if row_attrs is not None else None
    body = "".join(
        f"<tr{next(attrs) if attrs is not None else ''}>"
        + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    cls = f' class="{esc(css_class)}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definition_list(items: Iterable[tuple[str, str]], css_class: str = "") -> str:
    """A ``<dl>`` of ``(term, HTML value)`` pairs; terms are escaped."""
    cls = f' class="{esc(css_class)}"' if css_class else ""
    body = "".join(f"<dt>{esc(term)}</dt><dd>{value}</dd>" for term, value in items)
    return f"<dl{cls}>{body}</dl>"


class UnsafeSvg(ValueError):
    """An SVG picture carries script or references outside the page."""


def inline_svg(svg: str | bytes, id_prefix: str) -> str:
    """SVG text ready to inline in the page.

    Drops the XML prologue (declaration, DOCTYPE, comments before ``<svg``)
    and the ``<metadata>`` block (RDF naming the creator, of no use inline),
    prefixes every ``id`` (and the ``#id`` / ``url(#id)`` references to it)
    with ``id_prefix`` so two pictures on one page cannot capture each
    other's markers and clip paths, and raises :class:`UnsafeSvg` when the
    picture holds script, event handlers, foreign objects or references to
    anything but its own elements.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    if "<svg" not in text:
        raise UnsafeSvg("not an SVG picture")
    text = _METADATA.sub("", _PROLOGUE.sub("", text, count=1)).strip()
    found = _ACTIVE_SVG.search(text)
    if found:
        raise UnsafeSvg(f"the picture holds active content ({found.group(0)[:40]!r})")
    ids = {m.group(2) for m in _SVG_ID.finditer(text)}
    if not ids:
        return text
    text = _SVG_ID.sub(lambda m: f"{m.group(1)}{id_prefix}{m.group(2)}{m.group(3)}", text)
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    text = re.sub(rf'(href="#)({alternatives})(")',
                  lambda m: f"{m.group(1)}{id_prefix}{m.group(2)}{m.group(3)}", text)
    return re.sub(rf"(url\(#)({alternatives})(\))",
                  lambda m: f"{m.group(1)}{id_prefix}{m.group(2)}{m.group(3)}", text)
