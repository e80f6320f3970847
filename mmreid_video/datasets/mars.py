"""MARS, read from its original published layout."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from scipy.io import loadmat

from mmreid_video.registry import DATASETS
from .base_dataset import (VideoReIDDataset, check_layout, format_error,
                           relabel_pids)


def load_mat_array(path: str, key: str) -> np.ndarray:
    """Read one array of a MATLAB file, naming file and key on failure.

    Args:
        path (str): The ``.mat`` file.
        key (str): The variable to read.

    Returns:
        np.ndarray: The array, as int64 (integral floats are accepted, as
        MATLAB stores doubles by default).
    """
    try:
        mat = loadmat(path, variable_names=[key])
    except (ValueError, TypeError, OSError) as e:
        raise ValueError(f'{path}: cannot read it as a MATLAB file ({e})')
    if key not in mat:
        keys = sorted(k for k in loadmat(path) if not k.startswith('__'))
        raise KeyError(f'{path}: expected the key "{key}", found {keys}')
    arr = np.asarray(mat[key])
    if arr.dtype.kind not in 'iuf' or (arr.dtype.kind == 'f'
                                       and not np.all(arr == np.round(arr))):
        raise ValueError(f'{path}: "{key}" must hold integers, got dtype '
                         f'{arr.dtype}')
    return arr.astype(np.int64)


def read_names(path: str) -> List[str]:
    """Read a MARS frame-name list (one name per line)."""
    with open(path) as f:
        return f.read().split()


def pid_folder(pid: int) -> str:
    """MARS folder / name prefix of a pid: ``0001``, ``0000``, ``00-1``."""
    return f'{pid:04d}' if pid >= 0 else str(pid).rjust(4, '0')


@DATASETS.register_module()
class MARS(VideoReIDDataset):
    """MARS (Zheng et al., ECCV 2016) in its original published layout.

    Track tables hold 1-based ``[start, end, pid, camera]`` rows into the
    frame-name lists. Only metadata is read at initialisation: frames are
    neither opened nor stat-ed (a missing frame is reported when loaded).

    Protocol (the official one): ``split='test'`` yields every test tracklet
    except junk (pid -1); the ``query_IDX`` tracklets have ``is_query`` and
    ``is_gallery`` both set and appear once; distractors (pid 0) are gallery
    negatives. The metric removes gallery tracklets with the query's pid and
    camera, which removes the query itself. Train pids are relabelled to
    0..624 (``ori_pid`` keeps the original); ``camid`` is ``camera - 1``.

    Args:
        data_root (str): The MARS folder (see ``LAYOUT``).
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

    METAINFO: dict = dict(dataset_name='MARS', distractor_pid=0)
    NUM_CAMERAS = 6
    LAYOUT = """<data_root>/
  bbox_train/0001/0001C1T0001F001.jpg ...
  bbox_test/00-1/ (junk)  bbox_test/0000/ (distractors)  bbox_test/0002/ ...
  info/train_name.txt  info/test_name.txt
  info/tracks_train_info.mat  (key track_train_info)
  info/tracks_test_info.mat   (key track_test_info)
  info/query_IDX.mat          (key query_IDX)"""

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
        """Parse the MARS metadata of ``self.split``.

        Returns:
            list[dict]: One data info per tracklet.
        """
        sub = self.split
        info_train = osp.join('info', 'tracks_train_info.mat')
        required = [info_train, f'bbox_{sub}', f'info/{sub}_name.txt']
        if sub == 'test':
            required += ['info/tracks_test_info.mat', 'info/query_IDX.mat']
        check_layout(self.data_root, required, self.LAYOUT, 'MARS')
        train_table = load_mat_array(
            osp.join(self.data_root, info_train), 'track_train_info')
        if sub == 'train':
            data_list = self._tracklets('train', train_table)
            bad = np.flatnonzero(train_table[:, 2] <= 0)
            if bad.size:
                raise format_error(
                    osp.join(self.data_root, info_train),
                    int(bad[0]) + 1,
                    f'train pid must be > 0, got {train_table[bad[0], 2]}')
            self._set_num_ids(relabel_pids(data_list))
            return data_list
        self._set_num_ids(len(np.unique(train_table[:, 2])))
        mat = osp.join(self.data_root, 'info', 'tracks_test_info.mat')
        table = load_mat_array(mat, 'track_test_info')
        data_list = self._tracklets('test', table)
        query_rows = self._query_rows(len(table))
        is_query = np.zeros(len(table), dtype=bool)
        is_query[query_rows] = True
        junk = table[:, 2] == -1
        if (is_query & junk).any():
            row = int(np.flatnonzero(is_query & junk)[0]) + 1
            raise format_error(mat, row, 'a query_IDX row is junk (pid -1)')
        out = []
        for info, q, j in zip(data_list, is_query, junk):
            if not j:
                info.update(is_query=bool(q), is_gallery=True)
                out.append(info)
        return out

    def _query_rows(self, num_rows: int) -> np.ndarray:
        """0-based rows of the test table that are queries."""
        path = osp.join(self.data_root, 'info', 'query_IDX.mat')
        idx = load_mat_array(path, 'query_IDX').ravel()
        bad = np.flatnonzero((idx < 1) | (idx > num_rows))
        if bad.size:
            raise format_error(
                path,
                int(bad[0]) + 1,
                f'query index {idx[bad[0]]} is outside 1..{num_rows} '
                '(1-based rows of track_test_info)')
        if len(np.unique(idx)) != len(idx):
            raise ValueError(f'{path}: query_IDX lists a row twice')
        return idx - 1

    def _tracklets(self, sub: str, table: np.ndarray) -> List[dict]:
        """Data infos of one track table, checked against the name list."""
        mat = osp.join(self.data_root, 'info', f'tracks_{sub}_info.mat')
        names_file = osp.join(self.data_root, 'info', f'{sub}_name.txt')
        names = read_names(names_file)
        if table.ndim != 2 or table.shape[1] != 4:
            raise ValueError(f'{mat}: expected rows [start, end, pid, '
                             f'camera] of shape (N, 4), got {table.shape}')
        bbox = osp.join(self.data_root, f'bbox_{sub}')
        data_list = []
        for row, (start, end, pid, cam) in enumerate(table.tolist(), 1):
            if not 1 <= start <= end <= len(names):
                raise format_error(
                    mat, row, f'[start, end] = [{start}, {end}] must satisfy '
                    f'1 <= start <= end <= {len(names)} (names in '
                    f'{names_file}); an empty or out-of-range tracklet')
            if not 1 <= cam <= self.NUM_CAMERAS:
                raise format_error(
                    mat, row, f'unknown camera {cam}, expected '
                    f'1..{self.NUM_CAMERAS}')
            frames = names[start - 1:end]
            prefix = f'{pid_folder(pid)}C{cam}'
            # Catch a name list that does not belong to this table cheaply.
            for name in (frames[0], frames[-1]):
                if not name.startswith(prefix):
                    raise format_error(
                        mat, row, f'frame "{name}" of {names_file} does not '
                        f'match pid {pid} camera {cam} (expected the prefix '
                        f'{prefix})')
            folder = f'{bbox}/{frames[0][:4]}/'
            data_list.append(
                dict(
                    frame_paths=[folder + n for n in frames],
                    pid=pid,
                    camid=cam - 1,
                    tracklet_id=frames[0][:11]))
        return data_list
