"""Video re-ID datasets, their transforms and samplers."""
from .base_dataset import BaseVideoReIDDataset
from .custom import CustomVideoReIDDataset
from .demo import ensure_demo_dataset, make_demo_dataset
from .demo_mars import DemoMARS
from .dukev import DukeMTMCVideoReID
from .ilidsvid import iLIDSVID
from .lsvid import LSVID
from .mars import MARS
from .prid2011 import PRID2011
from .two_camera import TwoCameraSplitDataset
from .worker_init import epoch_worker_init_fn

__all__ = [
    'BaseVideoReIDDataset', 'CustomVideoReIDDataset', 'MARS',
    'DukeMTMCVideoReID', 'iLIDSVID', 'LSVID', 'PRID2011',
    'TwoCameraSplitDataset', 'DemoMARS', 'make_demo_dataset',
    'ensure_demo_dataset'
]

from .samplers import *  # noqa
from .transforms import *  # noqa
