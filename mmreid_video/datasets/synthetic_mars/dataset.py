# Copyright (c) mmreid_video contributors. All rights reserved.
"""The synthetic MARS-layout dataset, read as MARS, written when missing."""
import json
import os.path as osp

from mmengine.logging import print_log

from mmreid_video.fileio import is_empty_folder
from mmreid_video.registry import DATASETS
from ..mars import MARS
from .files import MARKER
from .generate import make_synthetic_mars


def ensure_synthetic_mars(root: str, seed: int = 0) -> str:
    """Write the default synthetic data to ``root`` if it is missing or
    empty; read any other folder as it is.

    Safe to call from several processes at once (e.g. every DDP rank): the
    data is written to a new folder that is renamed to ``root`` when
    complete, and the processes that lose the race read the winner's data.
    A folder that holds files is never written: synthetic data written
    before (``<root>/synthetic_mars.json``) must be of the same ``seed``,
    and any other content is left to the MARS reader.

    Args:
        root (str): Where the dataset lives, e.g. ``'data/synthetic_mars'``.
        seed (int): Seed of :func:`make_synthetic_mars`. Defaults to 0.

    Returns:
        str: ``root``.
    """
    marker = osp.join(root, MARKER)
    if is_empty_folder(root):
        try:
            make_synthetic_mars(root, seed=seed)
        except FileExistsError:
            if not osp.isfile(marker):  # not another rank's synthetic data
                raise
    elif not osp.isfile(marker):
        print_log(
            f'SyntheticMARS: "{root}" holds data that was not generated '
            f'here (no {MARKER}); reading it as MARS.',
            logger='current')
        return root
    with open(marker) as f:
        made = json.load(f)
    if made.get('seed') != seed:
        raise ValueError(
            f'"{root}" holds the synthetic data of seed {made.get("seed")}, '
            f'not {seed}: set seed={made.get("seed")} to read it, or point '
            f'data_root at a missing or empty folder to write seed {seed}.')
    return root


@DATASETS.register_module()
class SyntheticMARS(MARS):
    """Synthetic MARS-layout data, written when ``data_root`` is missing or
    empty, then read by the :class:`MARS` loader.

    The data is written by :func:`make_synthetic_mars` with its defaults in
    the exact MARS layout (see :func:`ensure_synthetic_mars`), so everything
    after initialisation is the real :class:`MARS` loader; a ``data_root``
    that already holds a MARS-layout dataset is read as it is.

    Args:
        data_root (str): Where the data lives (or will be written).
        seed (int): Seed of the generated data. Defaults to 0.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    def __init__(self, data_root: str, seed: int = 0, **kwargs) -> None:
        ensure_synthetic_mars(data_root, seed=seed)
        super().__init__(data_root=data_root, **kwargs)
