# Copyright (c) mmreid_video contributors. All rights reserved.
"""The milvus backend: a gallery in a Milvus collection, embedded
(milvus-lite, a local ``.db`` folder) or on a Milvus server or cluster (a
URI), written by several processes and kept by the engine."""
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, Optional, Tuple

import numpy as np

from mmreid_video.utils.provenance import (DESCRIPTOR_PARTS, as_provenance,
                                           check_provenance, merged_provenance)
from ._milvus_client import QUERY_LIMIT, Connection, check_uri, import_pymilvus
from ._milvus_params import (CONNECTION, INDEX_TYPES, META_FORMAT, META_KEY,
                             NEXT_ROW_KEY, check_params, collection_meta,
                             index_params)
from .base import GalleryBackend, Labels, Pair

# Milvus's limit of results per query.
MAX_TOPK = 16384
# Queries per search request (a 2048-d float32 request stays at 8 MB).
_MAX_NQ = 1024
# Scalar field of each label.
FIELDS = dict(pids='pid', camids='camid')


def _chunks(values: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class MilvusBackend(GalleryBackend):
    """A gallery in a Milvus collection.

    Rows are the collection's int64 primary key (``row``), with the
    ``vector`` and the ``pid`` and ``camid`` scalar fields; the index is
    ``index_type`` (FLAT in the exact mode) by inner product of the unit
    rows. Exclusion rules are filter expressions on ``pid`` and ``camid``;
    queries that share one (their pid and camera) share a request. See
    :class:`~mmreid_video.retrieval.GalleryIndex` for the parameters.
    """
    name = 'milvus'
    #: Rows are keys: ``add(..., ids=...)`` names them.
    keyed = True

    def __init__(self, dim: int, mode: str = 'exact', **params) -> None:
        super().__init__(dim, mode, **check_params(dim, mode, params))
        self._connect()
        try:
            if self._conn.exists():
                raise ValueError(
                    f'{self.location} exists already: open it with '
                    f'GalleryIndex.load({self.params["uri"]!r}, '
                    f"backend='milvus', collection={self._name!r})")
            self._meta = collection_meta(self, None)
            self._create()
        except BaseException:
            self.close()  # an embedded engine's folder is free again
            raise

    def _connect(self) -> None:
        p = self.params
        self._name = p['collection']
        self._table_cache = None
        self._conn = Connection(p['uri'], self._name, p['token'], p['timeout'],
                                p['lock_timeout'])

    def _create(self) -> None:
        pymilvus, client = import_pymilvus(), self._conn.client
        types = pymilvus.DataType
        schema = client.create_schema(
            auto_id=False,
            enable_dynamic_field=False,
            description='mmreid_video GalleryIndex')
        schema.add_field('row', types.INT64, is_primary=True)
        schema.add_field('vector', types.FLOAT_VECTOR, dim=self.dim)
        schema.add_field('pid', types.INT64)
        schema.add_field('camid', types.INT64)
        index = client.prepare_index_params()
        build = index_params(self.params, 0)
        # pymilvus 3 sends build parameters as flat key-value pairs, which
        # Milvus reads; milvus-lite reads the JSON ``params`` pair (which
        # Milvus reads too).
        index.add_index(
            field_name='vector',
            index_type=self.params['index_type'],
            metric_type='IP',
            params=dict(build, params=build))
        self._conn.call(
            'create the collection',
            'create_collection',
            self._name,
            schema=schema,
            consistency_level='Strong',
            properties={
                META_KEY: json.dumps(self._meta),
                NEXT_ROW_KEY: '0'
            })
        # Not waiting for the index of an empty collection (sync=False):
        # pymilvus would poll for it.
        self._conn.call(
            'create its index', 'create_index', self._name, index, sync=False)
        self._conn.call('load', 'load_collection', self._name)

    # ----------------------------------------------------------- content
    @property
    def location(self) -> str:
        return self._conn.where

    source = location

    @property
    def ntotal(self) -> int:
        return self._conn.count()

    @property
    def label_names(self) -> Tuple[str, ...]:
        if self._meta['labels'] is None:  # another writer may have added
            self._meta = json.loads(self._conn.properties()[META_KEY])
        return tuple(self._meta['labels'] or ())

    def _table(self) -> Dict[str, np.ndarray]:
        """Every row number with its labels, by row number (fetched again
        when rows were added or deleted since)."""
        next_row = int(self._conn.properties()[NEXT_ROW_KEY])
        token = (self.ntotal, next_row)
        if self._table_cache is not None and self._table_cache[0] == token:
            return self._table_cache[1]
        # Ranges of row numbers halved until a query returns all of one
        # (a query returns at most QUERY_LIMIT rows, in no set order).
        parts, todo = [], [(0, next_row)]
        while todo:
            low, high = todo.pop()
            expr = f'row >= {low} and row < {high}'
            if high - low > QUERY_LIMIT and self._conn.count(expr) > \
                    QUERY_LIMIT:
                todo += [(low, (low + high) // 2), ((low + high) // 2, high)]
            else:
                parts += self._conn.query('read labels', expr,
                                          ['row', 'pid', 'camid'])
        table = {
            key: np.array([r[key] for r in parts], np.int64)
            for key in ('row', 'pid', 'camid')
        }
        order = np.argsort(table['row'], kind='stable')
        table = {k: v[order] for k, v in table.items()}
        self._table_cache = (token, table)
        return table

    def labels(self, name: str) -> Optional[np.ndarray]:
        if name not in self.label_names:
            return None
        return self._table()[FIELDS[name]]

    def row_numbers(self) -> np.ndarray:
        return self._table()['row']

    # ----------------------------------------------------------- writing
    def _reserve(self, num: int, floor: int = 0) -> int:
        """Take ``num`` row numbers from the counter (before the rows are
        inserted: a crash in between leaves a gap, never a reused
        number); ``floor`` moves it past rows numbered by the caller."""
        start = max(int(self._conn.properties()[NEXT_ROW_KEY]), floor)
        self._conn.set_properties(**{NEXT_ROW_KEY: start + num})
        return start

    def _check_new(self, ids: np.ndarray) -> None:
        if (ids < 0).any() or len(np.unique(ids)) != len(ids):
            raise ValueError('ids must be distinct integers >= 0, got '
                             f'{len(ids)} with {len(np.unique(ids))} '
                             f'distinct, smallest {ids.min()}')
        taken = self._existing(ids)
        if len(taken):
            raise ValueError(f'{self.location} already holds rows '
                             f'{taken[:10].tolist()} (of the ids given)')

    def _existing(self, ids: np.ndarray) -> np.ndarray:
        found = []
        for part in _chunks(ids, QUERY_LIMIT):
            found += self._conn.query('look up rows',
                                      f'row in {part.tolist()}', ['row'])
        return np.sort(np.array([r['row'] for r in found], np.int64))

    def add(self,
            rows: np.ndarray,
            labels: Labels,
            ids: Optional[np.ndarray] = None) -> None:
        given = sorted(k for k, v in labels.items() if v is not None)
        meta = json.loads(self._conn.properties()[META_KEY])
        if meta['labels'] is None:
            meta['labels'] = given
            self._conn.set_properties(**{META_KEY: json.dumps(meta)})
        elif meta['labels'] != given:
            raise ValueError(f'{self.location} holds labels '
                             f'{meta["labels"]}; add() got {given}')
        self._meta = meta
        if ids is None:
            ids = np.arange(len(rows)) + self._reserve(len(rows))
        else:
            self._check_new(ids)
            self._reserve(0, floor=int(ids.max()) + 1)
        zeros = np.zeros(len(rows), np.int64)
        pids, camids = (
            zeros if labels[k] is None else labels[k] for k in FIELDS)
        step = self.params['insert_batch']
        for start in range(0, len(rows), step):
            stop = start + step
            data = [
                dict(row=i, vector=v, pid=p, camid=c) for i, v, p, c in zip(
                    ids[start:stop].tolist(), rows[start:stop],
                    pids[start:stop].tolist(), camids[start:stop].tolist())
            ]
            self._conn.call('insert', 'insert', self._name, data)

    def remove(self, rows: np.ndarray) -> None:
        """Delete rows by number; all of them must be held."""
        rows = np.unique(rows)
        missing = np.setdiff1d(rows, self._existing(rows))
        if len(missing):
            raise KeyError(f'{self.location} holds no rows '
                           f'{missing[:10].tolist()}')
        for part in _chunks(rows, QUERY_LIMIT):
            self._conn.call('delete', 'delete', self._name, ids=part.tolist())

    # ------------------------------------------------------------ search
    def search(self, query: np.ndarray, k: int,
               query_pids: Optional[np.ndarray],
               query_camids: Optional[np.ndarray]) -> Pair:
        if k > MAX_TOPK:
            raise ValueError(f'Milvus returns at most {MAX_TOPK} results '
                             f'per query, topk={k} was asked')
        if query_pids is not None:
            keys = np.stack([query_pids, query_camids], 1)
            rule = 'not (pid == {} and camid == {})'
        elif query_camids is not None:
            keys, rule = query_camids[:, None], 'camid != {}'
        else:
            keys, rule = np.zeros((len(query), 0), np.int64), ''
        # One request per filter (and per _MAX_NQ queries).
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        order = np.argsort(inverse.ravel(), kind='stable')
        bounds = np.cumsum(np.bincount(inverse.ravel(), minlength=len(groups)))
        requests = [(rule.format(*groups[g].tolist()), part)
                    for g, members in enumerate(np.split(order, bounds[:-1]))
                    for part in _chunks(members, _MAX_NQ)]
        indices = np.full((len(query), k), -1, np.int64)
        dists = np.full((len(query), k), np.inf, np.float32)
        params = index_params(self.params, 1)
        if 'ef' in params:  # HNSW searches at least k candidates
            params['ef'] = max(params['ef'], k)

        def run(request):
            expr, rows = request
            return rows, self._conn.call(
                'search',
                'search',
                self._name,
                data=query[rows],
                limit=k,
                filter=expr,
                output_fields=['row'],
                search_params=dict(metric_type='IP', params=params))

        workers = min(self.params['concurrency'], len(requests))
        with ThreadPoolExecutor(max(workers, 1)) as pool:
            for rows, result in pool.map(run, requests):
                for row, hits in zip(rows, result):
                    ids = np.array(hits.ids, np.int64)
                    sims = np.array(hits.distances, np.float64)
                    # Best first, ties in row order.
                    dist = (1.0 - sims).astype(np.float32)
                    best = np.lexsort((ids, dist))
                    indices[row, :len(ids)] = ids[best]
                    dists[row, :len(ids)] = dist[best]
        return indices, dists

    def wait_for_index(self, timeout: float = 3600.0) -> float:
        """Wait until the engine has indexed every flushed row.

        Milvus indexes segments in the background after a flush (milvus-lite
        on a thread of this process); until then searches scan the rows
        without the index: exact results, index-free speed. A server
        reports its progress; milvus-lite's is read from its folder.

        Args:
            timeout (float): Seconds to wait at most. Defaults to 3600.

        Returns:
            float: Seconds waited.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self._conn.indexed():
                return time.monotonic() - start
            time.sleep(0.2)
        raise TimeoutError(f'{self.location}: rows not indexed within '
                           f'{timeout} s')

    # ------------------------------------------------------ persistence
    def save(self, path: Optional[str] = None) -> None:
        """Flush: every row added so far is on the engine's disk (a
        process killed afterwards loses none). ``path`` is None or the
        collection's uri: a collection is kept where it lives."""
        if path is not None and check_uri(path) != self.params['uri']:
            raise ValueError(f'{self.location} is kept by Milvus where it '
                             f'lives; save() flushes it (path=None), it '
                             f'cannot be written to {path!r}')
        self._conn.call('flush', 'flush', self._name)
        self._store_provenance()

    def _store_provenance(self) -> None:
        """Record :attr:`provenance` in the collection's description,
        joined with what other writers recorded: one collection holds one
        model's descriptors (another's are refused, naming both)."""
        if self.provenance is None:
            return
        meta = json.loads(self._conn.properties()[META_KEY])
        stored = as_provenance(meta.get('provenance'), self.location)
        if stored == self.provenance:
            return
        if stored is not None:
            check_provenance(
                self.provenance,
                stored,
                'the descriptors added',
                self.location,
                DESCRIPTOR_PARTS,
                hint='A collection holds the descriptors of one model: add '
                'these to another collection.')
        meta['provenance'] = merged_provenance(
            [p for p in (stored, self.provenance) if p is not None])
        self._conn.set_properties(**{META_KEY: json.dumps(meta)})
        self._meta = meta

    @classmethod
    def load(cls,
             path: str,
             collection: str = CONNECTION['collection'],
             **options) -> 'MilvusBackend':
        """Open a collection made by a ``GalleryIndex``.

        Args:
            path (str): Its uri (a local ``.db`` path or a server URI).
            collection (str): Its name. Defaults to 'gallery'.
            **options: Connection parameters (``token``, ``timeout``,
                ``lock_timeout``, ``concurrency``, ``insert_batch``) and
                search parameters of its index type (e.g. ``nprobe``,
                ``ef``) overriding the stored ones in this process.
        """
        backend = cls.__new__(cls)
        backend.params = dict(
            CONNECTION,
            **{k: v
               for k, v in options.items() if k in CONNECTION},
            uri=path,
            collection=collection)
        backend._connect()
        where = backend.location
        try:
            if not backend._conn.exists():
                names = backend._conn.call('list collections',
                                           'list_collections')
                raise ValueError(f'{where}: no such collection (the uri '
                                 f'holds {sorted(names)})')
            props = backend._conn.properties()
            if META_KEY not in props:
                raise ValueError(f'{where} was not made by a GalleryIndex '
                                 f'(no {META_KEY!r} property)')
            meta = json.loads(props[META_KEY])
            if meta.get('format') != META_FORMAT:
                raise ValueError(f'{where}: meta format '
                                 f'{meta.get("format")}, expected '
                                 f'{META_FORMAT}')
            stored = meta['params']
            search = INDEX_TYPES[stored['index_type']][1]
            unknown = sorted(set(options) - set(CONNECTION) - set(search))
            if unknown:
                raise TypeError(f'Unknown milvus load() options {unknown}; '
                                f'allowed: {sorted(CONNECTION)} and the '
                                f'search parameters {sorted(search)}')
            params = dict(backend.params, **stored)
            params.update((k, v) for k, v in options.items() if k in search)
            GalleryBackend.__init__(
                backend, meta['dim'], meta['mode'],
                **check_params(meta['dim'], meta['mode'], params))
            backend._meta = meta
            backend.provenance = as_provenance(meta.get('provenance'), where)
            backend._conn.call('load', 'load_collection', collection)
        except BaseException:
            backend.close()
            raise
        return backend

    @classmethod
    def merge(cls, shards, **kwargs):
        raise NotImplementedError(
            'Milvus galleries are not merged: every writer adds to one '
            'collection (GalleryIndex.load(uri, backend="milvus", '
            'collection=...).add(...))')

    def close(self) -> None:
        self._conn.close()
