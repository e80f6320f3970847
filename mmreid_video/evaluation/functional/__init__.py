# Copyright (c) mmreid_video contributors. All rights reserved.
"""Distances, CMC/mAP ranking and re-ranking as plain functions."""
from .distance import compute_distance, iter_distance_chunks
from .rank import evaluate_rank, evaluate_rank_by_features, rank_gallery
from .rerank import k_reciprocal_rerank
from .topk import topk_metrics

__all__ = [
    'compute_distance', 'iter_distance_chunks', 'evaluate_rank',
    'evaluate_rank_by_features', 'rank_gallery', 'k_reciprocal_rerank',
    'topk_metrics'
]
