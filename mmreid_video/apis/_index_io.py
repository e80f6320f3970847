"""Saving, loading and merging :class:`GalleryIndex` objects."""
from typing import Optional, Sequence

import numpy as np

from ._index_file import IndexFile, IndexFileError, write_index_file
from ._vector_store import VectorStore


class GalleryIndexIO:
    """Persistence of :class:`~mmreid_video.apis.GalleryIndex` (a mixin:
    it uses the index's store, labels and faiss index)."""

    def memory_bytes(self) -> int:
        """Bytes the index holds in memory (descriptors of the compressed
        mode are on disk and not counted)."""
        labels = sum(
            x.nbytes for x in (self.pids, self.camids) if x is not None)
        if self.mode == 'exact':
            return self._store.array.nbytes + labels
        if self._ivf is None:
            return labels
        return int(self._faiss.serialize_index(self._ivf).nbytes) + labels

    def save(self, path: str) -> None:
        """Write the index to one file, atomically (a temporary file next
        to ``path`` renamed over it when complete).

        Args:
            path (str): Destination file.
        """
        params = dict(self.params)
        params.pop('vectors_dir', None)
        meta = dict(
            mode=self.mode,
            dim=self.dim,
            num=self.ntotal,
            params=params,
            labels=sorted(self._labels),
            trained=self._ivf is not None)
        sections = [('vectors', self._store.array)]
        sections += [(name, self._label(name))
                     for name in sorted(self._labels)]
        if self._ivf is not None:
            sections.append(
                ('faiss', self._faiss.serialize_index(self._ivf).tobytes()))
        write_index_file(str(path), meta, sections)

    @classmethod
    def load(cls,
             path: str,
             verify: bool = True,
             vectors_dir: Optional[str] = None) -> 'GalleryIndexIO':
        """Read an index written by :meth:`save`.

        Descriptors are memory-mapped from the file (an exact index reads
        them into memory when more are added).

        Args:
            path (str): The file.
            verify (bool): Check every section's CRC-32 (reads the file
                once). Defaults to True.
            vectors_dir (str, optional): Temporary folder for descriptors
                added to a compressed index later. Defaults to None.

        Returns:
            GalleryIndex: The index.

        Raises:
            IndexFileError: The file is truncated, corrupt or does not
                describe a valid index; the message names it.
        """
        f = IndexFile(str(path), verify)
        meta = f.meta
        try:
            params = dict(meta['params'])
            if meta['mode'] == 'compressed':
                params['vectors_dir'] = vectors_dir
            index = cls(meta['dim'], meta['mode'], **params)
            num, labels = int(meta['num']), list(meta['labels'])
        except (KeyError, TypeError, ValueError) as err:
            raise IndexFileError(f'{f.path}: mismatched meta data ({err!r})')
        index._store = VectorStore(
            index.dim,
            index.mode == 'compressed',
            vectors_dir,
            base=f.array('vectors', (num, index.dim), '<f4', mmap=True))
        for name in labels:
            if name not in ('pids', 'camids'):
                raise IndexFileError(f'{f.path}: unknown labels {name!r}')
            index._labels[name] = [f.array(name, (num, ), '<i8')]
        if meta.get('trained'):
            try:
                ivf = index._faiss.deserialize_index(
                    np.frombuffer(f.read_bytes('faiss'), np.uint8))
            except RuntimeError as err:
                raise IndexFileError(f'{f.path}: unreadable faiss index '
                                     f'({err})') from err
            if ivf.ntotal != num or ivf.d != index.dim:
                raise IndexFileError(
                    f'{f.path}: the faiss index holds {ivf.ntotal} vectors '
                    f'of dimension {ivf.d}, expected {num} of {index.dim}')
            index._ivf = ivf
        return index

    @classmethod
    def merge(cls, indices: Sequence['GalleryIndexIO']) -> 'GalleryIndexIO':
        """Join shards into one index, rows in the given order.

        The result searches exactly like one index built by adding every
        shard's descriptors in that order. A compressed result is trained
        afresh (on first search) over all descriptors.

        Args:
            indices (Sequence[GalleryIndex]): Shards of one mode, dimension,
                parameters and labels.

        Returns:
            GalleryIndex: A new index.
        """
        if not indices or not all(isinstance(i, cls) for i in indices):
            raise TypeError('merge() needs a non-empty sequence of '
                            'GalleryIndex objects')
        first = indices[0]
        for pos, other in enumerate(indices[1:], 1):
            for attr in ('mode', 'dim', 'params'):
                if getattr(other, attr) != getattr(first, attr):
                    raise ValueError(f'Cannot merge: shard {pos} has {attr}='
                                     f'{getattr(other, attr)!r}, shard 0 has '
                                     f'{getattr(first, attr)!r}')
        merged = cls(first.dim, first.mode, **first.params)
        for shard in indices:
            if shard.ntotal:
                merged._append(
                    shard._store.array,
                    {name: shard._label(name)
                     for name in shard._labels})
        return merged
