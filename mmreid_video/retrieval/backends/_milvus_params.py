# Copyright (c) mmreid_video contributors. All rights reserved.
"""Parameters of the milvus backend: index types with their build and
search parameters, how a process connects, and the description a
collection keeps of itself."""
import re
from typing import List, Optional

from ._milvus_client import check_uri, is_local
from .base import GalleryBackend, check_mode_and_dim

# Index types: Milvus's build and search parameters, with our defaults
# (m=None: the largest divisor of the dimension up to 64).
INDEX_TYPES = dict(
    FLAT=({}, {}),
    IVF_FLAT=(dict(nlist=1024), dict(nprobe=64)),
    IVF_SQ8=(dict(nlist=1024), dict(nprobe=64)),
    IVF_PQ=(dict(nlist=1024, m=None, nbits=8), dict(nprobe=64)),
    HNSW=(dict(M=16, efConstruction=200), dict(ef=128)))
# Index types milvus-lite accepts but does not build (it logs the failure
# and searches unindexed).
LITE_CANNOT_BUILD = ('IVF_PQ', )
# The index type of each mode, and its default.
MODES = dict(
    exact=('FLAT', ['FLAT']),
    compressed=('HNSW', ['HNSW', 'IVF_FLAT', 'IVF_PQ', 'IVF_SQ8']))
# Where and how this process connects: never stored with the gallery.
CONNECTION = dict(
    uri=None,
    collection='gallery',
    token=None,
    timeout=30.0,
    lock_timeout=60.0,
    concurrency=4,
    insert_batch=4096)
_POSITIVE = ('timeout', 'concurrency', 'insert_batch')


def _check_positive(key: str, value, integer: bool) -> None:
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise ValueError(f'milvus parameter {key} must be a positive '
                         f'{"integer" if integer else "number"}, got '
                         f'{value!r}')


def check_params(dim: int, mode: str, params: dict) -> dict:
    """Fill in defaults and validate the parameters of a mode."""
    check_mode_and_dim(mode, MODES, dim)
    default, kinds = MODES[mode]
    kind = params.get('index_type', default)
    if kind not in kinds:
        raise ValueError(
            f'The {mode} mode takes index_type in {kinds}, got {kind!r}' +
            ('' if mode ==
             'compressed' else " (ANN index types are mode='compressed')"))
    uri = check_uri(params.get('uri'))
    if kind in LITE_CANNOT_BUILD and is_local(uri):
        raise ValueError(
            f'milvus-lite (a local .db uri) does not build {kind} indexes '
            '(3.2 builds FLAT, IVF_FLAT, IVF_SQ8 and HNSW; it would search '
            'unindexed); use one of those, or a Milvus server for IVF_PQ')
    build, search = INDEX_TYPES[kind]
    allowed = dict(CONNECTION, index_type=kind, **build, **search)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(f'Unknown milvus {mode} GalleryIndex parameters '
                        f'{unknown} (index_type {kind}); allowed: '
                        f'{sorted(allowed)}')
    out = dict(allowed, **params)
    out['uri'] = uri
    name = out['collection']
    if not isinstance(name, str) or not re.fullmatch('[A-Za-z_][A-Za-z0-9_]*',
                                                     name):
        raise ValueError('collection must be a name of letters, digits and '
                         f'underscores, not starting with a digit; got '
                         f'{name!r}')
    if out.get('m', 0) is None:
        out['m'] = max(m for m in range(1, min(dim, 64) + 1) if dim % m == 0)
    for key in _POSITIVE + tuple(build) + tuple(search):
        _check_positive(key, out[key], key not in ('timeout', ))
    if out['lock_timeout'] != 0:
        _check_positive('lock_timeout', out['lock_timeout'], False)
    return out


def index_params(params: dict, part: int) -> dict:
    """The build (``part=0``) or search (1) parameters of the index."""
    return {k: params[k] for k in INDEX_TYPES[params['index_type']][part]}


# Collection properties: the gallery's description (a JSON dict written by
# collection_meta) and the next free row number.
META_KEY = 'mmreid_video.meta'
NEXT_ROW_KEY = 'mmreid_video.next_row'
META_FORMAT = 1


def collection_meta(backend: GalleryBackend,
                    labels: Optional[List[str]]) -> dict:
    """The description a collection holds (its ``mmreid_video.meta``
    property): what it is and how it was made.

    The one place that writes it (``MilvusBackend.load`` reads it), so
    a new field is added here. ``provenance``: what made the descriptors
    (:mod:`mmreid_video.utils.provenance`), recorded by ``MilvusBackend.save``.
    """
    return dict(
        format=META_FORMAT,
        backend=backend.name,
        mode=backend.mode,
        dim=backend.dim,
        params=dict(
            index_type=backend.params['index_type'],
            **index_params(backend.params, 0),
            **index_params(backend.params, 1)),
        labels=labels,
        provenance=backend.provenance)
