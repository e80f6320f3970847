# Copyright (c) mmreid_video contributors. All rights reserved.
"""File I/O shared by every writer of the package.

- :mod:`.atomic`: :func:`atomic_write` (whole file or nothing, the
  path named when the disk is full) and :func:`remove_stale_temps` (the
  leftovers of killed writers).
- :mod:`.publish`: :func:`publish_folder` (a generated folder whole or
  not at all, old content replaced only as its owner says).
"""
from .atomic import atomic_write, remove_stale_temps
from .publish import is_empty_folder, publish_folder, remove_stale_siblings

__all__ = [
    'atomic_write', 'remove_stale_temps', 'publish_folder', 'is_empty_folder',
    'remove_stale_siblings'
]
