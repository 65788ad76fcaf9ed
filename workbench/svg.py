"""A few SVG primitives, written as text: what the pictures need without a plotting library.

The pictures (``workbench.pictures``) are boxes, arrows, bars, axes and labels; writing
them directly keeps a base install able to draw every one (no matplotlib, numpy or
fonts to install), and the output is deterministic text a test can read.  Text widths
are estimated from the character count (monospace: 0.6 em per character), which is
what the layouts need to leave room for labels.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"


def text_width(s: str, size: float, mono: bool = True) -> float:
    """Estimated width of ``s`` in pixels at font size ``size``."""
    return len(s) * size * (0.6 if mono else 0.56)


def _attr(v) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return escape(str(v), {'"': "&quot;"})


class Canvas:
    """Collects SVG elements; ``svg()`` wraps them in a document of the given size."""

    def __init__(self, width: float, height: float):
        self.width = width
        self.height = height
        self.items: list[str] = []
        self.markers: dict[str, str] = {}

    def _el(self, tag: str, body: str | None = None, **attrs) -> None:
        a = " ".join(f'{k.rstrip("_").replace("_", "-")}="{_attr(v)}"'
                     for k, v in attrs.items() if v is not None)
        self.items.append(f"<{tag} {a}/>" if body is None else f"<{tag} {a}>{body}</{tag}>")

    def rect(self, x, y, w, h, fill="white", stroke="#444", stroke_width=1.0, rx=None,
             title: str | None = None) -> None:
        body = f"<title>{escape(title)}</title>" if title else None
        self._el("rect", body, x=float(x), y=float(y), width=float(max(w, 0)),
                 height=float(max(h, 0)), rx=rx, fill=fill,
                 stroke=stroke if stroke else "none", stroke_width=stroke_width if stroke
                 else None)

    def line(self, x1, y1, x2, y2, stroke="#444", width=1.0, dash: str | None = None,
             arrow: bool = False) -> None:
        self._el("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2),
                 stroke=stroke, stroke_width=width, stroke_dasharray=dash,
                 marker_end=f"url(#{self._marker(stroke)})" if arrow else None)

    def path(self, d: str, stroke="#444", width=1.0, dash: str | None = None,
             arrow: bool = False, fill="none") -> None:
        self._el("path", d=d, fill=fill, stroke=stroke, stroke_width=width,
                 stroke_dasharray=dash,
                 marker_end=f"url(#{self._marker(stroke)})" if arrow else None)

    def circle(self, cx, cy, r, fill, stroke="#333") -> None:
        self._el("circle", cx=float(cx), cy=float(cy), r=float(r), fill=fill, stroke=stroke)

    def text(self, x, y, s: str, size: float = 11, anchor: str = "start", mono: bool = True,
             weight: str | None = None, fill: str = "#222", rotate: float | None = None,
             baseline: str = "middle") -> None:
        """One line, or several (``\\n``) stacked around ``y``."""
        lines = s.split("\n")
        if len(lines) == 1:
            body = escape(s)
            y0 = y
        else:
            step = size * 1.25
            y0 = y - step * (len(lines) - 1) / 2
            body = "".join(f'<tspan x="{_attr(float(x))}" y="{_attr(y0 + k * step)}">'
                           f"{escape(t)}</tspan>" for k, t in enumerate(lines))
        self._el("text", body, x=float(x), y=float(y0), font_size=size,
                 font_family=MONO if mono else SANS, text_anchor=anchor,
                 dominant_baseline=baseline, font_weight=weight, fill=fill,
                 transform=f"rotate({rotate:g} {x:.2f} {y:.2f})" if rotate else None)

    def _marker(self, color: str) -> str:
        mid = "wb-arrow-" + color.lstrip("#")
        self.markers[mid] = (
            f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="{color}"/></marker>')
        return mid

    def svg(self) -> str:
        w, h = math.ceil(self.width), math.ceil(self.height)
        defs = ("<defs>" + "".join(self.markers.values()) + "</defs>") if self.markers else ""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                f'viewBox="0 0 {w} {h}">'
                f'<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>'
                + defs + "".join(self.items) + "</svg>\n")


# -- axes -----------------------------------------------------------------------------

def nice_ticks(hi: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 5 x 10^k) up to at least ``hi``."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = math.ceil(hi / step - 1e-9)
    return [k * step for k in range(n + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten from below ``lo`` to above ``hi`` (both > 0); strictly below ``lo``
    when it is a power of ten itself, so its bar has a length."""
    a = math.floor(math.log10(lo) - 1e-9)
    b = max(a + 1, math.ceil(math.log10(hi)))
    return [10.0 ** k for k in range(a, b + 1)]


def fmt_tick(v: float) -> str:
    """A short axis label: 0, 0.05, 2.5, 120, 40k, 1.5M."""
    if v == 0:
        return "0"
    a = abs(v)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= div:
            return f"{v / div:.3g}{unit}"
    return f"{v:.3g}"
