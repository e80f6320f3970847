# Copyright (c) mmreid_video contributors. All rights reserved.
"""Search engines under :class:`~mmreid_video.retrieval.GalleryIndex`, one
module per engine, each implementing
:class:`~mmreid_video.retrieval.backends.base.GalleryBackend`."""
import importlib
from typing import Type

from .base import GalleryBackend

# name -> (module of this package, class). A module is imported when its
# backend is first used, so an engine's client library is needed only by
# who uses that engine.
BACKENDS = dict(
    faiss=('faiss', 'FaissBackend'), milvus=('milvus', 'MilvusBackend'))


def get_backend(name: str) -> Type[GalleryBackend]:
    """The backend class of ``GalleryIndex(..., backend=name)``.

    Args:
        name (str): A key of ``BACKENDS``: ``'faiss'`` or ``'milvus'``.

    Returns:
        type: The :class:`GalleryBackend` subclass.
    """
    if name not in BACKENDS:
        raise ValueError(f'backend must be one of {sorted(BACKENDS)}, got '
                         f'{name!r}')
    module, cls = BACKENDS[name]
    return getattr(importlib.import_module(f'.{module}', __name__), cls)


__all__ = ['BACKENDS', 'GalleryBackend', 'get_backend']
