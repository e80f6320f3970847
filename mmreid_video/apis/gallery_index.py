# Copyright (c) mmreid_video contributors. All rights reserved.
"""A gallery index on faiss for galleries beyond one distance matrix."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmreid_video.evaluation.functional import rank_gallery
from ._checks import (ArrayLike, Labels, check_descriptors, check_labels,
                      check_topk, exact_distances, exclusion_labels,
                      normalize_rows)
from ._index_io import GalleryIndexIO
from ._ivf import FAST_SCAN_BITS, build_ivf, uses_fast_scan
from ._topk_metrics import topk_metrics
from ._vector_store import VectorStore

# Parameters of each mode and their defaults.
_PARAMS = dict(
    exact=dict(use_gpu='auto', block_size=256),
    compressed=dict(
        nlist=4096,
        pq_m=None,
        pq_bits=FAST_SCAN_BITS,
        nprobe=192,
        shortlist=100,
        train_size=None,
        seed=0,
        vectors_dir=None,
        use_gpu='auto',
        block_size=64))
# Parameters that None derives: pq_m from dim, train_size from nlist.
_DERIVED = ('pq_m', 'train_size')
Pair = Tuple[np.ndarray, np.ndarray]
# Candidate descriptors gathered at once (float64 values, 128 MB).
_MAX_GATHER = 1 << 24


def import_faiss():
    """Import faiss, or fail with the install hint."""
    try:
        import faiss
    except ImportError as err:
        raise ImportError(
            'GalleryIndex needs faiss: `pip install faiss-cpu` (or a '
            'faiss-gpu build); see requirements/optional.txt') from err
    return faiss


def _check_params(dim: int, mode: str, params: dict) -> dict:
    """Fill in defaults and validate the parameters of a mode."""
    if mode not in _PARAMS:
        raise ValueError(f'mode must be one of {tuple(_PARAMS)}, got '
                         f'{mode!r}')
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f'dim must be an integer >= 1, got {dim!r}')
    unknown = sorted(set(params) - set(_PARAMS[mode]))
    if unknown:
        raise TypeError(f'Unknown {mode} GalleryIndex parameters {unknown}; '
                        f'allowed: {sorted(_PARAMS[mode])}')
    out = dict(_PARAMS[mode], **params)
    for key, value in out.items():
        if key in ('use_gpu', 'vectors_dir') or (key in _DERIVED
                                                 and value is None):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < (0 if key == 'seed' else 1):
            raise ValueError(f'GalleryIndex parameter {key} must be a '
                             f'positive integer, got {value!r}')
    if out['use_gpu'] not in ('auto', True, False):
        raise ValueError("use_gpu must be 'auto', True or False, got "
                         f"{out['use_gpu']!r}")
    if mode == 'compressed' and out['pq_m'] is None:
        # 64 bytes of 4-bit codes: 1M x 512-d searched at recall@10 0.975.
        out['pq_m'] = max(m for m in range(1, min(dim, 128) + 1)
                          if dim % m == 0)
    if mode == 'compressed' and dim % out['pq_m']:
        raise ValueError(f'pq_m={out["pq_m"]} must divide dim={dim}')
    if mode == 'compressed' and out['pq_bits'] > 16:
        raise ValueError(f'pq_bits must be <= 16, got {out["pq_bits"]}')
    if mode == 'compressed' and out['use_gpu'] is True and \
            uses_fast_scan(out):
        raise ValueError(
            f'use_gpu=True needs pq_bits != {FAST_SCAN_BITS}: faiss scans '
            f'{FAST_SCAN_BITS}-bit codes (fast-scan) on CPU only')
    return out


class GalleryIndex(GalleryIndexIO):
    """Top-k search over a large gallery of descriptors, on faiss.

    Descriptors are L2-normalised as the evaluator does and compared by
    cosine distance ``1 - <q, g>``. Results follow
    :func:`mmreid_video.apis.search`: gallery rows best first, ties in
    gallery order, exclusion by labels.

    - ``'exact'``: a float32 brute-force inner product (faiss on a GPU,
      a BLAS GEMM on CPU) proposes candidates; they are re-scored exactly
      and ranked by
      :func:`~mmreid_video.evaluation.functional.rank_gallery`. The
      candidate list grows until no item outside it can enter the top-k
      (float32 rounding error is bounded), so the lists equal
      :func:`~mmreid_video.apis.search`'s. Descriptors stay in memory.
    - ``'compressed'``: an IVF-PQ index (``nlist`` lists, ``pq_m`` codes of
      ``pq_bits`` bits each, by default as many as possible up to 128
      that divide D, ``nprobe`` lists searched; 4-bit codes are
      scanned by faiss's SIMD fast-scan kernels, on CPU) proposes a
      ``shortlist`` per query, re-scored exactly from the full descriptors,
      which stay on disk, memory-mapped (in a temporary file under
      ``vectors_dir``, or in the saved index file). It is trained on
      ``train_size`` stored descriptors (default: 39 per list, faiss's
      k-means minimum; drawn with ``seed``) when first searched (or by
      :meth:`train`); later additions are encoded with it.

    faiss GPU resources are used when faiss sees a GPU (``use_gpu='auto'``)
    or always (``True``), except by fast-scan codes, which faiss searches on
    CPU only; ``block_size`` queries are searched at a time.

    Args:
        dim (int): Descriptor length D.
        mode (str): ``'exact'`` or ``'compressed'``. Defaults to 'exact'.
        **params: The mode's parameters (see above) overriding defaults.

    Examples:
        >>> index = GalleryIndex(4)
        >>> index.add(np.eye(4, dtype=np.float32), camids=[0, 0, 1, 1])
        >>> index.search(np.eye(4)[:1], topk=2, query_camids=[0])[0]
        tensor([[2, 3]])
    """

    def __init__(self, dim: int, mode: str = 'exact', **params) -> None:
        self.params = _check_params(dim, mode, params)
        self.dim = dim
        self.mode = mode
        self._faiss = import_faiss()
        self._store = VectorStore(dim, mode == 'compressed',
                                  self.params.get('vectors_dir'))
        self._labels: Dict[str, List[np.ndarray]] = {}
        self._ivf = None
        self._gpu = None
        self._gpu_ivf = None

    # ----------------------------------------------------------- content
    @property
    def ntotal(self) -> int:
        """Number of gallery items."""
        return len(self._store)

    def _label(self, name: str) -> Optional[np.ndarray]:
        parts = self._labels.get(name)
        if parts is None:
            return None
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0]

    @property
    def pids(self) -> Optional[np.ndarray]:
        """(N, ) int64 pids, or None when added without."""
        return self._label('pids')

    @property
    def camids(self) -> Optional[np.ndarray]:
        """(N, ) int64 camids, or None when added without."""
        return self._label('camids')

    def add(self,
            feats: ArrayLike,
            pids: Optional[Labels] = None,
            camids: Optional[Labels] = None) -> None:
        """Append gallery descriptors (rows ``ntotal`` onwards).

        Args:
            feats (np.ndarray | torch.Tensor): Floating-point (n, D).
            pids (array-like, optional): (n, ) int ids. Defaults to None.
            camids (array-like, optional): (n, ) int camera ids. Defaults
                to None.
        """
        x = check_descriptors(feats, 'feats', self.dim)
        self._append(
            normalize_rows(x),
            dict(
                pids=check_labels(pids, 'pids', len(x)),
                camids=check_labels(camids, 'camids', len(x))))

    def _append(self, rows: np.ndarray,
                labels: Dict[str, Optional[np.ndarray]]) -> None:
        given = sorted(k for k, v in labels.items() if v is not None)
        if self.ntotal and given != sorted(self._labels):
            raise ValueError(
                f'The index holds labels {sorted(self._labels)} for its '
                f'{self.ntotal} items; add() got {given}: every add() must '
                'give the same labels')
        self._store.append(rows)
        for name in given:
            self._labels.setdefault(name, []).append(labels[name])
        if self._ivf is not None:
            self._ivf.add(rows)
            self._gpu_ivf = None

    # ------------------------------------------------------------ faiss
    def _use_gpu(self) -> bool:
        num_gpus = self._faiss.get_num_gpus()
        if self.params['use_gpu'] is True and num_gpus == 0:
            raise RuntimeError('use_gpu=True but faiss sees no GPU (a '
                               'faiss-gpu build and a GPU are needed)')
        return bool(self.params['use_gpu']) and num_gpus > 0

    def _gpu_resources(self):
        if self._gpu is None:
            self._gpu = self._faiss.StandardGpuResources()
        return self._gpu

    def train(self) -> None:
        """Train the compressed index on the stored descriptors and encode
        them (done on first search when not called)."""
        if self.mode != 'compressed':
            raise ValueError('Only the compressed mode is trained')
        p, vectors = self.params, self._store.array
        need = max(p['nlist'], 2**p['pq_bits'])
        if len(vectors) < need:
            raise ValueError(
                f'The compressed index needs >= {need} descriptors to train '
                f'(nlist={p["nlist"]}, pq_bits={p["pq_bits"]}), has '
                f'{len(vectors)}; use fewer lists or mode="exact"')
        self._ivf = build_ivf(self._faiss, self.dim, vectors, p)
        self._gpu_ivf = None

    def _searcher(self):
        """The trained IVF-PQ index (on the GPU when used)."""
        if self._ivf is None:
            self.train()
        index = self._ivf
        if not uses_fast_scan(self.params) and self._use_gpu():
            # A GPU copy, made again after the CPU index changed.
            if self._gpu_ivf is None:
                self._gpu_ivf = self._faiss.index_cpu_to_gpu(
                    self._gpu_resources(), 0, index)
            index = self._gpu_ivf
        index.nprobe = self.params['nprobe']
        return index

    def _knn(self, query: np.ndarray, num: int) -> Tuple[np.ndarray, ...]:
        """Brute-force inner-product top-``num`` (similarities, rows).

        faiss on a GPU; on CPU a float32 GEMM (numpy's BLAS) per block of
        the gallery and torch's top-k, measured 7x faster than faiss-cpu's
        brute force here (faiss 1.15, 2 cores).
        """
        faiss, vectors = self._faiss, self._store.array
        if self._use_gpu() and num <= 2048:  # faiss-gpu's largest k
            return faiss.knn_gpu(
                self._gpu_resources(),
                query,
                vectors,
                num,
                metric=faiss.METRIC_INNER_PRODUCT)
        best_s = torch.full((len(query), 0), -np.inf)
        best_i = torch.zeros((len(query), 0), dtype=torch.int64)
        step = max(num, (1 << 24) // len(query))
        for start in range(0, len(vectors), step):
            sims = torch.from_numpy(query @ vectors[start:start + step].T)
            top_s, top_i = sims.topk(min(num, sims.shape[1]), dim=1)
            best_s = torch.cat([best_s, top_s], 1)
            best_i = torch.cat([best_i, top_i + start], 1)
            best_s, pos = best_s.topk(min(num, best_s.shape[1]), dim=1)
            best_i = best_i.gather(1, pos)
        return best_s.numpy(), best_i.numpy()

    def _rank(self, query: np.ndarray, cand: np.ndarray, k: int,
              q_labels: Pair, g_labels: Pair) -> Pair:
        """Re-score each query's candidates exactly and rank them.

        Args:
            query (np.ndarray): Normalised (C, D) queries.
            cand (np.ndarray): (C, m) candidate rows, -1 for none.
            k (int): List length.
            q_labels (tuple[np.ndarray]): ``rank_gallery`` pids and camids
                of these queries.
            g_labels (tuple[np.ndarray]): Those of the whole gallery.

        Returns:
            tuple[np.ndarray]: (C, k) rows and distances, -1 / inf padded.
        """
        valid = cand >= 0
        vectors = self._store.array[np.where(valid, cand, 0).ravel()]
        own = exact_distances(query[:, None],
                              vectors.reshape(*cand.shape, self.dim))
        # rank_gallery needs shared columns: the union of the candidates
        # in gallery order (so ties keep gallery order), others at inf.
        union, column = np.unique(cand[valid], return_inverse=True)
        dist = np.full((len(query), len(union)), np.inf, np.float32)
        rows, cols = np.nonzero(valid)
        dist[rows, column] = own[rows, cols]
        g_pids, g_cams = g_labels
        idx, dists = rank_gallery(dist, k, q_labels[0], g_pids[union],
                                  q_labels[1], g_cams[union])
        out = np.full((len(query), k), -1, np.int64)
        out_d = np.full((len(query), k), np.inf, np.float32)
        found = (idx >= 0) & np.isfinite(dists)
        out[:, :idx.shape[1]] = np.where(found, union[np.maximum(idx, 0)], -1)
        out_d[:, :idx.shape[1]] = np.where(found, dists, np.inf)
        return out, out_d

    def _search_block(self, query: np.ndarray, k: int, q_labels: Pair,
                      g_labels: Pair) -> Pair:
        """Search a block of normalised queries, growing the candidate
        lists of queries whose result is not yet certain."""
        total = self.ntotal
        exact = self.mode == 'exact'
        searcher = None if exact else self._searcher()
        # faiss's float32 inner products differ from exact ones by at most
        # D * 2**-24 for unit vectors; twice that bounds both roundings.
        eps = self.dim * 2.0**-23 + 2.0**-22
        num = min(
            total,
            max(2 * k, k + 32) if exact else max(k, self.params['shortlist']))
        out = np.full((len(query), k), -1, np.int64)
        out_d = np.full((len(query), k), np.inf, np.float32)
        todo = np.arange(len(query))
        while len(todo):
            step = max(1, _MAX_GATHER // (num * self.dim))
            retry = []
            for start in range(0, len(todo), step):
                rows = todo[start:start + step]
                q = query[rows]
                sims, cand = self._knn(q, num) if exact else searcher.search(
                    q, num)
                idx, dist = self._rank(q, cand, k,
                                       (q_labels[0][rows], q_labels[1][rows]),
                                       g_labels)
                if num >= total:
                    done = np.ones(len(rows), bool)
                elif exact:
                    bound = 1.0 - sims[:, -1].astype(np.float64) - eps
                    done = dist[:, -1] < bound
                else:
                    # Fewer than k left after exclusion: ask for more,
                    # unless the probed lists are exhausted.
                    done = (idx[:, -1] >= 0) | (cand[:, -1] < 0)
                out[rows[done]], out_d[rows[done]] = idx[done], dist[done]
                retry.append(rows[~done])
            todo = np.concatenate(retry)
            num = min(total, 2 * num)
        return out, out_d

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
            query_feats (np.ndarray | torch.Tensor): Floating-point (Q, D).
            topk (int): List length; at most ``ntotal``. Defaults to 10.
            query_pids (array-like, optional): (Q, ) int ids.
            query_camids (array-like, optional): (Q, ) int camera ids.

        Returns:
            tuple[Tensor, Tensor]: As :func:`mmreid_video.apis.search`:
            (Q, k) int64 gallery rows and float32 distances, best first,
            -1 / inf padding.
        """
        if self.ntotal == 0:
            raise ValueError('The GalleryIndex is empty: add() first')
        q = normalize_rows(
            check_descriptors(query_feats, 'query_feats', self.dim))
        topk = check_topk(topk)
        q_pids, g_pids, q_cams, g_cams = exclusion_labels(
            check_labels(query_pids, 'query_pids', len(q)),
            check_labels(query_camids, 'query_camids', len(q)), self.pids,
            self.camids, len(q), self.ntotal)
        k = min(topk, self.ntotal)
        indices = np.empty((len(q), k), np.int64)
        dists = np.empty((len(q), k), np.float32)
        block = self.params['block_size']
        for start in range(0, len(q), block):
            rows = slice(start, start + block)
            indices[rows], dists[rows] = self._search_block(
                q[rows], k, (q_pids[rows], q_cams[rows]), (g_pids, g_cams))
        return torch.from_numpy(indices), torch.from_numpy(dists)

    def evaluate(
        self,
        query_feats: ArrayLike,
        query_pids: Labels,
        query_camids: Labels,
        topk: int = 100,
        ranks: Sequence[int] = (1, 5, 10)) -> Dict[str, float]:
        """R-n and mAP@k from the index's top-k lists (re-ID rule).

        Args:
            query_feats (np.ndarray | torch.Tensor): (Q, D) descriptors.
            query_pids (array-like): (Q, ) int ids.
            query_camids (array-like): (Q, ) int camera ids.
            topk (int): List length k of mAP@k. Defaults to 100.
            ranks (Sequence[int]): The n of R-n. Defaults to (1, 5, 10).

        Returns:
            dict: ``R1``, ``R5``, ``R10``, ``mAP@{k}`` (fractions) and
            ``num_valid_queries``; see ``_topk_metrics.topk_metrics``.
        """
        if query_pids is None or query_camids is None:
            raise ValueError('evaluate() needs query_pids and query_camids')
        indices, _ = self.search(query_feats, topk, query_pids, query_camids)
        num_q = len(indices)
        return topk_metrics(indices.numpy(),
                            check_labels(query_pids, 'query_pids', num_q),
                            check_labels(query_camids, 'query_camids', num_q),
                            self.pids, self.camids, ranks)
