"""Input checks shared by the APIs that take descriptors and labels.

numpy arrays and torch tensors are accepted alike; anything that would give
silently wrong rankings (NaN, inf, a wrong shape or dtype, a label array of
the wrong length) is an error naming the argument and, for values, the row.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

ArrayLike = Union[np.ndarray, torch.Tensor]
Labels = Union[ArrayLike, Sequence[int]]


def _to_numpy(x, name: str) -> np.ndarray:
    """A numpy view of an array or tensor (tensors moved to the CPU)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        # bfloat16 has no numpy dtype; floats are compared as float32.
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f'`{name}` must be a numpy array or a torch tensor, '
                    f'got {type(x).__name__}')


def check_descriptors(feats: ArrayLike,
                      name: str,
                      dim: Optional[int] = None) -> np.ndarray:
    """Validate descriptors and cast them to float32.

    Args:
        feats (np.ndarray | torch.Tensor): Floating-point (N, D), N >= 1.
        name (str): Argument name used in error messages.
        dim (int, optional): Required D. Defaults to None (any).

    Returns:
        np.ndarray: float32 (N, D).
    """
    arr = _to_numpy(feats, name)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f'`{name}` must be a non-empty (N, D) array of '
                         f'descriptors, got shape {arr.shape}')
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f'`{name}` has dimension {arr.shape[1]}, '
                         f'expected {dim}')
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f'`{name}` must be floating point (float16/32/64), '
                        f'got {arr.dtype}')
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f'`{name}` row {row} contains NaN or inf '
                         f'({(~finite).sum()} bad rows in all)')
    return arr.astype(np.float32, copy=False)


def normalize_rows(feats: np.ndarray) -> np.ndarray:
    """L2-normalise float32 rows exactly as the evaluator does.

    ``F.normalize`` on float32, as in
    :func:`mmreid_video.evaluation.functional.compute_distance`, so inner
    products of the result are bit-identical to the evaluator's GEMM input.

    Args:
        feats (np.ndarray): float32 (N, D).

    Returns:
        np.ndarray: C-contiguous float32 (N, D), unit-norm rows (an all-zero
        row stays zero).
    """
    tensor = F.normalize(torch.from_numpy(np.ascontiguousarray(feats)), dim=1)
    return tensor.numpy()


def check_labels(labels: Optional[Labels], name: str,
                 size: int) -> Optional[np.ndarray]:
    """Validate a per-item id array (pids or camids).

    Args:
        labels (array-like, optional): Integer ids of shape (size, ).
        name (str): Argument name used in error messages.
        size (int): The number of items.

    Returns:
        np.ndarray | None: int64 ids, or None when ``labels`` is None.
    """
    if labels is None:
        return None
    arr = _to_numpy(labels, name) if isinstance(
        labels, (np.ndarray, torch.Tensor)) else np.asarray(labels)
    if arr.shape != (size, ):
        raise ValueError(f'`{name}` must have shape ({size},), got '
                         f'{arr.shape}')
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f'`{name}` must hold integer ids, got {arr.dtype}')
    return arr.astype(np.int64, copy=False)


def check_topk(topk: int) -> int:
    """Validate a list length."""
    if isinstance(topk, bool) or not isinstance(topk, (int, np.integer)) \
            or topk < 1:
        raise ValueError(f'topk must be an integer >= 1, got {topk!r}')
    return int(topk)


def exclusion_labels(
        q_pids: Optional[np.ndarray], q_camids: Optional[np.ndarray],
        g_pids: Optional[np.ndarray], g_camids: Optional[np.ndarray],
        num_q: int,
        num_g: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels that make ``rank_gallery`` apply the wanted exclusion rule.

    ``rank_gallery`` leaves out gallery items with the query's pid *and*
    camera. Query pids and camids apply that re-ID rule; camids alone
    exclude same-camera items (all pids equal); no labels exclude nothing
    (query and gallery on distinct pids and cameras).

    Args:
        q_pids, q_camids (np.ndarray, optional): Checked query labels.
        g_pids, g_camids (np.ndarray, optional): Checked gallery labels.
        num_q (int): Number of queries.
        num_g (int): Number of gallery items.

    Returns:
        tuple[np.ndarray]: ``q_pids, g_pids, q_camids, g_camids`` for
        ``rank_gallery``.
    """
    if q_pids is not None and q_camids is None:
        raise ValueError('query_pids need query_camids: the re-ID rule '
                         'excludes gallery items of the same pid AND camera')
    if q_camids is not None and g_camids is None:
        raise ValueError('query_camids were given but the gallery has no '
                         'camids')
    if q_pids is not None and g_pids is None:
        raise ValueError('query_pids were given but the gallery has no pids')
    if q_pids is not None:
        return q_pids, g_pids, q_camids, g_camids
    zeros_q, zeros_g = np.zeros(num_q, np.int64), np.zeros(num_g, np.int64)
    if q_camids is not None:
        return zeros_q, zeros_g, q_camids, g_camids
    return zeros_q, zeros_g + 1, zeros_q, zeros_g + 1


def exact_distances(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Cosine distances of normalised rows, exact to float32 rounding.

    Products of float32 values are exact in float64 and the sum's error is
    far below float32 resolution, so the result does not depend on how a
    BLAS blocks the product (float32 GEMMs differ in the last bit with the
    number of rows): whole galleries and candidate lists get the same
    distances and ties.

    Args:
        query (np.ndarray): Normalised float32 (C, D), or (C, 1, D) with a
            gallery of per-query candidates.
        gallery (np.ndarray): Normalised float32 (M, D), or (C, M, D).

    Returns:
        np.ndarray: float32 (C, M), ``1 - cosine similarity``.
    """
    q64 = query.astype(np.float64)
    if gallery.ndim == 3:
        sim = (q64 @ gallery.astype(np.float64).transpose(0, 2, 1))[:, 0]
        return np.subtract(1.0, sim, out=sim).astype(np.float32)
    out = np.empty((len(query), len(gallery)), np.float32)
    # float64 copies of the gallery are made a block at a time.
    step = max(1, (1 << 20) // gallery.shape[1])
    for start in range(0, len(gallery), step):
        sim = q64 @ gallery[start:start + step].astype(np.float64).T
        out[:, start:start + step] = np.subtract(1.0, sim, out=sim)
    return out
