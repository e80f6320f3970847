"""PRID-2011 (multi-shot), read from its published layout and split file."""
import json
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

from mmreid_video.registry import DATASETS
from .base_dataset import (VideoReIDDataset, check_layout, format_error,
                           relabel_pids)

MULTI_SHOT = osp.join('prid_2011', 'multi_shot')
PERSON = re.compile(r'^person_(\d+)$')
FRAME = re.compile(r'^(\d+)\.png$')


@DATASETS.register_module()
class PRID2011(VideoReIDDataset):
    """PRID-2011 (Hirzer et al., SCIA 2011), multi-shot, video protocol.

    The video re-ID protocol (Wang et al., ECCV 2014) uses 178 of the 200
    persons seen by both cameras and ten random 89/89 train/test splits of
    them. ``split_file`` holds the splits as torchreid distributes them
    (``splits_prid2011.json``): a list of ``{"train": [...], "test":
    [...]}`` with person folder names (``"person_0001"``). ``split='train'``
    yields both cameras of the train persons (pids relabelled);
    ``split='test'`` yields the ``cam_a`` sequences of the test persons as
    queries and their ``cam_b`` sequences as the gallery. ``pid`` is the
    person number of the folder name; frames are sorted by their number.

    Args:
        data_root (str): The folder holding ``prid_2011/`` and the split
            file (see ``LAYOUT``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        split_id (int): Which split of the split file, from 0.
            Defaults to 0.
        split_file (str): The split file, relative to ``data_root``.
            Defaults to ``'splits_prid2011.json'``.
        pipeline (Sequence[dict | Callable]): Transforms. Defaults to ().
        metainfo (dict, optional): Extra meta information. Defaults to None.
        indices (int | Sequence[int], optional): Use a subset.
            Defaults to None.
        serialize_data (bool): Share the data list between workers.
            Defaults to True.
        lazy_init (bool): Defer loading until ``full_init()``.
            Defaults to False.
        max_refetch (int): See :class:`mmengine.dataset.BaseDataset`.
            Defaults to 1000.
    """

    METAINFO: dict = dict(
        dataset_name='PRID-2011', camera_names=('cam_a', 'cam_b'))
    CAMERAS = ('cam_a', 'cam_b')
    LAYOUT = """<data_root>/
  splits_prid2011.json   [{"train": ["person_0001", ...], "test": [...]}, ...]
  prid_2011/multi_shot/cam_a/person_0001/0001.png ...
  prid_2011/multi_shot/cam_b/person_0001/0001.png ..."""

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_id: int = 0,
                 split_file: str = 'splits_prid2011.json',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        if not isinstance(split_id, int) or split_id < 0:
            raise ValueError(f'split_id must be an int >= 0, got {split_id}')
        self.split_id = split_id
        self.split_file = split_file
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            metainfo=metainfo,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init,
            max_refetch=max_refetch)
        self._metainfo['split_id'] = split_id

    def load_data_list(self) -> List[dict]:
        """Read the persons of split ``split_id``.

        Returns:
            list[dict]: One data info per sequence.
        """
        check_layout(self.data_root, [self.split_file] +
                     [osp.join(MULTI_SHOT, c) for c in self.CAMERAS],
                     self.LAYOUT, 'PRID-2011')
        train, test = self._split()
        self._set_num_ids(len(train))
        if self.split == 'train':
            data_list = [
                self._sequence(person, cam) for person in train
                for cam in range(len(self.CAMERAS))
            ]
            relabel_pids(data_list)
            return data_list
        data_list = []
        for cam in range(len(self.CAMERAS)):
            for person in test:
                info = self._sequence(person, cam)
                info.update(is_query=cam == 0, is_gallery=cam == 1)
                data_list.append(info)
        return data_list

    def _split(self) -> tuple:
        """The (train, test) person folders of split ``split_id``."""
        path = osp.join(self.data_root, self.split_file)
        with open(path) as f:
            try:
                splits = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}: not valid JSON ({e})')
        if not isinstance(splits, list):
            raise ValueError(f'{path}: expected a list of splits '
                             '[{"train": [...], "test": [...]}, ...]')
        if self.split_id >= len(splits):
            raise ValueError(f'split_id {self.split_id} is out of range: '
                             f'{path} has {len(splits)} splits')
        split, row = splits[self.split_id], f'[{self.split_id}]'
        names = []
        for key in ('train', 'test'):
            part = split.get(key) if isinstance(split, dict) else None
            if not isinstance(part, list) or not part or not all(
                    isinstance(n, str) and PERSON.match(n) for n in part):
                raise format_error(
                    path, row, f'"{key}" must be a non-empty list of person '
                    'folder names like "person_0001"')
            names.append(part)
        train, test = names
        shared = set(train) & set(test)
        if shared or len(set(train)) < len(train) or \
                len(set(test)) < len(test):
            raise format_error(
                path, row, 'a person is listed twice '
                f'({sorted(shared)[:3] or "within train or test"})')
        for person in train + test:
            for cam in self.CAMERAS:
                folder = osp.join(self.data_root, MULTI_SHOT, cam, person)
                if not osp.isdir(folder):
                    raise format_error(
                        path, row, f'"{person}" has no folder "{folder}"; '
                        'the split file does not match the tree (every '
                        'listed person needs cam_a and cam_b sequences)')
        return train, test

    def _sequence(self, person: str, cam: int) -> dict:
        """Data info of one person folder of one camera."""
        folder = osp.join(self.data_root, MULTI_SHOT, self.CAMERAS[cam],
                          person)
        frames = []
        for name in os.listdir(folder):
            if name.startswith('.'):
                continue
            m = FRAME.match(name)
            if m is None:
                raise ValueError(f'{osp.join(folder, name)}: expected a '
                                 'frame named <number>.png, e.g. 0001.png')
            frames.append((int(m.group(1)), name))
        if not frames:
            raise ValueError(f'{folder}: empty sequence (no frames)')
        frames.sort()
        return dict(
            frame_paths=[osp.join(folder, n) for _, n in frames],
            pid=int(PERSON.match(person).group(1)),
            camid=cam,
            tracklet_id=f'{self.CAMERAS[cam]}/{person}')
