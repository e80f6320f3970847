"""Video re-ID datasets, their transforms and samplers."""
from .base_dataset import BaseVideoReIDDataset
from .custom import CustomVideoReIDDataset
from .dukev import DukeMTMCVideoReID
from .ilidsvid import iLIDSVID
from .mars import MARS
from .synthetic_mars import (SyntheticMARS, ensure_synthetic_mars,
                             make_synthetic_mars)
from .worker_init import epoch_worker_init_fn

__all__ = [
    'BaseVideoReIDDataset', 'CustomVideoReIDDataset', 'MARS',
    'DukeMTMCVideoReID', 'iLIDSVID', 'SyntheticMARS', 'make_synthetic_mars',
    'ensure_synthetic_mars'
]

from .samplers import *  # noqa
from .transforms import *  # noqa
