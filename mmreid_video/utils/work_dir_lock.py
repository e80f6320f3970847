# Copyright (c) mmreid_video contributors. All rights reserved.
"""One training per work_dir.

Two trainings writing into one work_dir overwrite each other's checkpoints,
``last_checkpoint`` and best checkpoint, so one run's log can name weights
of the other. :func:`lock_work_dir` takes an exclusive ``fcntl.flock`` on
``<work_dir>/.train.lock`` for the life of the process; the OS releases it
when the process ends in any way (even ``kill -9``), so no stale lock is ever
left. The lock file records who holds it, for the error of a second run.
Once it holds the lock, a run removes the temporary files of saves that a
killed run left (``.epoch_3.pth.<hex>.tmp``: up to a checkpoint's size).
"""
import datetime
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

from mmreid_video.fileio import remove_stale_temps

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, runs are not guarded
    fcntl = None

LOCK_NAME = '.train.lock'
# A killed training's dataloader workers notice their parent's death within
# a few seconds and only then release the inherited lock.
_DEAD_HOLDER_WAIT_S = 15.0

# The open lock files of this process, keyed by real path; kept open (and so
# locked) until the process exits.
_HELD = {}


def _holder(fd: int) -> str:
    """What the current holder wrote into the lock file."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode('utf-8', 'replace').strip()
    return text or '(the process has not recorded itself yet)'


def _holder_is_dead_here(record: str) -> bool:
    """Whether the recorded holder is a process of this host that is gone."""
    fields = dict(
        line.split(': ', 1) for line in record.splitlines() if ': ' in line)
    if fields.get('host') != socket.gethostname():
        return False
    try:
        os.kill(int(fields.get('pid', '')), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


def lock_work_dir(work_dir: str) -> Optional[str]:
    """Take the training lock of ``work_dir`` for the rest of this process.

    Args:
        work_dir (str): The run's work directory (created if missing).

    Returns:
        str, optional: The lock file, or None where ``fcntl`` is missing.

    Raises:
        RuntimeError: Another process holds the lock; the message names the
            work_dir and that process (PID, host, start time, command).
    """
    if fcntl is None:
        return None
    os.makedirs(work_dir, exist_ok=True)
    path = osp.realpath(osp.join(work_dir, LOCK_NAME))
    if path in _HELD:
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + _DEAD_HOLDER_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            record = _holder(fd)
            if _holder_is_dead_here(record) and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            os.close(fd)
            raise RuntimeError(
                f'work_dir {osp.abspath(work_dir)} is in use by another '
                f'training:\n{record}\nTwo trainings in one work_dir '
                'overwrite each other\'s checkpoints. Wait for it to finish, '
                'stop it, or pass another --work-dir.') from None
    os.ftruncate(fd, 0)
    started = datetime.datetime.now().isoformat(timespec='seconds')
    record = (f'pid: {os.getpid()}\nhost: {socket.gethostname()}\n'
              f'started: {started}\ncommand: {" ".join(sys.argv)}\n')
    os.pwrite(fd, record.encode('utf-8'), 0)
    _HELD[path] = fd
    # Holding the lock, this process is the work_dir's only writer: a
    # temporary file there was left by a run killed mid-save.
    for stale in remove_stale_temps(work_dir, any_writer=True):
        print(
            f'Removed {stale}: a partial file of a killed run',
            file=sys.stderr)
    return path
