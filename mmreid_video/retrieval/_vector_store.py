# Copyright (c) mmreid_video contributors. All rights reserved.
"""Append-only storage of normalised descriptors, in memory or on disk."""
import tempfile
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np


class VectorStore:
    """float32 (N, D) rows kept as parts: arrays in memory, memory maps of
    saved index files, and (on disk) one temporary file of appended rows.

    Parts are never copied into one another: a merged store lists its
    shards' parts, and rows added to a loaded index go to a part of their
    own. On disk, rows are appended to an anonymous temporary file
    (unlinked at once, so nothing is left behind by a crash) and read
    through a read-only memory map: only the pages a search touches stay in
    memory. Every read of the rows first calls the ``guards`` of the mapped
    files (e.g. :meth:`IndexFile.check_unchanged`: a file rewritten in place
    is refused before its pages are read).

    Args:
        dim (int): Row length D.
        on_disk (bool): Keep appended rows in a memory-mapped file.
        folder (str, optional): Folder of the temporary file. Defaults to
            None (the system's temporary folder).
        parts (Sequence[np.ndarray]): Initial rows, e.g. memory-mapped from
            a saved index (never written to). Defaults to ().
        guards (Sequence[Callable[[], None]]): Checks that raise when a
            mapped part can no longer be read. Defaults to ().
    """

    def __init__(
        self,
        dim: int,
        on_disk: bool,
        folder: Optional[str] = None,
        parts: Sequence[np.ndarray] = (),
        guards: Sequence[Callable[[], None]] = ()
    ) -> None:
        self.dim = dim
        self.guards = list(guards)
        self.on_disk = on_disk
        self.folder = folder
        self._parts: List[np.ndarray] = [p for p in parts if len(p)]
        self._file = None
        self._file_rows = 0
        self._file_part: Optional[np.ndarray] = None
        self._rows = sum(len(p) for p in self._parts)
        self._offsets: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self._rows

    def append(self, rows: np.ndarray) -> None:
        """Append float32 (n, D) rows."""
        if not len(rows):
            return
        if self.on_disk:
            if self._file is None:
                self._file = tempfile.TemporaryFile(dir=self.folder)
            for start in range(0, len(rows), 1 << 16):
                block = rows[start:start + (1 << 16)]
                self._file.write(np.ascontiguousarray(block).tobytes())
            self._file.flush()
            self._file_rows += len(rows)
            self._file_part = None
        else:
            self._parts.append(rows)
        self._rows += len(rows)
        self._offsets = None

    @property
    def parts(self) -> List[np.ndarray]:
        """The rows as consecutive arrays (consecutive in-memory parts are
        joined on first read, so many small additions cost no more)."""
        for guard in self.guards:
            guard()
        joined: List[np.ndarray] = []
        run: List[np.ndarray] = []
        for part in self._parts + [None]:
            if part is None or isinstance(part, np.memmap):
                if run:
                    joined.append(
                        np.concatenate(run) if len(run) > 1 else run[0])
                    run = []
                if part is not None:
                    joined.append(part)
            else:
                run.append(part)
        self._parts = joined
        if self._file_rows and self._file_part is None:
            self._file_part = np.memmap(
                self._file, np.float32, 'r', shape=(self._file_rows, self.dim))
        return joined + ([self._file_part] if self._file_rows else [])

    def joined(self) -> np.ndarray:
        """All rows as one array, read into memory once (in-memory stores,
        whose parts may include maps of a loaded file)."""
        if self.on_disk:
            raise ValueError('joined() is for stores kept in memory')
        parts = self.parts
        if len(parts) != 1:
            self._parts = [
                np.concatenate(parts) if parts else np.empty(
                    (0, self.dim), np.float32)
            ]
            self._offsets = None
            self.guards = []  # every row is in memory now
        return self._parts[0]

    @property
    def nbytes(self) -> int:
        """Bytes of all rows (in memory or mapped)."""
        return self._rows * self.dim * 4

    def blocks(self, size: int) -> Iterator[Tuple[int, np.ndarray]]:
        """Consecutive blocks of at most ``size`` rows.

        Yields:
            tuple[int, np.ndarray]: The first row and the block.
        """
        start = 0
        for part in self.parts:
            for first in range(0, len(part), size):
                yield start + first, part[first:first + size]
            start += len(part)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows of the given (1-D) row numbers, as one array."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0][rows]
        if self._offsets is None:
            self._offsets = np.cumsum([0] + [len(p) for p in parts])
        which = np.searchsorted(self._offsets, rows, side='right') - 1
        out = np.empty((len(rows), self.dim), np.float32)
        for i in np.unique(which):
            sel = which == i
            out[sel] = parts[i][rows[sel] - self._offsets[i]]
        return out
