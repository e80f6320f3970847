# Copyright (c) mmreid_video contributors. All rights reserved.
"""Video re-ID datasets, their transforms and samplers."""
from .base_dataset import BaseVideoReIDDataset
from .custom import CustomVideoReIDDataset
from .dukev import DukeMTMCVideoReID
from .ilidsvid import iLIDSVID
from .layout import DatasetLayoutError
from .lsvid import LSVID
from .mars import MARS
from .prid2011 import PRID2011
from .synthetic_mars import (SyntheticMARS, ensure_synthetic_mars,
                             make_synthetic_mars)
from .two_camera import TwoCameraSplitDataset
from .worker_init import epoch_worker_init_fn

__all__ = [
    'BaseVideoReIDDataset', 'CustomVideoReIDDataset', 'DatasetLayoutError',
    'MARS', 'DukeMTMCVideoReID', 'iLIDSVID', 'LSVID', 'PRID2011',
    'TwoCameraSplitDataset', 'SyntheticMARS', 'make_synthetic_mars',
    'ensure_synthetic_mars', 'epoch_worker_init_fn'
]

from .samplers import *  # noqa
from .transforms import *  # noqa
