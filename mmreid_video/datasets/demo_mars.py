"""The synthetic demo dataset, read as MARS and written when missing."""
from mmreid_video.registry import DATASETS
from .demo import ensure_demo_dataset
from .mars import MARS


@DATASETS.register_module()
class DemoMARS(MARS):
    """The synthetic demo dataset, read as MARS, created when missing.

    The data is written by :func:`make_demo_dataset` in the exact MARS
    layout, so everything after initialisation is the real :class:`MARS`
    loader. Creation is safe when every DDP rank builds the dataset.

    Args:
        data_root (str): Where the demo data lives (or will be written).
        seed (int): Seed of the generated data. Defaults to 0.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    def __init__(self, data_root: str, seed: int = 0, **kwargs) -> None:
        ensure_demo_dataset(data_root, seed=seed)
        super().__init__(data_root=data_root, **kwargs)
