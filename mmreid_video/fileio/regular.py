# Copyright (c) mmreid_video contributors. All rights reserved.
"""Refuse, before opening, inputs whose read may wait forever.

Opening a named pipe blocks until a writer appears, and a character device
(``/dev/zero``, a terminal) never ends: a reader that takes such a path for
a file waits forever. The readers of the package's own artefacts
(extraction meta data and shards, gallery index files, metric dumps) check
their path with :func:`check_regular_file` first.
"""
import os
import stat
from pathlib import Path
from typing import Union

_KINDS = ((stat.S_ISDIR, 'a folder'), (stat.S_ISFIFO, 'a named pipe'),
          (stat.S_ISCHR, 'a character device'),
          (stat.S_ISBLK, 'a block device'), (stat.S_ISSOCK, 'a socket'))


def check_regular_file(path: Union[str, Path]) -> None:
    """Raise if ``path`` exists and is not a regular file (or a link to
    one); a missing path passes, for the caller's open to report.

    Args:
        path (str | Path): The file about to be read.

    Raises:
        ValueError: ``path`` is a folder, a named pipe, a device or a
            socket; the message names it and what it is.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), 'not a file')
    raise ValueError(f'{path} is {kind}, not a regular file: reading it '
                     'could wait forever or never end. Pass the file '
                     'itself.')
