"""The HTML impact report: the Markdown report's blocks, with charts, in one file that opens offline.

No script, no web font, no CDN: the styles are inline and the charts are
inline SVG drawn here (a bar per bin of the fund-change distribution; a bar
per insured region, left for less paid, right for more). Every text is
escaped; the charts carry their numbers as text too, so a reader without
colour vision, or a screen reader, gets them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape
from typing import Any

from .impact_labels import yuan

_FONT = "'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif"
_LESS, _MORE = "#c0392b", "#2e7d32"          # less paid (worse off), more paid (better off)

_STYLE = f"""
body {{ font-family: {_FONT}; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.6; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
th {{ background: #f3f3f3; text-align: left; white-space: nowrap; }}
td {{ overflow-wrap: anywhere; }}
code {{ background: #f5f5f5; padding: 0 3px; font-size: 90%; }}
blockquote {{ border-left: 4px solid {_LESS}; margin: 1em 0; padding: .2em 1em; background: #fdf3f2; }}
figure {{ margin: 1em 0 2em; }} figcaption {{ font-weight: bold; margin-bottom: .3em; }}
h4 {{ margin-top: 2em; }}
"""


def _inline(text: str) -> str:
    """Escape, then render the blocks' two marks: **bold** and `code`."""
    out = escape(str(text))
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)


def html(blocks: list[tuple], title: str = "政策变更影响报告") -> str:
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "note":
            body.append(f"<blockquote>{_inline(block[1])}</blockquote>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            header, rows = block[1], block[2]
            body.append("<table><thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in header) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
                        + "</tbody></table>")
        elif kind == "chart":
            chart = histogram(block[2]) if block[1] == "histogram" else regions(block[2])
            body.append(f"<figure><figcaption>{escape(block[2]['title'])}</figcaption>{chart}</figure>")
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def histogram(data: dict[str, Any]) -> str:
    """Vertical bars, one per bin of fund change per claim, less paid on the left."""
    bars = data["bars"]                       # (label, count, bin index)
    width, height, top, bottom, left = 760, 260, 24, 70, 10
    slot = (width - 2 * left) / max(len(bars), 1)
    peak = max(count for _, count, _ in bars) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{escape(_FONT)}" font-size="12">',
             f"<title>{escape(data['title'])}</title>"]
    plot = height - top - bottom
    for i, (label, count, index) in enumerate(bars):
        h = plot * count / peak
        x = left + i * slot + slot * 0.15
        y = top + plot - h
        colour = _MORE if index > 0 else _LESS
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                     f"<title>{escape(label)}：{count:,} 份</title></rect>")
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count:,}</text>')
        words = label.split(" ", 1)
        for j, word in enumerate(words):
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot + 16 + 14 * j}" text-anchor="middle">{escape(word)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def regions(data: dict[str, Any]) -> str:
    """Horizontal bars, one per insured region: left of the axis the fund pays less, right more."""
    bars: list[tuple[str, Decimal]] = data["bars"]
    label_w, plot_w, value_w, row_h, top = 230, 420, 130, 22, 10
    width, height = label_w + plot_w + value_w, top * 2 + row_h * len(bars)
    peak = max(abs(v) for _, v in bars) or Decimal(1)
    axis = label_w + plot_w / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{escape(_FONT)}" font-size="12">',
             f"<title>{escape(data['title'])}</title>",
             f'<line x1="{axis}" y1="{top - 4}" x2="{axis}" y2="{height - top + 4}" stroke="#888"/>']
    for i, (label, value) in enumerate(bars):
        y = top + i * row_h
        w = float(abs(value) / peak) * (plot_w / 2 - 4)
        x = axis if value > 0 else axis - w
        colour = _MORE if value > 0 else _LESS
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" fill="{colour}">'
                     f"<title>{escape(label)}：{escape(yuan(value))}</title></rect>")
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 15}">{escape(yuan(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)
