"""CPU time spent by process trees, to turn a benchmark's rate into a cost per item.

A 2-core machine has 2 CPU-seconds a second to give: when a run keeps both cores busy, its rate
is 2 / (CPU-seconds per item, all processes together), and the split tells which process to
make cheaper. Linux /proc only.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _times(pid: int) -> tuple[float, float]:
    """(own user+system seconds, reaped children's user+system seconds); zeros once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0.0
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces
    utime, stime, cutime, cstime = (int(v) / _TICKS for v in fields[11:15])
    return utime + stime, cutime + cstime


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the tree under `pid`: the live processes, plus the root's
    children that have ended (a PostgreSQL backend that closed, a gunicorn worker replaced),
    which the kernel adds to the root when it reaps them. Take the difference of two calls."""
    pids = tree(pid)
    total = sum(_times(p)[0] for p in pids)
    return total + _times(pid)[1]


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent on anything but idling and waiting, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / _TICKS
