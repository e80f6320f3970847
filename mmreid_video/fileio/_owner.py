# Copyright (c) mmreid_video contributors. All rights reserved.
"""Who wrote a temporary file or folder, and whether that writer is gone.

Temporary names carry ``<host>-<pid>`` of their writer, so that a later
process can tell the leftovers of a killed writer (removable) from the work
of a live one (never touched).
"""
import hashlib
import os
import os.path as osp
import socket
import time

# A temporary file of an unknown writer (another host, or no owner in its
# name) is taken for a leftover once unmodified this long: a live writer
# appends to it all the time.
STALE_AFTER_S = 3600
# ``<host>-<pid>`` in a temporary name.
OWNER_PATTERN = r'([0-9a-f]{8})-(\d+)'


def host_tag() -> str:
    """A short tag of this machine (pids mean nothing on another host)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag() -> str:
    """``<host>-<pid>`` of this process."""
    return f'{host_tag()}-{os.getpid()}'


def process_gone(host: str, pid: str) -> bool:
    """Whether the writer named by a host tag and pid is dead (False when
    unknown: another host, or another user's process)."""
    if host != host_tag():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def untouched_for(path: str, seconds: float = STALE_AFTER_S) -> bool:
    """Whether ``path`` was not modified for ``seconds``."""
    try:
        return time.time() - osp.getmtime(path) > seconds
    except OSError:  # removed meanwhile
        return False
