# Copyright (c) mmreid_video contributors. All rights reserved.
"""DukeMTMC-VideoReID, read from its original published layout."""
import os.path as osp
import re
from typing import List

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .listing import list_visible

# Both published name forms: 0001C6F0099X30823.jpg, 0001_C6_F0099_X30823.jpg
FRAME_NAME = re.compile(r'^([0-9]{4})_?C([0-9]+)_?F([0-9]+)_?X[0-9]+\.jpg$')
PID_FOLDER = re.compile(r'^[0-9]{4}$')


@DATASETS.register_module()
class DukeMTMCVideoReID(BaseVideoReIDDataset):
    """DukeMTMC-VideoReID (Wu et al., CVPR 2018) in its published layout.

    Tracklets are the folders ``{train,query,gallery}/<pid4>/<tracklet4>/``.
    The camera is parsed from the frame names (either published form) and
    frames are sorted by frame number. ``split='test'`` yields the query
    tracklets (``is_query``) followed by the gallery tracklets
    (``is_gallery``); the gallery also holds the 408 distractor ids. Folders
    are listed at initialisation (there is no metadata file); images are
    not opened. Hidden files (``.*``) and those operating systems add
    (``Thumbs.db``, ``desktop.ini``) are ignored; any other file whose name
    does not parse raises.

    Args: see :class:`BaseVideoReIDDataset` (``data_root`` is the
    DukeMTMC-VideoReID folder of ``LAYOUT``).
    """

    METAINFO: dict = dict(
        dataset_name='DukeMTMC-VideoReID',
        camera_names=tuple(f'cam {c}' for c in range(1, 9)))
    LAYOUT = """<data_root>/
  train/0001/0001/0001C6F0099X30823.jpg ...   (or 0001_C6_F0099_X30823.jpg)
  query/<pid4>/<tracklet4>/*.jpg
  gallery/<pid4>/<tracklet4>/*.jpg"""

    def required_paths(self) -> List[str]:
        return ['train'
                ] if self.split == 'train' else ['train', 'query', 'gallery']

    def num_train_ids(self) -> int:
        return len(list_visible(osp.join(self.data_root, 'train')))

    def load_train(self) -> List[dict]:
        return self._tracklets('train')

    def load_test(self) -> List[dict]:
        train = set(list_visible(osp.join(self.data_root, 'train')))
        data_list = []
        for sub in ('query', 'gallery'):
            for info in self._tracklets(sub):
                pid_dir = info['tracklet_id'].rsplit('/', 1)[0]
                if pid_dir.split('/')[1] in train:
                    raise ValueError(
                        f'{osp.join(self.data_root, pid_dir)}: pid is also '
                        'a train id (a train/<pid> folder exists); '
                        'DukeMTMC-VideoReID train and test ids are disjoint')
                info.update(is_query=sub == 'query', is_gallery=sub != 'query')
                data_list.append(info)
        return data_list

    def _tracklets(self, sub: str) -> List[dict]:
        """Data infos of every ``<sub>/<pid>/<tracklet>/`` folder."""
        data_list = []
        sub_dir = osp.join(self.data_root, sub)
        for pid_name in list_visible(sub_dir):
            pid_dir = osp.join(sub_dir, pid_name)
            if PID_FOLDER.match(pid_name) is None:
                raise ValueError(f'{pid_dir}: expected a 4-digit pid folder')
            tracklets = list_visible(pid_dir)
            if not tracklets:
                raise ValueError(f'{pid_dir}: pid folder without tracklets')
            for trk in tracklets:
                data_list.append(
                    self._tracklet(osp.join(pid_dir, trk), int(pid_name)))
                data_list[-1]['tracklet_id'] = f'{sub}/{pid_name}/{trk}'
        return data_list

    def _tracklet(self, folder: str, pid: int) -> dict:
        """Parse the frames of one tracklet folder."""
        num_cams = len(self.METAINFO['camera_names'])
        frames, cams = {}, set()
        for name in list_visible(folder):
            path = osp.join(folder, name)
            m = FRAME_NAME.match(name)
            if m is None:
                raise ValueError(f'{path}: frame name does not match '
                                 '<pid4>C<cam>F<frame>X<n>.jpg or '
                                 '<pid4>_C<cam>_F<frame>_X<n>.jpg')
            if int(m.group(1)) != pid:
                raise ValueError(
                    f'{path}: pid differs from the folder pid {pid}')
            cam = int(m.group(2))
            if not 1 <= cam <= num_cams:
                raise ValueError(f'{path}: unknown camera {cam}, expected '
                                 f'1..{num_cams}')
            cams.add(cam)
            number = int(m.group(3))
            if number in frames:
                raise ValueError(f'{path}: frame number {number} is also '
                                 f'that of {frames[number]}')
            frames[number] = name
        if not frames:
            raise ValueError(f'{folder}: empty tracklet (no frames)')
        if len(cams) > 1:
            raise ValueError(f'{folder}: frames of several cameras '
                             f'{sorted(cams)} in one tracklet')
        return dict(
            frame_paths=[osp.join(folder, frames[n]) for n in sorted(frames)],
            pid=pid,
            camid=cams.pop() - 1)
