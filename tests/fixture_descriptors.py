# Copyright (c) mmreid_video contributors. All rights reserved.
"""Synthetic descriptors shared by the retrieval tests."""
from typing import Tuple

import numpy as np


def clustered(seed: int,
              num_ids: int = 50,
              per_id: int = 12,
              dim: int = 32,
              noise: float = 0.5) -> Tuple[np.ndarray, ...]:
    """Identity clusters, float data (no planted ties).

    Returns:
        tuple[np.ndarray]: float32 (num_ids * per_id, dim) descriptors,
        their pids (each id ``per_id`` times, in order) and random camids
        in [0, 4).
    """
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((num_ids, dim))
    pids = np.repeat(np.arange(num_ids), per_id)
    feats = centers[pids] + noise * rng.standard_normal((len(pids), dim))
    return feats.astype(np.float32), pids, rng.integers(0, 4, len(pids))
