# Copyright (c) mmreid_video contributors. All rights reserved.
"""Memory of a process and its children (dataloader workers), from /proc.

Forked dataloader workers share most pages with the main process; RSS
counts a shared page once per process, PSS splits it between the processes
that share it, so the PSS of a process and its workers adds up to what
they occupy together.
"""
import os
import threading
from typing import List, Optional


def pss_mb(pid: int) -> float:
    """Proportional set size of a process, in MB (0 if it is gone or the
    OS has no ``/proc/<pid>/smaps_rollup``).

    Args:
        pid (int): The process.

    Returns:
        float: The PSS in MB.
    """
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child_pids(pid: int) -> List[int]:
    """Direct children of ``pid`` (e.g. dataloader workers), from /proc.

    Args:
        pid (int): The parent.

    Returns:
        list[int]: The children's pids.
    """
    out = []
    for name in os.listdir('/proc') if os.path.isdir('/proc') else []:
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as f:
                # The ppid is the 2nd field after the parenthesised name.
                if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                    out.append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return out


class MemorySampler:
    """Peak PSS of this process plus its children, sampled by a thread.

    :meth:`start` and :meth:`stop` may alternate any number of times (e.g.
    a train and a test run); :attr:`peak_mb` is the peak over all of them.

    Args:
        interval (float): Seconds between samples. Defaults to 1.
    """

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self.available = os.path.exists('/proc/self/smaps_rollup')
        self._stop_event = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop_event.is_set():
            total = pss_mb(pid) + sum(map(pss_mb, child_pids(pid)))
            self.peak_mb = max(self.peak_mb, total)
            self._stop_event.wait(self.interval)

    def start(self) -> None:
        """Start sampling (no-op while sampling or without /proc)."""
        if not self.available or self._thread is not None:
            return
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> Optional[float]:
        """Stop sampling.

        Returns:
            float | None: The peak so far in MB (None without /proc).
        """
        if self._thread is not None:
            self._stop_event.set()
            self._thread.join()
            self._thread = None
        return round(self.peak_mb, 1) if self.available else None
