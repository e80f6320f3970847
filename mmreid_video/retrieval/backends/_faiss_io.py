# Copyright (c) mmreid_video contributors. All rights reserved.
"""Saving, loading and merging faiss galleries (functions of
:class:`~mmreid_video.retrieval.backends.faiss.FaissBackend`)."""
from typing import Optional, Sequence

import numpy as np

from mmreid_video.utils.provenance import as_provenance
from .._index_file import IndexFile, IndexFileError, write_index_file
from .._vector_store import VectorStore
from ._ivf import join, training_id
from .base import LABEL_NAMES

# Parameters of one process, not of the gallery: never saved or compared.
_LOCAL_PARAMS = ('vectors_dir', )


def _gallery_params(params: dict) -> dict:
    return {k: v for k, v in params.items() if k not in _LOCAL_PARAMS}


def index_meta(backend) -> dict:
    """The header of an index file: what it holds and how it was made.

    The one place that writes it (:func:`load` reads it), so a new field
    is added here. ``provenance``: what made the descriptors
    (:mod:`mmreid_video.utils.provenance`), None when unknown.
    """
    return dict(
        backend=backend.name,
        mode=backend.mode,
        dim=backend.dim,
        num=backend.ntotal,
        params=_gallery_params(backend.params),
        labels=list(backend.label_names),
        trained=backend.is_trained,
        training_id=backend.training_id,
        provenance=backend.provenance)


def save(backend, path: str) -> None:
    """Write a gallery to one file, atomically (a temporary file next to
    ``path`` renamed over it when complete)."""
    vectors = backend.vectors or [np.empty((0, backend.dim), np.float32)]
    sections = [('vectors', vectors)]
    sections += [(name, backend.labels(name)) for name in backend.label_names]
    if backend.is_trained:
        sections.append(
            ('faiss', backend._faiss.serialize_index(backend._ivf).tobytes()))
    write_index_file(str(path), index_meta(backend), sections)


def load(cls,
         path: str,
         verify: bool = True,
         vectors_dir: Optional[str] = None):
    """Read a gallery written by :func:`save`.

    Descriptors are memory-mapped from the file, each read guarded by
    :meth:`IndexFile.check_unchanged`; rows added later go to a part of
    their own (in memory, or a temporary file in ``vectors_dir``).

    Args:
        cls (type): The backend class.
        path (str): The file.
        verify (bool): Check every section's CRC-32 (reads the file once).
            Defaults to True.
        vectors_dir (str, optional): Temporary folder for descriptors
            added to a compressed index later. Defaults to None.

    Raises:
        IndexFileError: The file is truncated, corrupt or does not describe
            a valid gallery; the message names it.
    """
    f = IndexFile(str(path), verify)
    try:
        backend = _read(cls, f, vectors_dir)
    finally:
        f.close()
    f.check_unchanged()  # nothing changed it while it was read
    return backend


def _read(cls, f: IndexFile, vectors_dir: Optional[str]):
    """The gallery of an open index file (see :func:`load`)."""
    meta = f.meta
    if meta.get('backend', cls.name) != cls.name:
        raise IndexFileError(f'{f.path}: an index of the {meta["backend"]} '
                             f'backend, not {cls.name}')
    try:
        params = dict(meta['params'])
        if meta['mode'] == 'compressed':
            params['vectors_dir'] = vectors_dir
        backend = cls(meta['dim'], meta['mode'], **params)
        num, labels = int(meta['num']), list(meta['labels'])
    except (KeyError, TypeError, ValueError) as err:
        raise IndexFileError(f'{f.path}: mismatched meta data ({err!r})')
    backend._store = VectorStore(
        backend.dim,
        backend.mode == 'compressed',
        vectors_dir,
        parts=[f.array('vectors', (num, backend.dim), '<f4', mmap=True)],
        guards=[f.check_unchanged])
    for name in labels:
        if name not in LABEL_NAMES:
            raise IndexFileError(f'{f.path}: unknown labels {name!r}')
        backend._labels[name] = [f.array(name, (num, ), '<i8')]
    if meta.get('trained'):
        faiss = backend._faiss
        try:
            ivf = faiss.deserialize_index(
                np.frombuffer(f.read_bytes('faiss'), np.uint8))
        except RuntimeError as err:
            raise IndexFileError(f'{f.path}: unreadable faiss index '
                                 f'({err})') from err
        if ivf.ntotal != num or ivf.d != backend.dim:
            raise IndexFileError(
                f'{f.path}: the faiss index holds {ivf.ntotal} vectors '
                f'of dimension {ivf.d}, expected {num} of {backend.dim}')
        backend._ivf = ivf
        backend.training_id = meta.get('training_id') or training_id(
            faiss, ivf)
    backend.provenance = as_provenance(meta.get('provenance'), f.path)
    backend._source = f.path
    return backend


