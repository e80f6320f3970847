# Copyright (c) mmreid_video contributors. All rights reserved.
"""Folder listings without the files that operating systems add.

Datasets copied from Windows or macOS carry files nobody put there on
purpose: thumbnail caches (``Thumbs.db``), folder settings
(``desktop.ini``), Finder data (``.DS_Store``) and AppleDouble resource
forks (``._0001.jpg``, which even end in ``.jpg``). Readers that list
folders skip them, and only them: any other unexpected file is still an
error naming it. The dataset readers and the tracklet folder trees
(:mod:`.tracklet_folders`) list folders with :func:`list_visible`.
"""
import os
from typing import List

# Names (lower case) that Windows and macOS create in any folder; hidden
# names (``.*``: .DS_Store, ._* AppleDouble files, .Trashes ...) are skipped
# as a whole.
OS_FILES = frozenset({
    'thumbs.db', 'ehthumbs.db', 'ehthumbs_vista.db', 'desktop.ini', 'icon\r',
    '$recycle.bin', 'system volume information'
})


def is_os_file(name: str) -> bool:
    """Whether a folder entry is an operating system's, not the dataset's.

    Args:
        name (str): The entry's name.

    Returns:
        bool: True for hidden names and :data:`OS_FILES`.
    """
    return name.startswith('.') or name.lower() in OS_FILES


def list_visible(path: str) -> List[str]:
    """Sorted entries of a folder, without those operating systems add
    (:func:`is_os_file`).

    Args:
        path (str): The folder.

    Returns:
        list[str]: Entry names.
    """
    return sorted(n for n in os.listdir(path) if not is_os_file(n))
