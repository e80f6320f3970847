# Copyright (c) mmreid_video contributors. All rights reserved.
"""The progress display of the tools: one line in a terminal, whole lines
in a log file."""
import sys
import time
from typing import Optional, TextIO


class Progress:
    """Items done / total, rate and ETA of a long loop.

    In a terminal the line is rewritten in place (``'\\r'``). Anywhere else
    (a log file, a pipe, a job scheduler's output) a whole line is printed
    at most every ``interval_s`` seconds and once at the end: rewriting in
    place there leaves one line of every update, thousands of characters
    long.

    Args:
        total (int): Items to do.
        unit (str): What an item is, e.g. ``'tracklets'``. Defaults to
            'items'.
        show (bool): Print at all (e.g. only on rank 0). Defaults to True.
        stream (TextIO, optional): Where to print. Defaults to None
            (``sys.stdout``).
        interval_s (float): Seconds between lines when ``stream`` is not a
            terminal. Defaults to 30.

    Examples:
        >>> progress = Progress(4, 'tracklets')
        >>> for batch in ([1, 2], [3, 4]):
        ...     progress(len(batch))
        >>> progress.close()
    """

    def __init__(self,
                 total: int,
                 unit: str = 'items',
                 show: bool = True,
                 stream: Optional[TextIO] = None,
                 interval_s: float = 30.0) -> None:
        self.total, self.unit, self.show = total, unit, show
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, 'isatty', None)
        self.in_place = bool(isatty and isatty())
        self.interval_s = interval_s
        self.done = 0
        self.start = self._last = time.perf_counter()
        self._open_line = False

    def line(self, now: Optional[float] = None) -> str:
        """The state at ``now`` (``time.perf_counter()``; default: now),
        e.g. ``'[30/100] 12.5 tracklets/s, elapsed 2s, ETA 6s'``."""
        elapsed = (time.perf_counter() if now is None else now) - self.start
        rate = self.done / max(elapsed, 1e-9)
        eta = (self.total - self.done) / max(rate, 1e-9)
        return (f'[{self.done}/{self.total}] {rate:.1f} {self.unit}/s, '
                f'elapsed {elapsed:.0f}s, ETA {eta:.0f}s')

    def __call__(self, num: int) -> None:
        """Count ``num`` more items done and show the state when due."""
        self.done += num
        if not self.show:
            return
        now = time.perf_counter()
        if self.in_place:
            print('\r' + self.line(now), end='', file=self.stream, flush=True)
            self._open_line = True
        elif self.done >= self.total or now - self._last >= self.interval_s:
            print(self.line(now), file=self.stream, flush=True)
            self._last = now

    def close(self) -> None:
        """End the line rewritten in place, so that what follows starts a
        line of its own."""
        if self._open_line:
            print(file=self.stream, flush=True)
            self._open_line = False
