# Copyright (c) mmreid_video contributors. All rights reserved.
"""Query-gallery distances computed in chunks of queries."""
from typing import Iterator, Optional, Tuple

import torch

from mmreid_video.utils.arrays import (ArrayLike, DeviceLike, as_descriptors,
                                       check_same_dim, to_tensor)

__all__ = [
    'ArrayLike', 'DeviceLike', 'DISTANCE_METRICS', 'default_chunk_size',
    'compute_device', 'to_tensor', 'prepare_features', 'distance_rows',
    'iter_distance_chunks', 'compute_distance'
]

DISTANCE_METRICS = ('cosine', 'euclidean')
# Default block: up to 2048 queries, at most 2**25 distances (128 MB float32).
# Small blocks cost matmul efficiency (MKL: -30% at 256 rows, 2 threads).
_BLOCK_ELEMENTS = 1 << 25


def default_chunk_size(num_gallery: int) -> int:
    """Queries per distance block for a gallery of this size."""
    return max(64, min(2048, _BLOCK_ELEMENTS // max(num_gallery, 1)))


def compute_device(device: Optional[DeviceLike],
                   *arrays: object) -> Optional[torch.device]:
    """The device to compute on; None selects the CPU path.

    Args:
        device (str | torch.device, optional): An explicit device (also
            ``'cpu'``, which runs the device path on the CPU).
        *arrays: Inputs; the first tensor on a non-CPU device decides when
            ``device`` is None.

    Returns:
        torch.device | None: The device, or None for the CPU path.
    """
    if device is not None:
        return torch.device(device)
    for x in arrays:
        if isinstance(x, torch.Tensor) and x.device.type != 'cpu':
            return x.device
    return None


def prepare_features(
        feats: ArrayLike,
        metric: str,
        name: str,
        device: Optional[DeviceLike] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Check and cast features to float32; precompute what the metric needs.

    Inputs are checked by :func:`~mmreid_video.utils.arrays.as_descriptors`
    (the rule of search and ``GalleryIndex`` too).

    Args:
        feats (np.ndarray | torch.Tensor): Features of shape (N, D).
        metric (str): ``'cosine'`` or ``'euclidean'``.
        name (str): Name used in error messages.
        device (str | torch.device, optional): Where the result lives.
            Defaults to None (CPU).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: The features (L2-normalised for
        cosine, whatever their magnitude) and their squared norms (ones for
        cosine).
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f'Unknown distance metric {metric!r}, expected one '
                         f'of {DISTANCE_METRICS}')
    feats = as_descriptors(
        feats, name, device=device, normalize=metric == 'cosine')
    if metric == 'cosine':
        return feats, feats.new_ones(len(feats))
    sq_norms = feats.pow(2).sum(dim=1)
    if not torch.isfinite(sq_norms).all():
        row = int((~torch.isfinite(sq_norms)).nonzero()[0, 0])
        raise ValueError(f'`{name}` row {row} is too large for euclidean '
                         'distances in float32 (its squared norm overflows); '
                         'use the cosine distance or rescale the descriptors')
    return feats, sq_norms


def distance_rows(query: torch.Tensor, query_sq: torch.Tensor,
                  gallery: torch.Tensor, gallery_sq: torch.Tensor,
                  metric: str) -> torch.Tensor:
    """Distances between prepared query rows and the whole gallery.

    Args:
        query (torch.Tensor): Prepared query features (C, D).
        query_sq (torch.Tensor): Squared norms of the query features (C, ).
        gallery (torch.Tensor): Prepared gallery features (G, D).
        gallery_sq (torch.Tensor): Squared norms of the gallery (G, ).
        metric (str): ``'cosine'`` or ``'euclidean'``.

    Returns:
        torch.Tensor: float32 distances of shape (C, G).
    """
    dot = _matmul_t(query, gallery)
    if metric == 'cosine':
        return dot.neg_().add_(1)
    dist = dot.mul_(-2).add_(query_sq[:, None]).add_(gallery_sq[None])
    return dist.clamp_(min=0).sqrt_()


def _matmul_t(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T``; on CPU through numpy's BLAS.

    Distances are one large float32 GEMM, the dominant cost of a MARS
    evaluation on CPU; numpy's OpenBLAS ran it 1.9x faster than torch's MKL
    on the AMD EPYC CPU we benchmark on.
    """
    if a.device.type == 'cpu' and a.dtype == b.dtype == torch.float32:
        return torch.from_numpy(a.numpy() @ b.numpy().T)
    return a @ b.T


def iter_distance_chunks(
    query: ArrayLike,
    gallery: ArrayLike,
    metric: str = 'cosine',
    chunk_size: Optional[int] = None,
    device: Optional[DeviceLike] = None
) -> Iterator[Tuple[slice, torch.Tensor]]:
    """Yield distances for consecutive chunks of queries.

    Only ``chunk_size x G`` distances exist at a time, so a very large
    gallery never needs the full matrix.

    Args:
        query (np.ndarray | torch.Tensor): Query features (Q, D).
        gallery (np.ndarray | torch.Tensor): Gallery features (G, D).
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        chunk_size (int, optional): Number of queries per chunk. Defaults to
            None (up to 2048, at most 2**25 distances).
        device (str | torch.device, optional): Where the distances are
            computed. Defaults to None (where the features are).

    Yields:
        tuple[slice, torch.Tensor]: The query slice and its float32
        distances of shape (len(slice), G).
    """
    device = compute_device(device, query, gallery)
    q, q_sq = prepare_features(query, metric, 'query', device)
    g, g_sq = prepare_features(gallery, metric, 'gallery', device)
    check_same_dim(q.shape[1], g.shape[1])
    if chunk_size is None:
        chunk_size = default_chunk_size(len(g))
    if isinstance(chunk_size,
                  bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f'`chunk_size` must be an int >= 1, got '
                         f'{chunk_size!r}')
    for start in range(0, len(q), chunk_size):
        rows = slice(start, min(start + chunk_size, len(q)))
        yield rows, distance_rows(q[rows], q_sq[rows], g, g_sq, metric)


def compute_distance(query: ArrayLike,
                     gallery: ArrayLike,
                     metric: str = 'cosine',
                     chunk_size: Optional[int] = None,
                     as_numpy: bool = True,
                     device: Optional[DeviceLike] = None) -> ArrayLike:
    """Dense float32 query-gallery distance matrix, filled chunk by chunk.

    Cosine distance is ``1 - <q, g>`` of L2-normalised features; Euclidean
    distance is ``sqrt(max(|q|^2 + |g|^2 - 2 <q, g>, 0))``.

    Args:
        query (np.ndarray | torch.Tensor): Query features (Q, D).
        gallery (np.ndarray | torch.Tensor): Gallery features (G, D).
        metric (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        chunk_size (int, optional): Queries per matmul, bounding the
            temporaries. Defaults to None (up to 2048, at most 2**25
            distances).
        as_numpy (bool): Return a numpy array instead of a tensor.
            Defaults to True.
        device (str | torch.device, optional): Where the distances are
            computed (and the tensor returned). Defaults to None (where the
            features are).

    Returns:
        np.ndarray | torch.Tensor: Distances of shape (Q, G), float32.

    Examples:
        >>> q = np.eye(2, 3, dtype=np.float32)
        >>> compute_distance(q, q).round(3)
        array([[0., 1.],
               [1., 0.]], dtype=float32)
    """
    out = None
    for rows, dist in iter_distance_chunks(query, gallery, metric, chunk_size,
                                           device):
        if out is None:
            num_query = len(query)
            out = dist.new_empty(num_query, dist.shape[1])
        out[rows] = dist
    if out is None:
        raise ValueError('`query` is empty: cannot compute distances')
    return out.cpu().numpy() if as_numpy else out
