from typing import Callable, Optional, Sequence, Union

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
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Transforms. Defaults to ().
        metainfo (dict, optional): Extra meta information. Defaults to None.
        indices (int | Sequence[int], optional): Use a subset.
            Defaults to None.
        serialize_data (bool): Share the data list between workers.
            Defaults to True.
        lazy_init (bool): Defer loading until ``full_init()``.
            Defaults to False.
    """

    def __init__(self,
                 data_root: str,
                 seed: int = 0,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False) -> None:
        ensure_demo_dataset(data_root, seed=seed)
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            metainfo=metainfo,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init)
