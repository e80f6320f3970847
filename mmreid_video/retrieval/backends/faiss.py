# Copyright (c) mmreid_video contributors. All rights reserved.
"""The faiss backend: galleries on one machine, exact or compressed."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmreid_video.evaluation.functional import rank_gallery
from .._exact import exact_distances, exclusion_labels
from .._vector_store import VectorStore
from . import _faiss_io
from ._ivf import FAST_SCAN_BITS, encode, train_ivf, uses_fast_scan
from .base import GalleryBackend, Labels, Pair, check_mode_and_dim

# Parameters of each mode and their defaults.
PARAMS = dict(
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
# Candidate descriptors gathered at once (float64 values, 128 MB).
_MAX_GATHER = 1 << 24


def import_faiss():
    """Import faiss, or fail with the install hint."""
    try:
        import faiss
    except ImportError as err:
        raise ImportError(
            'This GalleryIndex needs faiss (the compressed mode, or the '
            'exact mode on a GPU): `pip install faiss-cpu` (or a faiss-gpu '
            'build); see requirements/optional.txt') from err
    return faiss


def check_params(dim: int, mode: str, params: dict) -> dict:
    """Fill in defaults and validate the parameters of a mode."""
    check_mode_and_dim(mode, PARAMS, dim)
    unknown = sorted(set(params) - set(PARAMS[mode]))
    if unknown:
        raise TypeError(f'Unknown {mode} GalleryIndex parameters {unknown}; '
                        f'allowed: {sorted(PARAMS[mode])}')
    out = dict(PARAMS[mode], **params)
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
        out['pq_m'] = max(
            m for m in range(1,
                             min(dim, 128) + 1) if dim % m == 0)
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


class FaissBackend(GalleryBackend):
    """A gallery on faiss, in this process.

    - ``'exact'``: a float32 brute-force inner product (faiss on a GPU, a
      BLAS GEMM on CPU) proposes candidates; they are re-scored exactly and
      ranked by :func:`~mmreid_video.evaluation.functional.rank_gallery`.
      The candidate list grows until no item outside it can enter the top-k
      (float32 rounding error is bounded), so the lists equal
      :func:`~mmreid_video.retrieval.search`'s. Descriptors stay in memory.
    - ``'compressed'``: an IVF-PQ index proposes a ``shortlist`` per query,
      re-scored exactly from the full descriptors, which stay on disk,
      memory-mapped. It is trained on a sample (:meth:`train`, or on first
      search); rows added later are encoded with that training, and shards
      of one training merge by joining their encoded lists.

    See :class:`~mmreid_video.retrieval.GalleryIndex` for the parameters.
    """
    name = 'faiss'

    def __init__(self, dim: int, mode: str = 'exact', **params) -> None:
        super().__init__(dim, mode, **check_params(dim, mode, params))
        # The exact mode on CPU needs no faiss (a BLAS GEMM proposes the
        # candidates): it is imported when first used.
        self._faiss_module = import_faiss() if mode == 'compressed' else None
        self._faiss_missing = False
        self._store = VectorStore(dim, mode == 'compressed',
                                  self.params.get('vectors_dir'))
        self._labels: Dict[str, List[np.ndarray]] = {}
        self._ivf = None
        self.training_id: Optional[str] = None
        self._source: Optional[str] = None
        self._gpu = None
        self._gpu_ivf = None

    @property
    def _faiss(self):
        """The faiss module, imported on first use."""
        if self._faiss_module is None:
            self._faiss_module = import_faiss()
        return self._faiss_module

    def _installed_faiss(self):
        """The faiss module, or None when it is not installed (tried
        once)."""
        if self._faiss_module is None and not self._faiss_missing:
            try:
                self._faiss_module = import_faiss()
            except ImportError:
                self._faiss_missing = True
        return self._faiss_module

    # ----------------------------------------------------------- content
    @property
    def ntotal(self) -> int:
        return len(self._store)

    @property
    def label_names(self) -> Tuple[str, ...]:
        return tuple(sorted(self._labels))

    def labels(self, name: str) -> Optional[np.ndarray]:
        parts = self._labels.get(name)
        if parts is None:
            return None
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0]

    def add(self,
            rows: np.ndarray,
            labels: Labels,
            ids: Optional[np.ndarray] = None) -> None:
        self._store.append(rows)
        for name, value in labels.items():
            if value is not None:
                self._labels.setdefault(name, []).append(value)
        if self._ivf is not None:
            encode(self._ivf, [rows])
            self._gpu_ivf = None

    @property
    def is_trained(self) -> bool:
        """Whether the compressed index is trained."""
        return self._ivf is not None

    def train(self, sample: Optional[np.ndarray] = None) -> None:
        """Train the compressed index and encode the stored rows.

        Args:
            sample (np.ndarray, optional): Normalised float32 rows to train
                on, e.g. a sample of a gallery built as shards (``train_size``
                of them are drawn). Defaults to None (the stored rows).
        """
        if self.mode != 'compressed':
            raise ValueError('Only the compressed mode is trained')
        p = self.params
        num = len(self._store) if sample is None else len(sample)
        need = max(p['nlist'], 2**p['pq_bits'])
        if num < need:
            raise ValueError(
                f'The compressed index needs >= {need} descriptors to train '
                f'(nlist={p["nlist"]}, pq_bits={p["pq_bits"]}), got {num}; '
                'use fewer lists or mode="exact"')
        take = self._store.take if sample is None else sample.__getitem__
        self._ivf, self.training_id = train_ivf(self._faiss, self.dim, num,
                                                take, p)
        encode(self._ivf, (block for _, block in self._store.blocks(1 << 16)))
        self._gpu_ivf = None

    def memory_bytes(self) -> int:
        """Bytes held in memory (descriptors of the compressed mode are on
        disk and not counted)."""
        labels = sum(self.labels(n).nbytes for n in self._labels)
        if self.mode == 'exact':
            return self._store.nbytes + labels
        if self._ivf is None:
            return labels
        return int(self._faiss.serialize_index(self._ivf).nbytes) + labels

    @property
    def vectors(self) -> List[np.ndarray]:
        """The stored normalised rows, as consecutive arrays."""
        return self._store.parts

    # ------------------------------------------------------ persistence
    def save(self, path: str) -> None:
        _faiss_io.save(self, path)

    @classmethod
    def load(cls,
             path: str,
             verify: bool = True,
             vectors_dir: Optional[str] = None) -> 'FaissBackend':
        return _faiss_io.load(cls, path, verify, vectors_dir)

    @classmethod
    def merge(cls,
              shards: Sequence['FaissBackend'],
              retrain: bool = False) -> 'FaissBackend':
        return _faiss_io.merge(cls, shards, retrain)

    # ------------------------------------------------------------ search
    def _use_gpu(self) -> bool:
        wanted = self.params['use_gpu']
        if wanted is False or (wanted == 'auto'
                               and self._installed_faiss() is None):
            return False
        num_gpus = self._faiss.get_num_gpus()
        if self.params['use_gpu'] is True and num_gpus == 0:
            raise RuntimeError('use_gpu=True but faiss sees no GPU (a '
                               'faiss-gpu build and a GPU are needed)')
        return bool(self.params['use_gpu']) and num_gpus > 0

    def _gpu_resources(self):
        if self._gpu is None:
            self._gpu = self._faiss.StandardGpuResources()
        return self._gpu

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

    def _knn(self, query: np.ndarray, num: int) -> Pair:
        """Brute-force inner-product top-``num`` (similarities, rows).

        faiss on a GPU; on CPU a float32 GEMM (numpy's BLAS) per block of
        the gallery and torch's top-k, measured 7x faster than faiss-cpu's
        brute force here (faiss 1.15, 2 cores).
        """
        if self._use_gpu() and num <= 2048:  # faiss-gpu's largest k
            return self._faiss.knn_gpu(
                self._gpu_resources(),
                query,
                self._store.joined(),
                num,
                metric=self._faiss.METRIC_INNER_PRODUCT)
        best_s = torch.full((len(query), 0), -np.inf)
        best_i = torch.zeros((len(query), 0), dtype=torch.int64)
        step = max(num, (1 << 24) // len(query))
        for start, block in self._store.blocks(step):
            sims = torch.from_numpy(query @ block.T)
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
        vectors = self._store.take(np.where(valid, cand, 0).ravel())
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

    def search(self, query: np.ndarray, k: int,
               query_pids: Optional[np.ndarray],
               query_camids: Optional[np.ndarray]) -> Pair:
        q_pids, g_pids, q_cams, g_cams = exclusion_labels(
            query_pids, query_camids, self.labels('pids'),
            self.labels('camids'), len(query), self.ntotal)
        indices = np.empty((len(query), k), np.int64)
        dists = np.empty((len(query), k), np.float32)
        block = self.params['block_size']
        for start in range(0, len(query), block):
            rows = slice(start, start + block)
            indices[rows], dists[rows] = self._search_block(
                query[rows], k, (q_pids[rows], q_cams[rows]), (g_pids, g_cams))
        return indices, dists
