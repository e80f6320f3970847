"""iLIDS-VID, read from its original published layout."""
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from mmreid_video.registry import DATASETS
from .base_dataset import (VideoReIDDataset, check_layout, format_error,
                           relabel_pids)
from .mars import load_mat_array

SPLITS_MAT = osp.join('train-test people splits',
                      'train_test_splits_ilidsvid.mat')
FRAME_NUMBER = re.compile(r'(\d+)\.png$')
PERSON = re.compile(r'^person(\d+)$')


@DATASETS.register_module()
class iLIDSVID(VideoReIDDataset):
    """iLIDS-VID (Wang et al., ECCV 2014) in its published layout.

    ``ls_set`` (10 x 300) of the splits file lists, per split, 1-based
    indices into the sorted list of person folders: the first half are the
    **test** persons, the rest the train persons. ``split='train'`` yields
    both cameras of the train persons (pids relabelled); ``split='test'``
    yields the cam1 sequences of the test persons as queries and their cam2
    sequences as the gallery. Frames are sorted by their frame number.

    Args:
        data_root (str): The folder holding ``i-LIDS-VID/`` and
            ``train-test people splits/`` (see ``LAYOUT``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        split_id (int): Which of the ten splits, 0..9. Defaults to 0.
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

    METAINFO: dict = dict(dataset_name='iLIDS-VID')
    CAMERAS = ('cam1', 'cam2')
    LAYOUT = """<data_root>/
  i-LIDS-VID/sequences/cam1/person001/cam1_person001_00317.png ...
  i-LIDS-VID/sequences/cam2/person001/cam2_person001_00317.png ...
  train-test people splits/train_test_splits_ilidsvid.mat  (key ls_set)"""

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_id: int = 0,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        if not isinstance(split_id, int) or split_id < 0:
            raise ValueError(f'split_id must be an int >= 0, got {split_id}')
        self.split_id = split_id
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
        seq = osp.join('i-LIDS-VID', 'sequences')
        check_layout(self.data_root,
                     [SPLITS_MAT] + [osp.join(seq, c) for c in self.CAMERAS],
                     self.LAYOUT, 'iLIDS-VID')
        seq = osp.join(self.data_root, seq)
        persons = self._persons(seq)
        test, train = self._split(len(persons))
        self._set_num_ids(len(train))
        if self.split == 'train':
            data_list = [
                self._sequence(seq, persons[i], cam) for i in train
                for cam in range(len(self.CAMERAS))
            ]
            relabel_pids(data_list)
            return data_list
        data_list = []
        for cam in range(len(self.CAMERAS)):
            for i in test:
                info = self._sequence(seq, persons[i], cam)
                info.update(is_query=cam == 0, is_gallery=cam == 1)
                data_list.append(info)
        return data_list

    def _persons(self, seq: str) -> List[str]:
        """The sorted person folders, which both cameras must share."""
        found = []
        for cam in self.CAMERAS:
            names = sorted(
                n for n in os.listdir(osp.join(seq, cam))
                if not n.startswith('.'))
            for n in names:
                if PERSON.match(n) is None:
                    raise ValueError(f'{osp.join(seq, cam, n)}: expected a '
                                     'folder named personNNN')
            found.append(names)
        if found[0] != found[1]:
            diff = sorted(set(found[0]) ^ set(found[1]))
            raise ValueError(f'{seq}: cam1 and cam2 must hold the same person '
                             f'folders; only in one of them: {diff[:5]}')
        return found[0]

    def _split(self, num_persons: int) -> tuple:
        """0-based (test, train) person indices of split ``split_id``."""
        path = osp.join(self.data_root, SPLITS_MAT)
        ls_set = load_mat_array(path, 'ls_set')
        if ls_set.ndim != 2 or ls_set.shape[1] % 2:
            raise ValueError(f'{path}: ls_set must be (num_splits, 2k), got '
                             f'shape {ls_set.shape}')
        if self.split_id >= len(ls_set):
            raise ValueError(f'split_id {self.split_id} is out of range: '
                             f'{path} has {len(ls_set)} splits')
        row = ls_set[self.split_id]
        r = self.split_id + 1
        if row.min() < 1 or row.max() > num_persons:
            raise format_error(
                path, r, f'person index {row.min()}..{row.max()} outside '
                f'1..{num_persons} (the sorted person folders)')
        if len(np.unique(row)) != len(row):
            raise format_error(path, r, 'a person is listed twice')
        half = len(row) // 2
        return (row[:half] - 1).tolist(), (row[half:] - 1).tolist()

    def _sequence(self, seq: str, person: str, cam: int) -> dict:
        """Data info of one person folder of one camera."""
        folder = osp.join(seq, self.CAMERAS[cam], person)
        frames = []
        for name in os.listdir(folder):
            if name.startswith('.'):
                continue
            m = FRAME_NUMBER.search(name)
            if m is None:
                raise ValueError(f'{osp.join(folder, name)}: expected a .png '
                                 'frame ending in a number')
            frames.append((int(m.group(1)), name))
        if not frames:
            raise ValueError(f'{folder}: empty sequence (no frames)')
        frames.sort()
        return dict(
            frame_paths=[osp.join(folder, n) for _, n in frames],
            pid=int(PERSON.match(person).group(1)),
            camid=cam,
            tracklet_id=f'{self.CAMERAS[cam]}/{person}')
