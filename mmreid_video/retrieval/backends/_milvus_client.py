# Copyright (c) mmreid_video contributors. All rights reserved.
"""Connections of the milvus backend: the embedded engine (milvus-lite) for
a local ``.db`` path, a Milvus server for a ``http(s)://`` (or ``tcp://``,
``unix:``) URI, and errors that name the URI and collection.

milvus-lite runs in this process (its gRPC server on threads) and holds an
exclusive lock on its ``.db`` folder, so one process at a time opens a
local gallery: :class:`Connection` waits up to ``lock_timeout`` seconds for
another process to close it, and releases the embedded engine when the last
connection of this process to that folder closes.
"""
import contextlib
import logging
import os
import os.path as osp
import threading
import time
from typing import Dict, List, Optional

LOCAL_SUFFIX = '.db'
# Rows one query returns at most (Milvus's limit).
QUERY_LIMIT = 16384
# Seconds between two tries to open a local gallery another process holds.
_LOCK_POLL_S = 0.05
# Embedded engines this process opened: folder -> open connections.
_EMBEDDED: Dict[str, int] = {}
_EMBEDDED_LOCK = threading.Lock()


def import_pymilvus():
    """Import pymilvus, or fail with the install hint."""
    try:
        import pymilvus
    except ImportError as err:
        raise ImportError(
            "GalleryIndex(backend='milvus') needs pymilvus (and milvus-lite "
            'for a local .db uri): `pip install pymilvus milvus-lite`; see '
            'requirements/optional.txt') from err
    return pymilvus


def is_local(uri: str) -> bool:
    """Whether ``uri`` names a local milvus-lite folder (no URI scheme)."""
    return not uri.startswith(('http://', 'https://', 'tcp://', 'unix:'))


def check_uri(uri) -> str:
    """A valid ``uri`` parameter, local paths made absolute."""
    if not isinstance(uri, (str, os.PathLike)) or not str(uri):
        raise ValueError(
            "backend='milvus' needs uri=: a local path ending in '.db' (the "
            'embedded milvus-lite) or a server URI such as '
            f'http://localhost:19530, got {uri!r}')
    uri = os.fspath(uri)
    if not is_local(uri):
        return uri
    if not uri.endswith(LOCAL_SUFFIX):
        raise ValueError(f'A local Milvus uri must end with {LOCAL_SUFFIX!r} '
                         f'(milvus-lite\'s rule), got {uri!r}')
    return osp.abspath(uri)


class _LastError(logging.Handler):
    """Keeps the exception milvus-lite logs when it cannot start (pymilvus
    then raises without it)."""

    def __init__(self) -> None:
        super().__init__()
        self.error: Optional[BaseException] = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.error = record.exc_info[1]


