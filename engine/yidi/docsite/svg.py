"""Filing-validity timelines as inline SVG.

Inline SVG needs no image files, no JavaScript and no plotting library, is
searchable text, and scales on any screen. Each row is one filing type (or
one region): a bar from the start date to the last valid day, an arrow for
an open-ended filing, and a plain sentence where the policy gives none.
"""

from __future__ import annotations

import datetime
from html import escape

from .facts import Validity

_LABEL_W, _PLOT_W, _ROW_H, _TOP = 190, 520, 30, 34
_MONTHS = 24                      # the axis spans two years from the start date
_FONT = "'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif"


def _x(start: datetime.date, day: datetime.date) -> float:
    days = (day - start).days
    span = (_add_months(start, _MONTHS) - start).days
    return _LABEL_W + _PLOT_W * min(max(days / span, 0.0), 1.0)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def months_between(start: datetime.date, last_day: datetime.date) -> str:
    """'6个月' when the window is whole months (ends the day before the same day N months on)."""
    end = last_day + datetime.timedelta(days=1)
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and _add_months(start, months) == end:
        return f"{months}个月"
    return f"{(last_day - start).days + 1}天"


def describe(v: Validity) -> str:
    """The row's words, also used outside the picture (tables, alt text)."""
    if v.error:
        return f"无：政策未能给出有效期（{v.error}）"
    if v.end is None:
        return "长期有效（不设截止日）"
    return f"{months_between(v.start, v.end)}：{v.start.isoformat()} 至 {v.end.isoformat()}（含）"


def timeline(rows: list[tuple[str, Validity]], title: str) -> str:
    """One SVG: `rows` of (label, validity), all starting on the same day."""
    if not rows:
        return ""
    start = rows[0][1].start
    height = _TOP + _ROW_H * len(rows) + 26
    width = _LABEL_W + _PLOT_W + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="yidi-timeline" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%" style="max-width:{width}px" font-family="{_FONT}" font-size="13">',
           f"<title>{escape(title)}</title>"]
    # axis: a tick every 6 months
    axis_y = _TOP + _ROW_H * len(rows) + 4
    out.append(f'<line x1="{_LABEL_W}" y1="{axis_y}" x2="{_LABEL_W + _PLOT_W}" y2="{axis_y}" stroke="#888"/>')
    for m in range(0, _MONTHS + 1, 6):
        x = _x(start, _add_months(start, m))
        out.append(f'<line x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#ddd"/>')
        label = start.isoformat() if m == 0 else f"+{m}个月"
        out.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" fill="#555" font-size="11">{escape(label)}</text>')
    out.append(f'<text x="{_LABEL_W}" y="16" fill="#333" font-weight="bold">{escape(title)}</text>')
    for i, (label, v) in enumerate(rows):
        y = _TOP + i * _ROW_H
        mid = y + _ROW_H / 2
        out.append(f'<text x="{_LABEL_W - 8}" y="{mid + 4:.1f}" text-anchor="end" fill="#222">{escape(label)}</text>')
        if v.error:
            out.append(f'<rect x="{_LABEL_W}" y="{y + 7}" width="{_PLOT_W}" height="{_ROW_H - 14}" fill="none" '
                       f'stroke="#bbb" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{_LABEL_W + 8}" y="{mid + 4:.1f}" fill="#777">无（政策未给出有效期）</text>')
            continue
        x0 = _x(start, v.start)
        if v.end is None:
            x1 = _LABEL_W + _PLOT_W
            out.append(f'<rect x="{x0:.1f}" y="{y + 7}" width="{x1 - x0 - 10:.1f}" height="{_ROW_H - 14}" fill="#2e7d32" opacity="0.8"/>')
            out.append(f'<path d="M{x1 - 12:.1f},{y + 3} L{x1:.1f},{mid:.1f} L{x1 - 12:.1f},{y + _ROW_H - 3} Z" fill="#2e7d32"/>')
            out.append(f'<text x="{x0 + 8:.1f}" y="{mid + 4:.1f}" fill="#fff">长期有效</text>')
            continue
        x1 = _x(start, v.end + datetime.timedelta(days=1))
        out.append(f'<rect x="{x0:.1f}" y="{y + 7}" width="{max(x1 - x0, 2):.1f}" height="{_ROW_H - 14}" fill="#1565c0" opacity="0.85"/>')
        words = f"{months_between(v.start, v.end)}，至 {v.end.isoformat()}"
        out.append(f'<text x="{x1 + 6:.1f}" y="{mid + 4:.1f}" fill="#1565c0">{escape(words)}</text>')
    out.append("</svg>")
    return "".join(out)
