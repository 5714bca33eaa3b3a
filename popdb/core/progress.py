"""A terminal progress line for long CLI work: count, rate and time left, on stderr."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

_ZIP_MAGIC = b"PK"


def estimate_rows(path: Path) -> int | None:
    """Data rows in a text file, from its line breaks (one fast pass over the bytes); None for
    a workbook, whose row count is unknown until read. An estimate: quoted cells may hold
    line breaks."""
    with path.open("rb") as f:
        if f.read(2) == _ZIP_MAGIC:
            return None
        f.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 22), b""))
    return max(lines - 1, 0)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Call it with the number of items done; it redraws at most a few times a second."""

    def __init__(
        self,
        *,
        total: int | None,
        enabled: bool,
        unit: str = "rows",
        stream: TextIO | None = None,
    ) -> None:
        self.total = total
        self.enabled = enabled
        self.unit = unit
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last_draw < 0.2:
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        line = f"{done:>12,} {self.unit}  {rate:>9,.0f} {self.unit}/s  {_duration(elapsed)}"
        if self.total:
            share = min(done / self.total, 1.0)
            filled = int(share * 30)
            left = (self.total - done) / rate if rate > 0 and done < self.total else 0
            line = (
                f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {line}  ETA {_duration(left)}"
            )
        self.stream.write("\r" + line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
