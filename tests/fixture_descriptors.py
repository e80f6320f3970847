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


def tied_data(seed, num_g=300, num_q=40, dim=16):
    """Descriptors with four entries of +-1: every cosine is a multiple of
    1/4, exact in any arithmetic, so lists are full of exact ties."""
    rng = np.random.default_rng(seed)

    def draw(n):
        x = np.zeros((n, dim), np.float32)
        for row in x:
            row[rng.choice(dim, 4, replace=False)] = rng.choice([-1, 1], 4)
        return x

    g, q = draw(num_g), draw(num_q)
    g_pids, q_pids = rng.integers(0, 30, num_g), rng.integers(0, 30, num_q)
    g_cams, q_cams = rng.integers(0, 3, num_g), rng.integers(0, 3, num_q)
    return q, g, q_pids, g_pids, q_cams, g_cams
