# Copyright (c) mmreid_video contributors. All rights reserved.
"""Search: exact ranking of a descriptor array, ``GalleryIndex`` over
search engines (``backends/``: faiss on one machine, Milvus embedded or
on a cluster), descriptor shards of
``tools/extract_features.py`` (``feature_shards``) and the index file
format."""
from ._index_file import IndexFileError
from .gallery_index import GalleryIndex
from .search import search

__all__ = ['GalleryIndex', 'search', 'IndexFileError']
