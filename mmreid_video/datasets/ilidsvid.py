# Copyright (c) mmreid_video contributors. All rights reserved.
"""iLIDS-VID, read from its original published layout."""
import os.path as osp
import re
from typing import List, Tuple

import numpy as np

from mmreid_video.registry import DATASETS
from .listing import list_visible
from .readers import format_error, load_mat_array
from .two_camera import TwoCameraSplitDataset


@DATASETS.register_module()
class iLIDSVID(TwoCameraSplitDataset):
    """iLIDS-VID (Wang et al., ECCV 2014) in its published layout.

    ``ls_set`` (10 x 300) of the splits file lists, per split, 1-based
    indices into the sorted list of person folders: the first half are the
    **test** persons, the rest the train persons. Indices are positions, so
    the folders must be exactly the persons a row lists (300): one more
    would shift them to other persons, and is an error. The protocol is
    :class:`TwoCameraSplitDataset`'s: cam1 sequences are the queries, cam2
    sequences the gallery.

    Args:
        data_root (str): The folder holding ``i-LIDS-VID/`` and
            ``train-test people splits/`` (see ``LAYOUT``).
        split_id (int): Which of the ten splits, 0..9. Defaults to 0.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    CAMERAS = ('cam1', 'cam2')  # the folder names
    SEQUENCES = osp.join('i-LIDS-VID', 'sequences')
    PERSON = re.compile(r'^person(\d+)$')
    FRAME = r'{camera}_{person}_(\d+)\.png'
    split_file = osp.join('train-test people splits',
                          'train_test_splits_ilidsvid.mat')
    METAINFO: dict = dict(dataset_name='iLIDS-VID', camera_names=CAMERAS)
    LAYOUT = """<data_root>/
  i-LIDS-VID/sequences/cam1/person001/cam1_person001_00317.png ...
  i-LIDS-VID/sequences/cam2/person001/cam2_person001_00317.png ...
  train-test people splits/train_test_splits_ilidsvid.mat  (key ls_set)"""

    def _persons(self) -> List[str]:
        """The sorted person folders, which both cameras must share."""
        seq = osp.join(self.data_root, self.SEQUENCES)
        found = []
        for cam in self.CAMERAS:
            names = list_visible(osp.join(seq, cam))
            for n in names:
                if self.PERSON.match(n) is None:
                    raise ValueError(f'{osp.join(seq, cam, n)}: expected a '
                                     'folder named personNNN')
            found.append(names)
        if found[0] != found[1]:
            diff = sorted(set(found[0]) ^ set(found[1]))
            raise ValueError(f'{seq}: cam1 and cam2 must hold the same person '
                             f'folders; only in one of them: {diff[:5]}')
        return found[0]

    def split_persons(self) -> Tuple[List[str], List[str]]:
        """The (train, test) person folders of split ``split_id``."""
        persons = self._persons()
        path = osp.join(self.data_root, self.split_file)
        ls_set = load_mat_array(path, 'ls_set')
        if ls_set.ndim != 2 or ls_set.shape[1] % 2 or not ls_set.size:
            raise ValueError(f'{path}: ls_set must be (num_splits, 2k) with '
                             f'k >= 1, got shape {ls_set.shape}')
        if ls_set.shape[1] != len(persons):
            # Indices are positions among the sorted folders: one folder
            # more or less silently shifts them to other persons.
            raise ValueError(
                f'{path}: ls_set lists {ls_set.shape[1]} persons per split, '
                'by their position among the sorted person folders, but '
                f'{osp.join(self.data_root, self.SEQUENCES)} holds '
                f'{len(persons)} person folders ({", ".join(persons[:3])}, '
                f'...); with a folder more or less every index points at '
                'another person. Keep exactly the persons of the published '
                'dataset.')
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
            raise format_error(path,
                               int(np.argmax(twice)) + 1,
                               'a person is listed twice')
        row = ls_set[self.split_id]
        half = len(row) // 2
        return ([persons[i - 1]
                 for i in row[half:]], [persons[i - 1] for i in row[:half]])
