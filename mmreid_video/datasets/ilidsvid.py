"""iLIDS-VID, read from its original published layout."""
import os.path as osp
import re
from typing import List, Tuple

import numpy as np

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .readers import format_error, list_visible, load_mat_array

SPLITS_MAT = osp.join('train-test people splits',
                      'train_test_splits_ilidsvid.mat')
SEQUENCES = osp.join('i-LIDS-VID', 'sequences')
FRAME_NAME = re.compile(r'^(.*?)([0-9]+)\.png$')
PERSON = re.compile(r'^person([0-9]+)$')


@DATASETS.register_module()
class iLIDSVID(BaseVideoReIDDataset):
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
        split_id (int): Which of the ten splits, 0..9. Defaults to 0.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    CAMERAS = ('cam1', 'cam2')  # the folder names
    METAINFO: dict = dict(dataset_name='iLIDS-VID', camera_names=CAMERAS)
    LAYOUT = """<data_root>/
  i-LIDS-VID/sequences/cam1/person001/cam1_person001_00317.png ...
  i-LIDS-VID/sequences/cam2/person001/cam2_person001_00317.png ...
  train-test people splits/train_test_splits_ilidsvid.mat  (key ls_set)"""

    def __init__(self, data_root: str, split_id: int = 0, **kwargs) -> None:
        if not isinstance(split_id, int) or split_id < 0:
            raise ValueError(f'split_id must be an int >= 0, got {split_id}')
        self.split_id = split_id
        super().__init__(data_root=data_root, **kwargs)
        self._metainfo['split_id'] = split_id

    def required_paths(self) -> List[str]:
        return [SPLITS_MAT] + [osp.join(SEQUENCES, c) for c in self.CAMERAS]

    def num_train_ids(self) -> int:
        return len(self._split()[1])

    def load_train(self) -> List[dict]:
        _, train = self._split()
        return [
            self._sequence(person, cam) for person in train
            for cam in range(len(self.CAMERAS))
        ]

    def load_test(self) -> List[dict]:
        test, _ = self._split()
        data_list = []
        for cam in range(len(self.CAMERAS)):
            for person in test:
                info = self._sequence(person, cam)
                info.update(is_query=cam == 0, is_gallery=cam == 1)
                data_list.append(info)
        return data_list

    def _persons(self) -> List[str]:
        """The sorted person folders, which both cameras must share."""
        seq = osp.join(self.data_root, SEQUENCES)
        found = []
        for cam in self.CAMERAS:
            names = list_visible(osp.join(seq, cam))
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

    def _split(self) -> Tuple[List[str], List[str]]:
        """The (test, train) person folders of split ``split_id``; every
        split of the file is checked."""
        persons = self._persons()
        path = osp.join(self.data_root, SPLITS_MAT)
        ls_set = load_mat_array(path, 'ls_set')
        if ls_set.ndim != 2 or ls_set.shape[1] % 2 or not ls_set.size:
            raise ValueError(f'{path}: ls_set must be (num_splits, 2k) with '
                             f'k >= 1, got shape {ls_set.shape}')
        if self.split_id >= len(ls_set):
            raise ValueError(f'split_id {self.split_id} is out of range: '
                             f'{path} has {len(ls_set)} splits')
        outside = (ls_set < 1) | (ls_set > len(persons))
        if outside.any():
            r = int(np.argmax(outside.any(axis=1)))
            raise format_error(
                path, r + 1, f'person index {ls_set[r].min()}..'
                f'{ls_set[r].max()} outside 1..{len(persons)} (the sorted '
                'person folders)')
        ordered = np.sort(ls_set, axis=1)
        twice = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if twice.any():
            raise format_error(path, int(np.argmax(twice)) + 1,
                               'a person is listed twice')
        row = ls_set[self.split_id]
        half = len(row) // 2
        return ([persons[i - 1] for i in row[:half]],
                [persons[i - 1] for i in row[half:]])

    def _sequence(self, person: str, cam: int) -> dict:
        """Data info of one person folder of one camera."""
        camera = self.CAMERAS[cam]
        folder = osp.join(self.data_root, SEQUENCES, camera, person)
        frames = {}
        for name in list_visible(folder):
            m = FRAME_NAME.match(name)
            if m is None or m.group(1) != f'{camera}_{person}_':
                raise ValueError(
                    f'{osp.join(folder, name)}: expected a frame named '
                    f'{camera}_{person}_<number>.png')
            number = int(m.group(2))
            if number in frames:
                raise ValueError(
                    f'{osp.join(folder, name)}: frame number {number} is '
                    f'also that of {frames[number]}')
            frames[number] = name
        if not frames:
            raise ValueError(f'{folder}: empty sequence (no frames)')
        return dict(
            frame_paths=[osp.join(folder, frames[n]) for n in sorted(frames)],
            pid=int(PERSON.match(person).group(1)),
            camid=cam,
            tracklet_id=f'{camera}/{person}')