@contextlib.contextmanager
def _engine_error():
    """Catch (instead of print) what milvus-lite logs while it starts."""
    logger = logging.getLogger('milvus_lite.server_manager')
    handler, propagate = _LastError(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class Connection:
    """A pymilvus client of one Milvus, embedded or a server.

    Args:
        uri (str): A local path ending in ``.db`` or a server URI.
        collection (str): The collection, for error messages.
        token (str, optional): Server credentials (``user:password`` or an
            API key). Defaults to None.
        timeout (float): Seconds to connect and per request.
        lock_timeout (float): Seconds to wait for another process to close
            a local gallery.
    """

    def __init__(self, uri: str, collection: str, token: Optional[str],
                 timeout: float, lock_timeout: float) -> None:
        self.uri = check_uri(uri)
        self.collection = collection
        self.timeout = timeout
        self.local = is_local(self.uri)
        pymilvus = import_pymilvus()
        self.errors = (pymilvus.MilvusException, )
        if self.local:
            self.client = self._open_local(pymilvus, lock_timeout)
        else:
            try:
                self.client = pymilvus.MilvusClient(
                    uri=self.uri, token=token or '', timeout=timeout)
            except self.errors as err:
                raise ConnectionError(
                    f'Cannot reach Milvus at {self.uri} (collection '
                    f'{collection!r}) within {timeout} s: {_reason(err)}. '
                    'Is the server running and the URI right?') from None

    @property
    def where(self) -> str:
        """The collection and its URI, for messages."""
        return f'Milvus collection {self.collection!r} at {self.uri}'

    def _open_local(self, pymilvus, lock_timeout: float):
        from milvus_lite import DataDirLockedError
        os.makedirs(osp.dirname(self.uri), exist_ok=True)
        deadline = time.monotonic() + lock_timeout
        while True:
            with _engine_error() as caught:
                try:
                    client = pymilvus.MilvusClient(uri=self.uri)
                    break
                except self.errors as err:
                    if not isinstance(caught.error, DataDirLockedError):
                        raise RuntimeError(
                            f'{self.where}: milvus-lite cannot open '
                            f'{self.uri}: {caught.error or _reason(err)}'
                        ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f'{self.uri} is held by another process (milvus-lite '
                    'opens a .db in one process at a time) and was not '
                    f'released within lock_timeout={lock_timeout} s; close '
                    'the GalleryIndex there (close() or a with block), or '
                    'serve the gallery from a Milvus server and use its '
                    'http:// uri')
            time.sleep(_LOCK_POLL_S)
        with _EMBEDDED_LOCK:
            _EMBEDDED[self.uri] = _EMBEDDED.get(self.uri, 0) + 1
        return client

    def call(self, what: str, method: str, *args, **kwargs):
        """Run a ``MilvusClient`` method; engine errors name the collection
        and URI.

        Args:
            what (str): What is being done, e.g. ``'insert'``.
            method (str): The method, e.g. ``'insert'``.
        """
        kwargs.setdefault('timeout', self.timeout)
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except self.errors as err:
            raise RuntimeError(f'{self.where}: {what} failed: '
                               f'{_reason(err)}') from None

    # Of the collection:
    def exists(self) -> bool:
        """Whether the collection exists."""
        return self.call('look up', 'has_collection', self.collection)

    def properties(self) -> Dict[str, str]:
        """The collection's properties (fresh from the engine)."""
        return self.call('describe', 'describe_collection',
                         self.collection).get('properties', {})

    def set_properties(self, **props) -> None:
        """Write collection properties (values as strings)."""
        self.call(
            'write its properties',
            'alter_collection_properties',
            self.collection,
            properties={k: str(v)
                        for k, v in props.items()})

    def count(self, expr: str = '') -> int:
        """Rows in the collection (deleted ones not counted), or those
        matching a filter expression."""
        rows = self.call(
            'count rows',
            'query',
            self.collection,
            filter=expr,
            output_fields=['count(*)'])
        return int(rows[0]['count(*)'])

    def query(self, what: str, expr: str, fields: List[str]) -> List[dict]:
        """Rows matching a filter expression, at most ``QUERY_LIMIT``."""
        return self.call(
            what,
            'query',
            self.collection,
            filter=expr,
            output_fields=fields,
            limit=QUERY_LIMIT)

    def indexed(self) -> bool:
        """Whether every flushed row of the collection is indexed, as far
        as one look tells: a server says so (``describe_index``);
        milvus-lite, whose answer does not follow its background builds,
        when every data file of the collection's folder has its index file
        and no file changed size since the last look (an index file is
        written in place)."""
        if not self.local:
            info = self.call('describe its index', 'describe_index',
                             self.collection, 'vector')
            return not info.get('pending_index_rows') and info.get(
                'indexed_rows', 0) >= info.get('total_rows', 0)
        folder = osp.join(self.uri, 'collections', self.collection)
        sizes = {}
        for root, _, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError):  # removed by compaction
                    sizes[name] = osp.getsize(osp.join(root, name))
        data = {
            n[:-len('.parquet')]
            for n in sizes if n.startswith('data_') and n.endswith('.parquet')
        }
        stable, self._sizes = sizes == getattr(self, '_sizes', None), sizes
        return stable and data <= {
            n.split('.')[0]
            for n in sizes if n.endswith('.idx')
        }

    def close(self) -> None:
        """Close the client; release the embedded engine (and its lock on
        the folder) when no other connection of this process uses it."""
        client, self.client = getattr(self, 'client', None), None
        if client is None:
            return
        client.close()
        if not self.local:
            return
        with _EMBEDDED_LOCK:
            left = _EMBEDDED.get(self.uri, 1) - 1
            if left > 0:
                _EMBEDDED[self.uri] = left
                return
            _EMBEDDED.pop(self.uri, None)
        from milvus_lite.server_manager import server_manager_instance
        server_manager_instance.release_server(self.uri)


def _reason(err: Exception) -> str:
    """The message of a pymilvus exception (its repr is often empty)."""
    return getattr(err, 'message', None) or str(err) or type(err).__name__
