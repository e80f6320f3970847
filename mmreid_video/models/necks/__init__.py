# Copyright (c) mmreid_video contributors. All rights reserved.
"""Temporal necks: frame maps to a tracklet descriptor."""
from .di_decoder import DIDecoder
from .ppool import PPool
from .step_emb import STEPEmbedding
from .temporal_avg_pool import TemporalAvgPool

__all__ = ['TemporalAvgPool', 'DIDecoder', 'PPool', 'STEPEmbedding']
