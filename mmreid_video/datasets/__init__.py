from .base_dataset import VideoReIDDataset
from .demo import ensure_demo_dataset, make_demo_dataset
from .demo_mars import DemoMARS
from .worker_init import epoch_worker_init_fn
from .dukev import DukeMTMCVideoReID
from .ilidsvid import iLIDSVID
from .mars import MARS

__all__ = [
    'VideoReIDDataset', 'MARS', 'DukeMTMCVideoReID', 'iLIDSVID',
    'make_demo_dataset', 'ensure_demo_dataset'
]

from .samplers import *  # noqa
from .transforms import *  # noqa