def _describe(pos: int, shard) -> str:
    return f'shard {pos} ({shard.source})'


def _check_alike(shards: Sequence) -> None:
    """Refuse shards of different modes, dimensions, parameters or
    labels, naming both."""
    first = shards[0]
    for pos, other in enumerate(shards[1:], 1):
        for attr, get in (('mode', lambda s: s.mode), ('dim', lambda s: s.dim),
                          ('params', lambda s: _gallery_params(s.params)),
                          ('labels', lambda s: s.label_names)):
            if attr == 'labels' and not (first.ntotal and other.ntotal):
                continue  # an empty shard holds no labels yet
            if get(other) != get(first):
                raise ValueError(
                    f'Cannot merge: {_describe(pos, other)} has {attr}='
                    f'{get(other)!r}, {_describe(0, first)} has '
                    f'{get(first)!r}')


def merge(cls, shards: Sequence, retrain: bool = False):
    """Join shards into one gallery, rows in the given order.

    Nothing is copied or encoded again: the result lists the shards'
    descriptor parts (memory-mapped files stay mapped), and compressed
    shards of one training (built from one trained template) have their
    encoded lists joined, so the result searches exactly like one index
    encoded with that training from all rows in that order.

    Args:
        cls (type): The backend class.
        shards (Sequence[FaissBackend]): Of one mode, dimension, parameters
            and labels.
        retrain (bool): Drop the shards' training; the result is trained
            afresh over all descriptors (on first search or ``train()``).
            Defaults to False: shards of different trainings are refused.

    Returns:
        FaissBackend: A new gallery.
    """
    if not shards or not all(isinstance(s, cls) for s in shards):
        raise TypeError('merge() needs a non-empty sequence of '
                        f'{cls.name} GalleryIndex objects')
    _check_alike(shards)
    first = shards[0]
    merged = cls(first.dim, first.mode, **first.params)
    merged._store = VectorStore(
        first.dim,
        first.mode == 'compressed',
        first.params.get('vectors_dir'),
        parts=[part for shard in shards for part in shard.vectors],
        guards=[g for shard in shards for g in shard._store.guards])
    full = [s for s in shards if s.ntotal]
    for name in (full[0].label_names if full else ()):
        merged._labels[name] = [s.labels(name) for s in full]
    if retrain or not any(s.is_trained for s in shards):
        return merged
    for pos, shard in enumerate(shards[1:], 1):
        if shard.training_id != first.training_id:
            raise ValueError(
                f'Cannot merge {_describe(pos, shard)} with '
                f'{_describe(0, first)}: they were trained apart (training '
                f'{shard.training_id} vs {first.training_id}), so their '
                'codes do not compare. Encode every shard with one trained '
                'template (tools/build_index.py --trained FILE; in Python '
                'GalleryIndex.load(template) then add()), or merge with '
                'retrain=True (build_index.py --retrain) to train afresh '
                'over all descriptors')
    merged._ivf = join(merged._faiss, [s._ivf for s in shards])
    merged.training_id = first.training_id
    return merged
