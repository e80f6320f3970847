# Copyright (c) mmreid_video contributors. All rights reserved.
"""Re-ID evaluation: functional ranking kernels and the metric."""
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
