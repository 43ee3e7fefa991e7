"""The pictures of a counterexample in the HTML report, as inline SVG figures.

* :func:`chart_figure`: the sequence chart (one lane per actor, one arrow
  or box per step), drawn by :mod:`checker.outputs.chart`;
* :func:`graph_figure`: the trace inside its neighbourhood of the state
  graph (:func:`checker.outputs.graphs.neighbourhood_graph`), drawn by
  :mod:`checker.outputs.pictures`.

Each returns a ``<figure>`` with the SVG inline (see
:func:`checker.outputs.html.parts.inline_svg`); a picture whose SVG holds active
content is left out, with a one-line notice in its place.
"""

from __future__ import annotations

from checker.lang.model import Model
from checker.outputs.graphs import neighbourhood_graph
from checker.outputs.html.parts import UnsafeSvg, esc, inline_svg
from checker.traces.trace import Trace

# checker.outputs.chart and .pictures load matplotlib (3 s): imported when a picture is drawn,
# so that every vhostmc command starts without it


def chart_svg(model: Model, trace: Trace) -> tuple[bytes, list[str]]:
    """The sequence chart of ``trace`` as SVG, and its lane names (left to right)."""
    from checker.outputs.chart import render_chart, sequence_chart

    chart = sequence_chart(model, trace)
    return render_chart(chart, "svg"), list(chart.lanes)


def graph_svg(model: Model, trace: Trace) -> bytes:
    """The neighbourhood graph of ``trace`` as SVG."""
    from checker.outputs.pictures import neighbourhood_picture

    return neighbourhood_picture(neighbourhood_graph(model, trace), "svg")


def chart_figure(model: Model, trace: Trace, id_prefix: str) -> str:
    """A ``<figure>`` holding the sequence chart, captioned with its lanes."""
    try:
        svg, lanes = chart_svg(model, trace)
        picture = inline_svg(svg, id_prefix)
    except UnsafeSvg as err:
        return _notice("chart", "Sequence chart", err)
    names = ", ".join(f'<span class="lane">{esc(lane)}</span>' for lane in lanes)
    return (f'<figure class="chart"><figcaption>Sequence chart: one lane per actor '
            f"({names}); time runs down, one row per step.</figcaption>{picture}</figure>")


def graph_figure(model: Model, trace: Trace, id_prefix: str) -> str:
    """A ``<figure>`` holding the neighbourhood graph of the trace."""
    try:
        picture = inline_svg(graph_svg(model, trace), id_prefix)
    except UnsafeSvg as err:
        return _notice("graph", "Neighbourhood graph", err)
    return ('<figure class="graph"><figcaption>Neighbourhood graph: the trace\'s states and '
            "steps, with the other steps enabled in each state leading off it."
            f"</figcaption>{picture}</figure>")


def _notice(css_class: str, title: str, err: Exception) -> str:
    return (f'<figure class="{css_class} missing"><figcaption>{esc(title)}</figcaption>'
            f'<p class="notice">picture omitted: {esc(err)}</p></figure>')
