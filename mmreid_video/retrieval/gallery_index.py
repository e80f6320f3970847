# Copyright (c) mmreid_video contributors. All rights reserved.
"""A gallery index for galleries beyond one distance matrix: a small facade
over a search engine (``backends/``)."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from mmreid_video.evaluation.functional.topk import DEFAULT_RANKS, topk_metrics
from mmreid_video.utils.arrays import (ArrayLike, Labels, as_descriptors,
                                       as_labels)
from mmreid_video.utils.provenance import (DESCRIPTOR_PARTS, ProvenanceError,
                                           as_provenance, check_provenance,
                                           merged_provenance,
                                           provenance_mismatch)
from ._exact import check_exclusion, check_topk, optional_labels
from .backends import GalleryBackend, get_backend


class GalleryIndex:
    """Top-k search over a large gallery of descriptors.

    Descriptors (numpy arrays or tensors, any finite magnitude) are checked
    and L2-normalised as the evaluator does
    (:mod:`mmreid_video.utils.arrays`) and compared by cosine distance
    ``1 - <q, g>``. Results follow :func:`mmreid_video.retrieval.search`:
    gallery rows best first, ties in gallery order, exclusion by labels.
    The engine is a backend: ``backend='faiss'`` (the default) keeps the
    gallery in this process, ``backend='milvus'`` in a Milvus collection
    (see below); the modes of faiss:

    - ``'exact'``: a float32 brute-force inner product (faiss on a GPU,
      a BLAS GEMM on CPU) proposes candidates; they are re-scored exactly
      and ranked by
      :func:`~mmreid_video.evaluation.functional.rank_gallery`. The
      candidate list grows until no item outside it can enter the top-k
      (float32 rounding error is bounded), so the lists equal
      :func:`~mmreid_video.retrieval.search`'s. Descriptors stay in memory.
      Parameters: ``use_gpu='auto'``, ``block_size=256``.
    - ``'compressed'``: an IVF-PQ index (``nlist`` lists, ``pq_m`` codes of
      ``pq_bits`` bits each, by default as many as possible up to 128
      that divide D, ``nprobe`` lists searched; 4-bit codes are scanned by
      faiss's SIMD fast-scan kernels, on CPU) proposes a ``shortlist`` per
      query, re-scored exactly from the full descriptors, which stay on
      disk, memory-mapped (in a temporary file under ``vectors_dir``, or in
      the saved index file). It is trained on ``train_size`` descriptors
      (default: 39 per list, faiss's k-means minimum; drawn with ``seed``)
      of a sample (:meth:`train`) or of its own when first searched; later
      additions are encoded with that training. Shards encoded with one
      training (a saved, trained, empty template loaded for each) merge by
      joining their encoded lists. Parameters: ``nlist=4096, pq_m=None,
      pq_bits=4, nprobe=192, shortlist=100, train_size=None, seed=0,
      vectors_dir=None, use_gpu='auto', block_size=64``.

    faiss GPU resources are used when faiss sees a GPU (``use_gpu='auto'``)
    or always (``True``), except by fast-scan codes, which faiss searches on
    CPU only; ``block_size`` queries are searched at a time. The exact mode
    on CPU runs without faiss installed.

    :attr:`provenance` says what made the descriptors (set by
    ``tools/build_index.py`` from the extraction); it is saved with the
    index, and :meth:`merge` refuses indexes of different models.

    ``backend='milvus'`` keeps the gallery in the collection ``collection``
    (default ``'gallery'``) at ``uri``: a local path ending in ``.db`` runs
    the embedded milvus-lite in this process (one process holds a ``.db``
    at a time; others wait up to ``lock_timeout`` seconds for
    :meth:`close`), a URI such as ``http://host:19530`` a Milvus server or
    cluster (``token`` for credentials). The exclusion rules are filter
    expressions on the ``pid`` and ``camid`` fields, one request per
    distinct filter (``concurrency`` requests at a time); scores are the
    engine's float32 inner products, so ``'exact'``, a FLAT index, lists
    as :func:`~mmreid_video.retrieval.search` does up to ties and
    float32 near-ties; ``'compressed'`` takes ``index_type`` ``'HNSW'``
    (default; ``M=16, efConstruction=200, ef=128``), ``'IVF_FLAT'`` or
    ``'IVF_SQ8'`` (``nlist=1024, nprobe=64``) or ``'IVF_PQ'`` (also ``m``
    and ``nbits=8``), Milvus's parameters of that index type. Rows are the
    collection's keys: :meth:`add` numbers them from the collection's
    counter or takes ``ids``, :meth:`remove` deletes them, :meth:`save`
    flushes. Parameters: ``uri, collection='gallery', token=None,
    timeout=30.0, lock_timeout=60.0, concurrency=4, insert_batch=4096``.

    Args:
        dim (int): Descriptor length D.
        mode (str): ``'exact'`` or ``'compressed'``. Defaults to 'exact'.
        backend (str): The engine, a key of
            ``mmreid_video.retrieval.backends.BACKENDS``. Defaults to
            'faiss'.
        **params: The backend's parameters of the mode, overriding its
            defaults.

    Examples:
        >>> index = GalleryIndex(4)
        >>> index.add(np.eye(4, dtype=np.float32), camids=[0, 0, 1, 1])
        >>> index.search(np.eye(4)[:1], topk=2, query_camids=[0])[0]
        tensor([[2, 3]])
    """

    def __init__(self,
                 dim: int,
                 mode: str = 'exact',
                 backend: str = 'faiss',
                 **params) -> None:
        self._backend = get_backend(backend)(dim, mode, **params)

    @classmethod
    def _of(cls, backend: GalleryBackend) -> 'GalleryIndex':
        index = cls.__new__(cls)
        index._backend = backend
        return index

    # ----------------------------------------------------------- content
    @property
    def backend(self) -> GalleryBackend:
        """The engine (``backend.name`` is its name)."""
        return self._backend

    @property
    def dim(self) -> int:
        """Descriptor length D."""
        return self._backend.dim

    @property
    def mode(self) -> str:
        """``'exact'`` or ``'compressed'``."""
        return self._backend.mode

    @property
    def params(self) -> dict:
        """The mode's parameters, defaults filled in."""
        return self._backend.params

    @property
    def ntotal(self) -> int:
        """Number of gallery items."""
        return self._backend.ntotal

    @property
    def pids(self) -> Optional[np.ndarray]:
        """(N, ) int64 pids, or None when added without."""
        return self._backend.labels('pids')

    @property
    def camids(self) -> Optional[np.ndarray]:
        """(N, ) int64 camids, or None when added without."""
        return self._backend.labels('camids')

    @property
    def provenance(self) -> Optional[dict]:
        """What made the descriptors (see
        :mod:`mmreid_video.utils.provenance`), saved with the index; None
        when unknown (e.g. an index built from bare arrays)."""
        return self._backend.provenance

    @provenance.setter
    def provenance(self, value: Optional[dict]) -> None:
        self._backend.provenance = as_provenance(value,
                                                 'GalleryIndex.provenance')

    def check_queries(self,
                      provenance: Optional[dict],
                      source: str,
                      allow_foreign: bool = False) -> Optional[str]:
        """Refuse query descriptors of another model than the gallery's.

        Queries compare with the gallery when the weights, model config and
        test pipeline of their provenance are the index's (their data may
        differ). Two unknown provenances pass with a warning.

        Args:
            provenance (dict, optional): The queries' provenance, e.g. the
                ``read_provenance`` of their extraction folder.
            source (str): Where the queries come from, for the message.
            allow_foreign (bool): Return the difference instead of raising
                (the user knows). Defaults to False.

        Returns:
            str | None: With ``allow_foreign``, what differs (None when
            nothing does).

        Raises:
            ProvenanceError: They differ, naming each part and both
                fingerprints.
        """
        name = f'the index {self.backend.source}'
        if allow_foreign:
            return provenance_mismatch(provenance, self.provenance, source,
                                       name, DESCRIPTOR_PARTS)
        check_provenance(
            provenance,
            self.provenance,
            source,
            name,
            DESCRIPTOR_PARTS,
            hint='Descriptors of different models do not compare: extract '
            'the queries with the checkpoint, config and test pipeline of '
            'the gallery (or rebuild the index with tools/build_index.py '
            'from the matching extraction); tools/search.py '
            '--allow-foreign-queries searches anyway.')
        return None

    def memory_bytes(self) -> int:
        """Bytes the index holds in memory (descriptors of the compressed
        mode are on disk and not counted)."""
        return self._backend.memory_bytes()

    def _descriptors(self, feats: ArrayLike, name: str) -> np.ndarray:
        """Checked, normalised rows; errors name where a gallery kept
        outside this process lives."""
        try:
            return as_descriptors(
                feats, name, self.dim, normalize=True).numpy()
        except (TypeError, ValueError) as err:
            if self._backend.location is None:
                raise
            raise type(err)(f'{err} ({self._backend.location})') from None

    def add(self,
            feats: ArrayLike,
            pids: Optional[Labels] = None,
            camids: Optional[Labels] = None,
            ids: Optional[Labels] = None) -> None:
        """Append gallery descriptors (rows numbered on from the last).

        Args:
            feats (np.ndarray | torch.Tensor): (n, D) descriptors.
            pids (array-like, optional): (n, ) int ids. Defaults to None.
            camids (array-like, optional): (n, ) int camera ids. Defaults
                to None.
            ids (array-like, optional): (n, ) row numbers, distinct, >= 0
                and not yet held (milvus; e.g. disjoint ranges of writers
                adding at once). Defaults to None (the next numbers).
        """
        rows = self._descriptors(feats, 'feats')
        labels = dict(
            pids=optional_labels(pids, 'pids', len(rows)),
            camids=optional_labels(camids, 'camids', len(rows)))
        given = tuple(sorted(k for k, v in labels.items() if v is not None))
        held = self._backend.label_names
        if self.ntotal and given != held:
            raise ValueError(
                f'The index holds labels {list(held)} for its {self.ntotal} '
                f'items; add() got {list(given)}: every add() must give the '
                'same labels')
        if ids is not None:
            if not self._backend.keyed:
                raise ValueError(f'The {self._backend.name} backend numbers '
                                 'rows in the order added: no ids')
            ids = as_labels(ids, 'ids', len(rows))
        self._backend.add(rows, labels, ids)

    def train(self, sample: Optional[ArrayLike] = None) -> None:
        """Train the compressed index and encode the stored descriptors
        (done on first search when not called).

        Trained on a ``sample`` while empty, then saved, the index is a
        template: every shard loaded from it encodes its descriptors with
        this one training, and :meth:`merge` joins such shards without
        training or encoding again.

        Args:
            sample (np.ndarray | torch.Tensor, optional): (n, D) descriptors
                to train on (``train_size`` of them are drawn with ``seed``).
                Defaults to None (the stored descriptors).
        """
        if sample is not None:
            sample = as_descriptors(
                sample, 'sample', self.dim, normalize=True).numpy()
        self._backend.train(sample)

    def remove(self, rows: Labels) -> None:
        """Delete gallery rows by number (milvus: rows never held are
        refused, naming them).

        Args:
            rows (array-like): Row numbers, e.g. ``search`` results.
        """
        rows = np.asarray(rows)
        self._backend.remove(as_labels(rows.ravel(), 'rows', rows.size))

    # ------------------------------------------------------------ search
    def search(
        self,
        query_feats: ArrayLike,
        topk: int = 10,
        query_pids: Optional[Labels] = None,
        query_camids: Optional[Labels] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Top-k gallery items of each query.

        With query pids and camids the re-ID rule applies (gallery items
        with the query's pid *and* camera are left out; the index needs
        pids and camids); with camids alone same-camera items are left out.

        Args:
            query_feats (np.ndarray | torch.Tensor): (Q, D) descriptors.
            topk (int): List length; at most ``ntotal``. Defaults to 10.
            query_pids (array-like, optional): (Q, ) int ids.
            query_camids (array-like, optional): (Q, ) int camera ids.

        Returns:
            tuple[Tensor, Tensor]: As :func:`mmreid_video.retrieval.search`:
            (Q, k) int64 gallery rows and float32 distances, best first,
            -1 / inf padding.
        """
        total = self.ntotal  # a request, for a Milvus collection
        if total == 0:
            raise ValueError('The GalleryIndex is empty: add() first')
        q = self._descriptors(query_feats, 'query_feats')
        topk = check_topk(topk)
        q_pids = optional_labels(query_pids, 'query_pids', len(q))
        q_cams = optional_labels(query_camids, 'query_camids', len(q))
        held = self._backend.label_names
        check_exclusion(q_pids, q_cams, 'pids' in held, 'camids' in held)
        indices, dists = self._backend.search(q, min(topk, total), q_pids,
                                              q_cams)
        return torch.from_numpy(indices), torch.from_numpy(dists)

    def evaluate(self,
                 query_feats: ArrayLike,
                 query_pids: Labels,
                 query_camids: Labels,
                 topk: int = 100,
                 ranks: Sequence[int] = DEFAULT_RANKS) -> Dict[str, float]:
        """R-n and mAP@k from the index's top-k lists (re-ID rule).

        Args:
            query_feats (np.ndarray | torch.Tensor): (Q, D) descriptors.
            query_pids (array-like): (Q, ) int ids.
            query_camids (array-like): (Q, ) int camera ids.
            topk (int): List length k of mAP@k. Defaults to 100.
            ranks (Sequence[int]): The n of R-n. Defaults to (1, 5, 10).

        Returns:
            dict: ``R1``, ``R5``, ``R10``, ``mAP@{k}`` (fractions) and
            ``num_valid_queries``; see
            :func:`~mmreid_video.evaluation.functional.topk_metrics`.
        """
        if query_pids is None or query_camids is None:
            raise ValueError('evaluate() needs query_pids and query_camids')
        indices = self.search(query_feats, topk, query_pids,
                              query_camids)[0].numpy()
        return topk_metrics(
            self.positions(indices), query_pids, query_camids, self.pids,
            self.camids, ranks)

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Where gallery rows are in :attr:`pids` / :attr:`camids` (and in
        the arrays the index was built from, in that order): the rows
        themselves, unless a keyed backend (milvus) holds rows with gaps
        (deleted, or numbered by ``ids``).

        Args:
            rows (np.ndarray): Row numbers, e.g. ``search`` results; -1
                (padding) stays -1.

        Returns:
            np.ndarray: int64 positions, the shape of ``rows``.
        """
        held = self._backend.row_numbers()
        if not len(held) or held[-1] == len(held) - 1:
            return np.asarray(rows, np.int64)
        return np.where(rows >= 0, np.searchsorted(held, rows), -1)

    # ------------------------------------------------------ persistence
    def save(self, path: Optional[str] = None) -> None:
        """Persist the index (faiss: one file, written to a temporary file
        next to ``path`` and renamed over it when complete; milvus: flush
        the collection, so a process killed afterwards loses no row).

        Args:
            path (str, optional): Destination file (faiss). Defaults to
                None (milvus: where the collection lives).
        """
        if path is None and self._backend.location is None:
            raise ValueError(f'The {self._backend.name} backend saves to a '
                             'file: save(path)')
        self._backend.save(None if path is None else str(path))

    def close(self) -> None:
        """Release what the backend holds (milvus: the connection; a local
        ``.db`` is then free for another process). Also on leaving a
        ``with GalleryIndex...`` block."""
        self._backend.close()

    def __enter__(self) -> 'GalleryIndex':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def load(cls,
             path: str,
             backend: str = 'faiss',
             **kwargs) -> 'GalleryIndex':
        """Re-open a saved index.

        faiss: descriptors are memory-mapped from the file (an exact index
        reads them into memory when it is searched); a file changed in
        place afterwards (``cp`` over it) is refused, naming it, before its
        descriptors are read again. milvus: the collection is opened where
        it lives, e.g. ``GalleryIndex.load('gallery.db', 'milvus',
        collection='g')``.

        Args:
            path (str): What :meth:`save` wrote to (milvus: the uri).
            backend (str): Its backend. Defaults to 'faiss'.
            **kwargs: The backend's options; faiss: ``verify=True`` (check
                every section's CRC-32, reading the file once) and
                ``vectors_dir`` (temporary folder for descriptors added to a
                compressed index later); milvus: ``collection`` and the
                connection parameters (``token``, ``timeout``,
                ``lock_timeout``, ``concurrency``, ``insert_batch``) and
                search parameters (``nprobe``, ``ef``) for this process.

        Returns:
            GalleryIndex: The index.

        Raises:
            IndexFileError: The file is truncated, corrupt, not a regular
                file or does not describe a valid index; the message names
                it.
        """
        return cls._of(get_backend(backend).load(str(path), **kwargs))

    @classmethod
    def merge(cls,
              indices: Sequence['GalleryIndex'],
              retrain: bool = False) -> 'GalleryIndex':
        """Join shards into one index, rows in the given order.

        The result searches exactly like one index built by adding every
        shard's descriptors in that order. Compressed shards encoded with
        one training (each loaded from one trained template) are joined by
        their encoded lists, nothing trained or encoded again; shards of
        different trainings are refused, naming both, unless ``retrain``.
        Shards of different models (their provenance's weights, config or
        pipeline differ, or one records none) are refused, naming both;
        the result's provenance is theirs (its data part joins theirs).

        Args:
            indices (Sequence[GalleryIndex]): Shards of one backend, mode,
                dimension, parameters and labels.
            retrain (bool): Train the result afresh over all descriptors
                (on first search or :meth:`train`). Defaults to False.

        Returns:
            GalleryIndex: A new index.
        """
        if not indices or not all(isinstance(i, cls) for i in indices):
            raise TypeError('merge() needs a non-empty sequence of '
                            'GalleryIndex objects')
        engines = {type(i.backend) for i in indices}
        if len(engines) > 1:
            raise ValueError('Cannot merge indices of different backends: '
                             f'{sorted(e.name for e in engines)}')
        first = indices[0]
        for pos, other in enumerate(indices[1:], 1):
            why = provenance_mismatch(other.provenance, first.provenance,
                                      f'shard {pos} ({other.backend.source})',
                                      f'shard 0 ({first.backend.source})',
                                      DESCRIPTOR_PARTS)
            if why:
                raise ProvenanceError(
                    f'Cannot merge: {why}. Their descriptors do not '
                    'compare: merge only indexes of one model\'s '
                    'descriptors (tools/build_index.py records where they '
                    'came from).')
        merged = cls._of(engines.pop().merge([i.backend for i in indices],
                                             retrain=retrain))
        merged.provenance = merged_provenance(i.provenance for i in indices)
        return merged
