# Copyright (c) mmreid_video contributors. All rights reserved.
"""The IVF-PQ index behind GalleryIndex's compressed mode."""
import numpy as np

# faiss's SIMD "fast-scan" kernels exist for 4-bit codes only, on CPU only.
FAST_SCAN_BITS = 4
# Training descriptors per list by default: faiss's k-means minimum (it
# warns below); at 1M x 512-d, 4096 lists, recall@10 0.975 vs 0.959 with
# 16 per list (docs/retrieval.md).
POINTS_PER_LIST = 39


def uses_fast_scan(params: dict) -> bool:
    """Whether codes of these parameters are scanned by fast-scan."""
    return params['pq_bits'] == FAST_SCAN_BITS


def build_ivf(faiss, dim: int, vectors: np.ndarray, params: dict):
    """Train an IVF-PQ index on a sample of ``vectors`` and add them all.

    4-bit codes make an ``IndexIVFPQFastScan`` (lookup tables in SIMD
    registers: at 1M x 512-d, with the same lists and code bytes, it probes
    3x the lists of 8-bit codes at 1.6x the query rate, see
    docs/retrieval.md); other widths an ``IndexIVFPQ``.

    Args:
        faiss (module): The faiss module.
        dim (int): Descriptor length D.
        vectors (np.ndarray): float32 (N, D) normalised descriptors (may be
            memory-mapped; read a block at a time).
        params (dict): The compressed mode's parameters.

    Returns:
        faiss.IndexIVF: The trained index holding every row, owning its
        coarse quantizer.
    """
    rng = np.random.default_rng(params['seed'])
    train_size = params['train_size'] or POINTS_PER_LIST * params['nlist']
    sample = np.sort(
        rng.choice(
            len(vectors), min(len(vectors), train_size), replace=False))
    quantizer = faiss.IndexFlatIP(dim)
    index_type = faiss.IndexIVFPQFastScan if uses_fast_scan(
        params) else faiss.IndexIVFPQ
    ivf = index_type(quantizer, dim, params['nlist'], params['pq_m'],
                     params['pq_bits'], faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = ivf.pq.cp.seed = params['seed']
    ivf.train(np.ascontiguousarray(vectors[sample]))
    for start in range(0, len(vectors), 1 << 16):
        ivf.add(np.ascontiguousarray(vectors[start:start + (1 << 16)]))
    # The index owns its quantizer from now on (as when deserialised).
    ivf.own_fields = True
    quantizer.this.disown()
    return ivf
