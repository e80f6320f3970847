# Copyright (c) mmreid_video contributors. All rights reserved.
"""File I/O shared by every writer of the package.

- :mod:`.atomic`: :func:`atomic_write` and :func:`atomic_output` (whole
  file or nothing, unique temporary names, the path named when the disk is
  full) and :func:`remove_stale_temps` (the leftovers of killed writers).
- :mod:`.regular`: :func:`check_regular_file` (no read of a named pipe or
  a device that waits forever).
- :mod:`.publish`: :func:`publish_folder` (a generated folder whole or
  not at all, old content replaced only as its owner says).
"""
from .atomic import atomic_output, atomic_write, remove_stale_temps
from .publish import is_empty_folder, publish_folder, remove_stale_siblings
from .regular import check_regular_file

__all__ = [
    'atomic_output', 'atomic_write', 'remove_stale_temps', 'publish_folder',
    'is_empty_folder', 'remove_stale_siblings', 'check_regular_file'
]
