"""Append-only storage of normalised descriptors, in memory or on disk."""
import tempfile
from typing import List, Optional

import numpy as np


class VectorStore:
    """float32 (N, D) rows kept in memory or in a memory-mapped file.

    On disk, rows are appended to an anonymous temporary file (unlinked at
    once, so nothing is left behind by a crash) and read through a
    read-only memory map: only the pages a search touches stay in memory.

    Args:
        dim (int): Row length D.
        on_disk (bool): Keep rows in a memory-mapped file.
        folder (str, optional): Folder of the temporary file. Defaults to
            None (the system's temporary folder).
        base (np.ndarray, optional): Initial rows, e.g. memory-mapped from
            a saved index (never written to). Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 on_disk: bool,
                 folder: Optional[str] = None,
                 base: Optional[np.ndarray] = None) -> None:
        self.dim = dim
        self.on_disk = on_disk
        self.folder = folder
        self._parts: List[np.ndarray] = [] if base is None else [base]
        self._file = None
        self._rows = 0 if base is None else len(base)
        self._cache: Optional[np.ndarray] = base

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: np.ndarray) -> None:
        """Append float32 (n, D) rows."""
        if self.on_disk:
            if self._file is None:
                self._file = tempfile.TemporaryFile(dir=self.folder)
                # Rows of a loaded file move to our own file first.
                for part in self._parts:
                    self._write(part)
                self._parts = []
            self._write(rows)
        else:
            self._parts.append(rows)
        self._rows += len(rows)
        self._cache = None

    def _write(self, rows: np.ndarray) -> None:
        """Append rows to the file a block at a time."""
        for start in range(0, len(rows), 1 << 16):
            self._file.write(
                np.ascontiguousarray(rows[start:start + (1 << 16)]).tobytes())
        self._file.flush()

    @property
    def array(self) -> np.ndarray:
        """All rows as one (N, D) array (a memory map on disk)."""
        if self._cache is None:
            if self._rows == 0:
                self._cache = np.empty((0, self.dim), np.float32)
            elif self._file is not None:
                self._cache = np.memmap(
                    self._file, np.float32, 'r', shape=(self._rows, self.dim))
            else:
                self._cache = np.concatenate(self._parts) if len(
                    self._parts) > 1 else self._parts[0]
                self._parts = [self._cache]
        return self._cache
