# Copyright (c) mmreid_video contributors. All rights reserved.
"""Base of the two-camera datasets with numbered person splits."""
import os.path as osp
import re
from abc import abstractmethod
from typing import List, Pattern, Tuple

from .base_dataset import BaseVideoReIDDataset
from .listing import list_visible


class TwoCameraSplitDataset(BaseVideoReIDDataset):
    """A dataset of one sequence per person and camera, two cameras, and
    numbered train/test splits of the persons (iLIDS-VID, PRID-2011).

    The protocol both share (Wang et al., ECCV 2014): ``split='train'``
    yields both cameras of the train persons of split ``split_id`` (pids
    relabelled); ``split='test'`` yields the first camera's sequences of the
    test persons as queries, then the second camera's as the gallery.
    ``pid`` is the person number of the folder name; frames are sorted by
    their frame number. Only folders are listed; no frame is opened.

    Subclasses set ``CAMERAS`` (the camera folder names, in that order),
    ``SEQUENCES`` (their parent folder, relative to ``data_root``),
    ``PERSON`` (person folder names, group 1 the number), ``FRAME`` (the
    regular expression a whole frame name matches, group 1 the frame
    number; ``{camera}`` and ``{person}`` stand for the folders), and
    ``split_file``, and implement :meth:`split_persons`.

    Args:
        data_root (str): The dataset folder (see the class's ``LAYOUT``).
        split_id (int): Which split, from 0. Defaults to 0.
        **kwargs: ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    CAMERAS: Tuple[str, str]
    SEQUENCES: str
    PERSON: Pattern
    FRAME: str
    split_file: str

    def __init__(self, data_root: str, split_id: int = 0, **kwargs) -> None:
        if not isinstance(split_id, int) or split_id < 0:
            raise ValueError(f'split_id must be an int >= 0, got {split_id}')
        self.split_id = split_id
        super().__init__(data_root=data_root, **kwargs)
        self._metainfo['split_id'] = split_id

    @abstractmethod
    def split_persons(self) -> Tuple[List[str], List[str]]:
        """The (train, test) person folders of split ``split_id``."""

    def required_paths(self) -> List[str]:
        return [self.split_file
                ] + [osp.join(self.SEQUENCES, c) for c in self.CAMERAS]

    def num_train_ids(self) -> int:
        return len(self.split_persons()[0])

    def load_train(self) -> List[dict]:
        train, _ = self.split_persons()
        return [
            self._sequence(person, cam) for person in train
            for cam in range(len(self.CAMERAS))
        ]

    def load_test(self) -> List[dict]:
        _, test = self.split_persons()
        data_list = []
        for cam in range(len(self.CAMERAS)):
            for person in test:
                info = self._sequence(person, cam)
                info.update(is_query=cam == 0, is_gallery=cam == 1)
                data_list.append(info)
        return data_list

    def _sequence(self, person: str, cam: int) -> dict:
        """Data info of one person folder of one camera."""
        camera = self.CAMERAS[cam]
        folder = osp.join(self.data_root, self.SEQUENCES, camera, person)
        pattern = self.FRAME.format(camera=camera, person=person)
        frames = {}
        for name in list_visible(folder):
            m = re.fullmatch(pattern, name)
            if m is None:
                hint = pattern.replace('(\\d+)', '<number>').replace('\\', '')
                raise ValueError(f'{osp.join(folder, name)}: expected a '
                                 f'frame named {hint}')
            number = int(m.group(1))
            if number in frames:
                # Two files would claim one temporal position.
                raise ValueError(
                    f'{osp.join(folder, name)}: frame number {number} is '
                    f'also that of {frames[number]}')
            frames[number] = name
        if not frames:
            raise ValueError(f'{folder}: empty sequence (no frames)')
        return dict(
            frame_paths=[osp.join(folder, frames[n]) for n in sorted(frames)],
            pid=int(self.PERSON.match(person).group(1)),
            camid=cam,
            tracklet_id=f'{camera}/{person}')
