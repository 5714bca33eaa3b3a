"""Geometry of the compare page's waterfall: from the prior, each field's match weight as
a bar, to the final weight and probability. Pure: no Flask, no database."""

from __future__ import annotations

from typing import Any


def waterfall(item: dict[str, Any]) -> dict[str, Any]:
    """Bars as left offset and width in percent of the range the running sum covers."""
    steps = [("prior", None, float(item["prior_weight"]))]
    steps += [(c["comparison"], c["level"], float(c["weight"])) for c in item["comparisons"]]
    total, points = 0.0, [0.0]
    spans = []
    for name, level, weight in steps:
        start, total = total, total + weight
        spans.append((name, level, weight, start, total))
        points.append(total)
    lo, hi = min(points), max(points)
    scale = (hi - lo) or 1.0

    def pct(x: float) -> float:
        return round((x - lo) / scale * 100, 2)

    bars = [
        {"name": name, "level": level, "weight": round(weight, 2),
         "left": pct(min(start, end)), "width": max(round(abs(weight) / scale * 100, 2), 0.4),
         "sign": "pos" if weight > 0 else ("neg" if weight < 0 else "zero"),
         "running": round(end, 2)}
        for name, level, weight, start, end in spans
    ]  # fmt: skip
    return {
        "bars": bars,
        "zero": pct(0.0),
        "final": {
            "weight": round(total, 2),
            "left": pct(min(0.0, total)),
            "width": max(round(abs(total) / scale * 100, 2), 0.4),
            "probability": item["explained_probability"],
        },  # fmt: skip
    }
