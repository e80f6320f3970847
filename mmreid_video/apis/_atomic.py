"""Write a file so that it appears whole or not at all."""
import os
import os.path as osp
import uuid
from typing import BinaryIO, Callable


def atomic_save(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, sync it and
    rename it over ``path``; on any error the temporary file is removed and
    ``path`` is untouched.

    Args:
        path (str): Destination; missing folders are created.
        write (Callable[[BinaryIO], None]): Writes the content.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{uuid.uuid4().hex}.tmp')
    try:
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
