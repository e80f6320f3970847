"""DukeMTMC-VideoReID, read from its original published layout."""
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

from mmreid_video.registry import DATASETS
from .base_dataset import VideoReIDDataset, check_layout, relabel_pids

# Both published name forms: 0001C6F0099X30823.jpg, 0001_C6_F0099_X30823.jpg
FRAME_NAME = re.compile(r'^(\d{4})_?C(\d+)_?F(\d+)_?X\d+\.jpg$')


@DATASETS.register_module()
class DukeMTMCVideoReID(VideoReIDDataset):
    """DukeMTMC-VideoReID (Wu et al., CVPR 2018) in its published layout.

    Tracklets are the folders ``{train,query,gallery}/<pid4>/<tracklet4>/``.
    The camera is parsed from the frame names (either published form) and
    frames are sorted by frame number. ``split='test'`` yields the query
    tracklets (``is_query``) followed by the gallery tracklets
    (``is_gallery``); the gallery also holds the 408 distractor ids. Folders
    are listed at initialisation (there is no metadata file); images are
    not opened. Hidden files (``.*``) are ignored; any other file whose name
    does not parse raises.

    Args:
        data_root (str): The DukeMTMC-VideoReID folder (see ``LAYOUT``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
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

    METAINFO: dict = dict(dataset_name='DukeMTMC-VideoReID')
    NUM_CAMERAS = 8
    LAYOUT = """<data_root>/
  train/0001/0001/0001C6F0099X30823.jpg ...   (or 0001_C6_F0099_X30823.jpg)
  query/<pid4>/<tracklet4>/*.jpg
  gallery/<pid4>/<tracklet4>/*.jpg"""

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        super().__init__(
            data_root=data_root,
            split=split,
            pipeline=pipeline,
            metainfo=metainfo,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    def load_data_list(self) -> List[dict]:
        """List the tracklet folders of ``self.split``.

        Returns:
            list[dict]: One data info per tracklet.
        """
        subs = ['train'] if self.split == 'train' else ['query', 'gallery']
        check_layout(self.data_root, ['train', *subs], self.LAYOUT,
                     'DukeMTMC-VideoReID')
        train_pids = self._listdir(osp.join(self.data_root, 'train'))
        self._set_num_ids(len(train_pids))
        if self.split == 'train':
            data_list = self._tracklets('train')
            relabel_pids(data_list)
            return data_list
        data_list = []
        for sub in subs:
            for info in self._tracklets(sub):
                info.update(is_query=sub == 'query', is_gallery=sub != 'query')
                data_list.append(info)
        return data_list

    @staticmethod
    def _listdir(path: str) -> List[str]:
        return sorted(n for n in os.listdir(path) if not n.startswith('.'))

    def _tracklets(self, sub: str) -> List[dict]:
        """Data infos of every ``<sub>/<pid>/<tracklet>/`` folder."""
        data_list = []
        sub_dir = osp.join(self.data_root, sub)
        for pid_name in self._listdir(sub_dir):
            pid_dir = osp.join(sub_dir, pid_name)
            if not pid_name.isdigit():
                raise ValueError(f'{pid_dir}: expected a 4-digit pid folder')
            tracklets = self._listdir(pid_dir)
            if not tracklets:
                raise ValueError(f'{pid_dir}: pid folder without tracklets')
            for trk in tracklets:
                data_list.append(
                    self._tracklet(osp.join(pid_dir, trk), int(pid_name)))
                data_list[-1]['tracklet_id'] = f'{sub}/{pid_name}/{trk}'
        return data_list

    def _tracklet(self, folder: str, pid: int) -> dict:
        """Parse the frames of one tracklet folder."""
        frames, cams = [], set()
        for name in self._listdir(folder):
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
            if not 1 <= cam <= self.NUM_CAMERAS:
                raise ValueError(f'{path}: unknown camera {cam}, expected '
                                 f'1..{self.NUM_CAMERAS}')
            cams.add(cam)
            frames.append((int(m.group(3)), name))
        if not frames:
            raise ValueError(f'{folder}: empty tracklet (no frames)')
        if len(cams) > 1:
            raise ValueError(f'{folder}: frames of several cameras '
                             f'{sorted(cams)} in one tracklet')
        frames.sort()
        return dict(
            frame_paths=[osp.join(folder, n) for _, n in frames],
            pid=pid,
            camid=cams.pop() - 1)
