"""Where the server's time goes: py-spy samples of the running `wangua serve`, taken
only while a thread holds the GIL (one process runs Python on one core at a time),
summarised as inclusive shares per layer and the hottest leaf functions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

LAYERS = {
    "SQLAlchemy ORM / Core": ("sqlalchemy/",),
    "psycopg (driver, incl. waiting on PostgreSQL)": ("psycopg/", "psycopg_binary"),
    "FastAPI / Starlette / pydantic (routing, validation, serialisation)": (
        "fastapi/",
        "starlette/",
        "pydantic/",
        "pydantic_core",
    ),
    "uvicorn / httptools / asyncio (HTTP protocol, event loop)": (
        "uvicorn/",
        "httptools",
        "asyncio/",
        "uvloop",
    ),
    "anyio thread pool hand-off": ("anyio/",),
    "logging (access log)": ("logging/",),
    "wangua.identity (token → actor)": ("wangua/identity/",),
    "wangua.audit (hash chain)": ("wangua/audit/",),
    "wangua.scheduler (catch_up)": ("wangua/scheduler/",),
    "wangua.live (event append, broadcaster)": ("wangua/live/",),
    "prometheus_client (metrics)": ("prometheus_client/",),
}


RATE = 250


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path) -> str | None:
    """Sample `pid` for `seconds` into a collapsed-stack file; None when it worked,
    else why it could not."""
    spy = py_spy()
    if spy is None:
        return "py-spy is not installed (pip install py-spy)"
    command = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--gil",
        "--nonblocking",
        "--output",
        str(out),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0 or not out.exists():
        return f"py-spy failed ({done.returncode}): {(done.stderr or done.stdout)[-500:]}"
    return None


def summarise(path: Path, top: int = 20) -> dict[str, object]:
    """Inclusive share per layer (a sample counts for every layer on its stack) and
    the leaf functions with the most samples."""
    total = 0
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for layer, needles in LAYERS.items():
            if any(n in frame for frame in frames for n in needles):
                layers[layer] += count
        leaves[_short(frames[-1])] += count
    return {
        "samples": total,
        "layers": {k: v / total for k, v in layers.most_common()} if total else {},
        "leaves": [(k, v / total) for k, v in leaves.most_common(top)] if total else [],
    }


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py:12)`."""
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in frame:
            head, _, tail = frame.partition("(")
            return f"{head}({tail.split(marker, 1)[1]}"
    return frame
