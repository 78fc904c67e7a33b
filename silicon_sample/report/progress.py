"""Progress of a run that a person can read: a bar per model, counts by status, rate, ETA, cost so far.

:class:`RunProgress` is a progress callback for :func:`silicon_sample.run` and :func:`~silicon_sample.resume`
(called after each stored answer with a :class:`~silicon_sample.runner.execute.Progress`). It shows,
per model:

- the cells stored of those to answer, and how many were answered, refused, invalid and failed;
- **the rate over the recent window** (the last :data:`WINDOW_S` seconds of stored answers), not since the
  start, so loading a model or a slow first call does not distort it; the **ETA** is the cells left at
  that rate, shown once :data:`MIN_FOR_ETA` answers are in the window;
- **cost so far** in US dollars where a price table names the model (tokens × price per million).

Three displays: ``rich`` (live bars, in a terminal or a notebook), ``plain`` (one line per model at most
every ``interval`` seconds, for logs and pipes), ``quiet`` (nothing). ``auto`` picks rich on a terminal or in
a notebook and plain otherwise. Use it as a context manager around the run (the bars are drawn and closed).
"""

from __future__ import annotations

import collections
import sys
import time
from dataclasses import dataclass, field

from ..answers import STATUSES
from ..errors import SpecError

WINDOW_S = 30.0
MIN_FOR_ETA = 5


@dataclass
class ModelProgress:
    """What has been seen of one model's stream."""

    total: int
    done: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    recent: collections.deque = field(default_factory=collections.deque)     # (monotonic time, done)
    cost_usd: float = 0.0
    priced: bool = False

    def add(self, done: int, status: str, now: float, cost: float | None) -> None:
        self.done = done
        self.counts[status] = self.counts.get(status, 0) + 1
        self.recent.append((now, done))
        while self.recent and now - self.recent[0][0] > WINDOW_S:
            self.recent.popleft()
        if cost is not None:
            self.cost_usd += cost
            self.priced = True

    def rate(self) -> float | None:
        """Cells per second over the recent window; None until two answers are in it."""
        if len(self.recent) < 2:
            return None
        (t0, d0), (t1, d1) = self.recent[0], self.recent[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def eta_s(self) -> float | None:
        rate = self.rate()
        if rate is None or rate <= 0 or len(self.recent) < MIN_FOR_ETA:
            return None
        return (self.total - self.done) / rate


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "ETA …"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"ETA {hours}h{rest // 60:02d}m" if hours else f"ETA {rest // 60}m{rest % 60:02d}s"


def describe(model_id: str, state: ModelProgress) -> str:
    """One plain line: ``lb: 120/500 cells (24%) — 118 answered, 2 invalid — 14.2 cells/s, ETA 0m27s``."""
    shown = [f"{state.counts[s]} {s}" for s in STATUSES if state.counts.get(s)]
    rate = state.rate()
    parts = [f"{model_id}: {state.done}/{state.total} cells ({100 * state.done / max(state.total, 1):.0f}%)",
             ", ".join(shown) or "none stored yet",
             (f"{rate:.1f} cells/s" if rate is not None else "rate …")
             + (f", {_duration(state.eta_s())}" if state.done < state.total else "")]
    if state.priced:
        parts.append(f"${state.cost_usd:.4f} so far")
    return " — ".join(parts)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and shell.get_ipython() is not None and \
            type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:       # an IPython without a shell
        return False


class RunProgress:
    """A progress callback with a display (see the module docstring). ``prices`` maps a model name (the
    study's ``model:``) to ``input_per_million`` and ``output_per_million``; ``model_names`` maps a model id
    to that name."""

    def __init__(self, display: str = "auto", *, interval: float = 15.0, prices: dict | None = None,
                 model_names: dict | None = None, stream=None):
        if display not in ("auto", "rich", "plain", "quiet"):
            raise SpecError(f"unknown progress display {display!r}", where="progress",
                            fix="use True, False, 'rich' or 'plain'")
        self.stream = stream or sys.stderr
        if display == "auto":
            display = "rich" if (getattr(self.stream, "isatty", lambda: False)() or _in_notebook()) else "plain"
        self.display, self.interval = display, interval
        self.prices, self.model_names = prices or {}, model_names or {}
        self.models: dict[str, ModelProgress] = {}
        self._printed: dict[str, float] = {}
        self._rich = None
        self._tasks: dict[str, int] = {}

    # -- context ------------------------------------------------------------------------------------
    def __enter__(self) -> RunProgress:
        if self.display == "rich":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._rich = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[detail]}"), console=Console(file=self.stream),
                                  transient=False)
            self._rich.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        elif self.display == "plain":
            for model_id, state in self.models.items():
                if self._printed.get(model_id) != -1.0:
                    self._line(model_id, state)

    # -- the callback ---------------------------------------------------------------------------------
    def _cost(self, model_id: str, p) -> float | None:
        price = self.prices.get(self.model_names.get(model_id, model_id))
        if not price:
            return None
        return ((getattr(p, "prompt_tokens", None) or 0) * price["input_per_million"]
                + (getattr(p, "completion_tokens", None) or 0) * price["output_per_million"]) / 1e6

    def __call__(self, p) -> None:
        now = time.monotonic()
        state = self.models.setdefault(p.model_id, ModelProgress(total=p.total))
        state.total = p.total
        state.add(p.done, p.last_status, now, self._cost(p.model_id, p))
        if self.display == "quiet":
            return
        if self._rich is not None:
            if p.model_id not in self._tasks:
                self._tasks[p.model_id] = self._rich.add_task(p.model_id, total=p.total, detail="")
            detail = describe(p.model_id, state).split(" — ", 1)[1]
            self._rich.update(self._tasks[p.model_id], completed=p.done, total=p.total, detail=detail)
            return
        last = self._printed.get(p.model_id)
        if last is None or now - last >= self.interval or p.done == p.total:
            self._line(p.model_id, state)
            self._printed[p.model_id] = -1.0 if p.done == p.total else now

    def _line(self, model_id: str, state: ModelProgress) -> None:
        print(f"  {describe(model_id, state)}", file=self.stream, flush=True)


__all__ = ["RunProgress", "describe"]
