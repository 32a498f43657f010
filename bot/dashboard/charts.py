"""Charts drawn on the server as SVG with matplotlib (its object API, no pyplot: no global figure state,
nothing from a CDN). Text stays text in the SVG, escaped by matplotlib, and the pages show the charts as
<img>, where an SVG can run nothing. One chart at a time: matplotlib's font cache is shared."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

_LOCK = threading.Lock()
_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text as <text>, searchable and small
    "svg.hashsalt": "headstrt",  # stable ids: the same data draws the same file
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8a94a6",
    "axes.labelcolor": "#1f2933",
    "xtick.color": "#52606d",
    "ytick.color": "#52606d",
}
BLUE, GREEN, GREY = "#3366cc", "#2f9e6b", "#c3cad5"
MAX_BARS = 25
LABEL_MAX = 28


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def _svg(draw: Callable[[Figure], None]) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, 3.2), layout="constrained")
        draw(fig)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        return buffer.getvalue()


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#52606d")
    ax.set_xticks([])
    ax.set_yticks([])


def sessions_per_week(weeks: Sequence[str], counts: Sequence[int], current: int) -> str:
    """Bars per week (labels in the viewer's zone); weeks from `current` on are still ahead (lighter)."""
    def draw(fig: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = fig.subplots()
        ax.set_title("Sessions per week", loc="left", fontsize=11)
        colors = [BLUE if i < current else "#8fb0e8" for i in range(len(weeks))]
        ax.bar(range(len(weeks)), counts, color=colors)
        ax.set_xticks(range(len(weeks)), weeks, rotation=45, ha="right", fontsize=8)
        locator = ax.yaxis.get_major_locator()
        assert isinstance(locator, MaxNLocator)  # matplotlib's default AutoLocator is one
        locator.set_params(integer=True)
        ax.set_ylim(0, max(1, *counts) * 1.1)
        ax.set_ylabel("meetings")
    return _svg(draw)


def credits_by_company(names: Sequence[str], allocated: Sequence[float], used: Sequence[float]) -> str:
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.set_title("Credits used against allocated, per company", loc="left", fontsize=11)
        if not names:
            _empty(ax, "No companies yet")
            return
        shown = list(range(min(len(names), MAX_BARS)))
        ax.barh([i + 0.2 for i in shown], [allocated[i] for i in shown], height=0.4, color=GREY, label="allocated")
        ax.barh([i - 0.2 for i in shown], [used[i] for i in shown], height=0.4, color=GREEN, label="used")
        ax.set_yticks(shown, [_short(names[i]) for i in shown])
        ax.invert_yaxis()
        ax.set_xlabel("credits")
        ax.legend(loc="lower right", frameon=False)
    return _svg(draw)


def utilisation(names: Sequence[str], shares: Sequence[float]) -> str:
    """Share of each expert's open hours booked, in percent."""
    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        ax.set_title("Expert utilisation, last 28 days (share of open hours booked)", loc="left", fontsize=11)
        if not names:
            _empty(ax, "No experts yet")
            return
        shown = list(range(min(len(names), MAX_BARS)))
        ax.barh(shown, [shares[i] * 100 for i in shown], color=BLUE)
        ax.set_yticks(shown, [_short(names[i]) for i in shown])
        ax.invert_yaxis()
        ax.set_xlim(0, max(100.0, *(shares[i] * 100 for i in shown)))
        ax.set_xlabel("% of open hours")
    return _svg(draw)
