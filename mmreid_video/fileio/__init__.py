# Copyright (c) mmreid_video contributors. All rights reserved.
"""File I/O shared by every writer of the package.

- :mod:`.atomic`: :func:`atomic_write` (whole file or nothing, the
  path named when the disk is full) and :func:`remove_stale_temps` (the
  leftovers of killed writers).
"""
from .atomic import atomic_write, remove_stale_temps

__all__ = ['atomic_write', 'remove_stale_temps']
