# Copyright (c) mmreid_video contributors. All rights reserved.
"""Re-ID evaluation: functional ranking kernels, the metric, its protocol
description and checks, and the records that let a result be reused."""
from . import functional, metrics
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .protocol import check_metric_fits, check_rerank_cfg, describe_protocol
from .result_records import (evaluation_fingerprints, read_test_log,
                             reusable_result, write_result_record)

__all__ = functional.__all__ + metrics.__all__ + [
    'check_metric_fits', 'check_rerank_cfg', 'describe_protocol',
    'evaluation_fingerprints', 'read_test_log', 'reusable_result',
    'write_result_record'
]
