# Copyright (c) mmreid_video contributors. All rights reserved.
"""The ``'atomic_local'`` file backend: checkpoints written whole or not at
all.

A job killed while ``torch.save`` output is being written leaves a truncated
file; with ``--resume`` that file is the one ``last_checkpoint`` points to,
so the run could not continue. Select the backend with
``backend_args=dict(backend='atomic_local')`` (done for the checkpoint hook
in ``configs/_base_/default_runtime.py``); the name is registered by
:func:`mmreid_video.checkpoint.setup_checkpoint_io`.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend

from mmreid_video.fileio import atomic_write


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` whose ``put``/``put_text`` write atomically.

    Registered as the ``'atomic_local'`` file backend; every other method
    (``get``, ``remove``, ``join_path``, ...) is the local one.

    Examples:
        >>> from mmengine.fileio import get_file_backend
        >>> backend = get_file_backend(
        ...     'work_dirs/x', backend_args=dict(backend='atomic_local'))
        >>> type(backend).__name__
        'AtomicLocalBackend'
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Atomically write bytes to ``filepath``.

        Args:
            obj (bytes): Data to be written.
            filepath (str | Path): Path to write data.
        """
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Atomically write text to ``filepath``.

        Args:
            obj (str): Data to be written.
            filepath (str | Path): Path to write data.
            encoding (str): The text encoding. Defaults to 'utf-8'.
        """
        atomic_write(obj.encode(encoding), filepath)
