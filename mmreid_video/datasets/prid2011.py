# Copyright (c) mmreid_video contributors. All rights reserved.
"""PRID-2011 (multi-shot), read from its published layout and split file."""
import json
import os.path as osp
import re
from typing import List, Tuple

from mmreid_video.registry import DATASETS
from .readers import format_error, read_text
from .two_camera import TwoCameraSplitDataset


@DATASETS.register_module()
class PRID2011(TwoCameraSplitDataset):
    """PRID-2011 (Hirzer et al., SCIA 2011), multi-shot, video protocol.

    The video re-ID protocol (Wang et al., ECCV 2014) uses 178 of the 200
    persons that both cameras see, in ten random 89/89 train/test splits.
    ``split_file`` holds the splits as torchreid distributes them
    (``splits_prid2011.json``): a list of ``{"train": [...], "test":
    [...]}`` of person folder names (``"person_0001"``); every listed person
    must have a ``cam_a`` and a ``cam_b`` folder. The protocol is
    :class:`TwoCameraSplitDataset`'s: ``cam_a`` sequences are the queries,
    ``cam_b`` sequences the gallery (as torchreid).

    Args:
        data_root (str): The folder holding ``prid_2011/`` and the split
            file (see ``LAYOUT``).
        split_id (int): Which split of the split file, from 0.
            Defaults to 0.
        split_file (str): The split file, relative to ``data_root``.
            Defaults to ``'splits_prid2011.json'``.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    CAMERAS = ('cam_a', 'cam_b')  # the folder names
    SEQUENCES = osp.join('prid_2011', 'multi_shot')
    PERSON = re.compile(r'^person_(\d+)$')
    FRAME = r'(\d+)\.png'
    METAINFO: dict = dict(dataset_name='PRID-2011', camera_names=CAMERAS)
    LAYOUT = """<data_root>/
  splits_prid2011.json   [{"train": ["person_0001", ...], "test": [...]}, ...]
  prid_2011/multi_shot/cam_a/person_0001/0001.png ...
  prid_2011/multi_shot/cam_b/person_0001/0001.png ..."""

    def __init__(self,
                 data_root: str,
                 split_id: int = 0,
                 split_file: str = 'splits_prid2011.json',
                 **kwargs) -> None:
        self.split_file = split_file
        super().__init__(data_root=data_root, split_id=split_id, **kwargs)

    def split_persons(self) -> Tuple[List[str], List[str]]:
        """The (train, test) person folders of split ``split_id``."""
        path = osp.join(self.data_root, self.split_file)
        try:
            splits = json.loads(read_text(path))
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from None
        if not isinstance(splits, list):
            raise ValueError(f'{path}: expected a list of splits '
                             '[{"train": [...], "test": [...]}, ...]')
        if self.split_id >= len(splits):
            raise ValueError(f'split_id {self.split_id} is out of range: '
                             f'{path} has {len(splits)} splits')
        split, row = splits[self.split_id], f'[{self.split_id}]'
        parts = []
        for key in ('train', 'test'):
            part = split.get(key) if isinstance(split, dict) else None
            if not isinstance(part, list) or not part or not all(
                    isinstance(n, str) and self.PERSON.match(n) for n in part):
                raise format_error(
                    path, row, f'"{key}" must be a non-empty list of person '
                    'folder names like "person_0001"')
            parts.append(part)
        train, test = parts
        if len(set(train + test)) < len(train) + len(test):
            twice = sorted(
                n for n in set(train + test) if (train + test).count(n) > 1)
            raise format_error(path, row, f'persons listed twice: {twice[:5]}')
        for person in train + test:
            for cam in self.CAMERAS:
                folder = osp.join(self.data_root, self.SEQUENCES, cam, person)
                if not osp.isdir(folder):
                    raise format_error(
                        path, row, f'"{person}" has no folder "{folder}": '
                        'the split file does not match the tree (every '
                        'listed person needs cam_a and cam_b sequences)')
        return train, test
