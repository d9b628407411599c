"""The "Market realism" HTML section: the checklist of ``mmbot market check`` and, with ``--against``, the
recording's figures beside the synthetic ones and the fit's tolerances.

Input is the JSON result of ``exchange_sim.market.realism.checklist.check`` (plus ``against``, see
``exchange_sim.market.realism.cli``); the output is one ``<section>`` of plain HTML tables (every value
escaped, no script), and ``render_market_check`` wraps it in a self-contained page.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
          ".fail{color:#b00;font-weight:bold}.pass{color:#070}.rep{color:#777}")


def _num(value: Any) -> str:
    if value is None:
        return ""
    x = float(value)
    if math.isnan(x):
        return "nan"
    return f"{x:,.3f}" if abs(x) < 1000 else f"{x:,.0f}"


def _band(item: dict[str, Any]) -> str:
    low, high = item.get("low"), item.get("high")
    if high is None:
        return f"&gt;= {_num(low)}" if low is not None else "any"
    if low is None:
        return f"&lt;= {_num(high)}"
    return f"{_num(low)} .. {_num(high)}"


def _verdict(item: dict[str, Any]) -> str:
    if not item["judged"]:
        return '<span class="rep">reported</span>'
    return '<span class="pass">pass</span>' if item["passed"] else '<span class="fail">FAIL</span>'


def market_check_section(result: dict[str, Any]) -> str:
    """The section's HTML (module docstring)."""
    against = result.get("against")
    head = ["#", "item", "synthetic (mean)"] + (["recording"] if against else []) + ["band", "verdict"]
    rows = []
    for item in result["items"]:
        cells = [str(item["item"]), html.escape(item["name"]), _num(item["value"])]
        if against:
            cells.append(_num(against["figures"].get(item["key"])))
        cells += [_band(item), _verdict(item)]
        rows.append("<tr>" + "".join(f'<td class="l">{c}</td>' if i == 1 else f"<td>{c}</td>"
                                     for i, c in enumerate(cells)) + "</tr>")
    title = html.escape(f"{result['regime']}, seeds {result['seeds']}, {result['hours']:g} h each")
    out = [f"<section><h2>Market realism: {title}</h2><table><tr>"
           + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"]
    if against:
        out.append(f"<h3>Beside the recording {html.escape(str(against['path']))}</h3><table><tr>"
                   '<th class="l">figure</th><th>synthetic</th><th>recording</th><th>tolerance</th>'
                   "<th>holds</th></tr>")
        for row in against["side_by_side"]:
            holds = '<span class="pass">yes</span>' if row["holds"] else '<span class="fail">no</span>'
            out.append(f'<tr><td class="l">{html.escape(row["name"])}</td><td>{_num(row["synthetic"])}</td>'
                       f'<td>{_num(row["recording"])}</td><td>{html.escape(row["tolerance"])}</td><td>{holds}</td></tr>')
        out.append("</table>")
    out.append("</section>")
    return "".join(out)


def render_market_check(result: dict[str, Any], path: Path) -> Path:
    """A self-contained HTML page holding the section; the path written."""
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>market realism</title>"
            f"<style>{_STYLE}</style></head><body>{market_check_section(result)}</body></html>\n")
    path.write_text(page, encoding="utf-8")
    return path
