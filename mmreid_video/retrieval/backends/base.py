# Copyright (c) mmreid_video contributors. All rights reserved.
"""What a search engine under :class:`~mmreid_video.retrieval.GalleryIndex`
implements.

``GalleryIndex`` checks every input (:mod:`mmreid_video.utils.arrays`),
L2-normalises descriptors and checks that the query labels name a rule the
gallery can apply; a backend gets only checked data:

- rows: C-contiguous float32 (n, D) unit vectors (an all-zero row stays
  zero); labels: int64 (n, ) arrays or None, the same names on every add;
- gallery rows are numbered 0, 1, ... in the order they were added
  (a merge numbers shard after shard); ``search`` returns those numbers.
  A ``keyed`` backend (Milvus) also takes the numbers of added rows
  (``ids``: distinct, >= 0, not yet held) and deletes rows, so its rows
  are the ascending ``row_numbers()``, not always 0 .. N-1;
- exclusion: query pids *and* camids leave out gallery rows with the
  query's pid and camera (the re-ID rule); camids alone leave out the
  query's camera; no labels leave out nothing. The engine applies the rule
  while it searches (``rank_gallery`` labels for faiss, a filter
  expression on scalar fields for Milvus), so a list is never short
  because excluded rows took its places;
- results: (Q, k) int64 rows best first, ties in row order, and float32
  distances ``1 - <q, g>``; lists with fewer than k rows left after
  exclusion are padded with -1 / inf; ``1 <= k <= ntotal``;
- ``provenance`` (a dict or None, set by ``GalleryIndex``) is persisted by
  ``save`` and restored by ``load``; ``GalleryIndex.merge`` checks and
  sets it on the result.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

# Per-row labels a gallery may hold.
LABEL_NAMES = ('pids', 'camids')
Pair = Tuple[np.ndarray, np.ndarray]
# Label arrays by name (``LABEL_NAMES``), None where not given.
Labels = Dict[str, Optional[np.ndarray]]


def check_mode_and_dim(mode: str, modes: Sequence[str], dim: int) -> None:
    """Refuse a mode the backend does not have, or a dimension < 1."""
    if mode not in modes:
        raise ValueError(f'mode must be one of {tuple(modes)}, got '
                         f'{mode!r}')
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f'dim must be an integer >= 1, got {dim!r}')


class GalleryBackend(metaclass=ABCMeta):
    """The engine of a :class:`~mmreid_video.retrieval.GalleryIndex`.

    Args:
        dim (int): Descriptor length D.
        mode (str): ``'exact'`` or ``'compressed'`` (what each means is the
            backend's: faiss brute force / IVF-PQ; Milvus FLAT / an ANN
            index type).
        **params: The backend's parameters for that mode.
    """
    #: The name ``GalleryIndex(..., backend=name)`` selects.
    name = ''
    #: Whether ``add`` takes row numbers (``ids``).
    keyed = False

    def __init__(self, dim: int, mode: str, **params) -> None:
        self.dim = dim
        self.mode = mode
        self.params = params
        # What made the descriptors (mmreid_video.utils.provenance), kept
        # with the gallery where it persists (faiss: the file's header;
        # Milvus: the collection's metadata); None when unknown.
        self.provenance: Optional[dict] = None

    @property
    @abstractmethod
    def ntotal(self) -> int:
        """Number of gallery rows."""

    @property
    @abstractmethod
    def label_names(self) -> Tuple[str, ...]:
        """The labels the gallery holds (a subset of ``LABEL_NAMES``)."""

    @abstractmethod
    def labels(self, name: str) -> Optional[np.ndarray]:
        """(N, ) int64 labels of every row (in ``row_numbers`` order),
        or None when not held."""

    def row_numbers(self) -> np.ndarray:
        """(N, ) int64 numbers of the rows held, ascending."""
        return np.arange(self.ntotal, dtype=np.int64)

    @abstractmethod
    def add(self,
            rows: np.ndarray,
            labels: Labels,
            ids: Optional[np.ndarray] = None) -> None:
        """Append rows with their labels, numbered ``ids`` (``keyed``
        backends) or from the next free number on."""

    @abstractmethod
    def search(self, query: np.ndarray, k: int,
               query_pids: Optional[np.ndarray],
               query_camids: Optional[np.ndarray]) -> Pair:
        """Top-k rows and distances per query, applying the exclusion rule
        that the query labels name (see the module docstring)."""

    @abstractmethod
    def save(self, path: Optional[str]) -> None:
        """Persist the gallery (faiss: one file written atomically;
        Milvus: flush the collection where it lives, ``path`` None)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str, **kwargs) -> 'GalleryBackend':
        """Re-open what :meth:`save` persisted; errors name ``path``."""

    @classmethod
    def merge(cls, shards: Sequence['GalleryBackend'],
              **kwargs) -> 'GalleryBackend':
        """Join shards of this backend into a new one, rows in order."""
        raise NotImplementedError(f'The {cls.name} backend cannot merge '
                                  'galleries')

    def remove(self, rows: np.ndarray) -> None:
        """Delete gallery rows by number (engines that can)."""
        raise NotImplementedError(f'The {self.name} backend cannot remove '
                                  'rows')

    def train(self, sample: Optional[np.ndarray] = None) -> None:
        """Train what the mode needs (engines and modes that train)."""
        raise ValueError(f'The {self.name} backend\'s {self.mode} mode is '
                         'not trained')

    def memory_bytes(self) -> int:
        """Bytes the gallery holds in this process's memory."""
        raise NotImplementedError(f'The {self.name} backend does not report '
                                  'its memory')

    def close(self) -> None:
        """Release what the backend holds outside this object (Milvus:
        its connection, and an embedded engine's lock on its folder)."""

    @property
    def location(self) -> Optional[str]:
        """Where a gallery kept outside this process lives (a Milvus
        collection and its URI), named by input errors; None for one in
        this process."""
        return None

    @property
    def source(self) -> str:
        """Where the gallery was loaded from, for error messages."""
        return getattr(self, '_source', None) or 'an index in memory'
