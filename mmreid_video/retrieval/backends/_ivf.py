# Copyright (c) mmreid_video contributors. All rights reserved.
"""The IVF-PQ index behind the faiss backend's compressed mode: training
(with the id that tells trainings apart), encoding and joining encoded
shards."""
from typing import Callable, Iterable, Sequence, Tuple

import numpy as np

from mmreid_video.utils.fingerprint import bytes_fingerprint

# faiss's SIMD "fast-scan" kernels exist for 4-bit codes only, on CPU only.
FAST_SCAN_BITS = 4
# Training descriptors per list by default: faiss's k-means minimum (it
# warns below); at 1M x 512-d, 4096 lists, recall@10 0.975 vs 0.959 with
# 16 per list (docs/retrieval.md).
POINTS_PER_LIST = 39
# Rows encoded per faiss call.
ADD_BLOCK = 1 << 16


def uses_fast_scan(params: dict) -> bool:
    """Whether codes of these parameters are scanned by fast-scan."""
    return params['pq_bits'] == FAST_SCAN_BITS


def training_rows(num: int, params: dict) -> np.ndarray:
    """The sorted rows (of ``num``) that training reads.

    ``train_size`` rows (default: ``POINTS_PER_LIST`` per list) drawn with
    ``seed``: the same rows for the same ``num``, so a template trained on
    a gallery and that gallery trained afresh get the same training.
    """
    rng = np.random.default_rng(params['seed'])
    train_size = params['train_size'] or POINTS_PER_LIST * params['nlist']
    return np.sort(rng.choice(num, min(num, train_size), replace=False))


def train_ivf(faiss, dim: int, num: int, take: Callable[[np.ndarray],
                                                        np.ndarray],
              params: dict) -> Tuple[object, str]:
    """Train an empty IVF-PQ index on rows drawn from ``num`` descriptors.

    4-bit codes make an ``IndexIVFPQFastScan`` (lookup tables in SIMD
    registers: at 1M x 512-d, with the same lists and code bytes, it probes
    3x the lists of 8-bit codes at 1.6x the query rate, see
    docs/retrieval.md); other widths an ``IndexIVFPQ``.

    Args:
        faiss (module): The faiss module.
        dim (int): Descriptor length D.
        num (int): Number of descriptors to draw from.
        take (Callable): Row numbers -> float32 (n, D) normalised rows.
        params (dict): The compressed mode's parameters.

    Returns:
        tuple: The trained, empty ``faiss.IndexIVF`` (owning its coarse
        quantizer) and its training id: the fingerprint of the trained
        index, equal for equal trainings whatever process made them.
    """
    quantizer = faiss.IndexFlatIP(dim)
    index_type = faiss.IndexIVFPQFastScan if uses_fast_scan(
        params) else faiss.IndexIVFPQ
    ivf = index_type(quantizer, dim, params['nlist'], params['pq_m'],
                     params['pq_bits'], faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = ivf.pq.cp.seed = params['seed']
    ivf.train(np.ascontiguousarray(take(training_rows(num, params))))
    # The index owns its quantizer from now on (as when deserialised).
    ivf.own_fields = True
    quantizer.this.disown()
    return ivf, training_id(faiss, ivf)


def training_id(faiss, ivf) -> str:
    """The fingerprint of a trained index emptied of its rows (centroids
    and codebooks: what decides every code)."""
    if ivf.ntotal:
        ivf = faiss.clone_index(ivf)
        ivf.reset()
    return bytes_fingerprint(faiss.serialize_index(ivf))


def encode(ivf, blocks: Iterable[np.ndarray]) -> None:
    """Add (encode) normalised rows to a trained index, block by block."""
    for block in blocks:
        for start in range(0, len(block), ADD_BLOCK):
            ivf.add(np.ascontiguousarray(block[start:start + ADD_BLOCK]))


def join(faiss, shards: Sequence) -> object:
    """One index holding the encoded lists of shards of one training.

    faiss's ``merge_from`` appends each shard's inverted lists (their codes
    as encoded, row numbers shifted), so the result holds exactly the codes
    that encoding every row into one index gives. The shards are left
    untouched (copies are merged).

    Args:
        faiss (module): The faiss module.
        shards (Sequence[faiss.IndexIVF]): Trained alike, in row order.

    Returns:
        faiss.IndexIVF: A new index.
    """
    merged = faiss.clone_index(shards[0])
    for shard in shards[1:]:
        merged.merge_from(faiss.clone_index(shard), merged.ntotal)
    return merged
