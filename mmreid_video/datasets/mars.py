"""MARS, read from its original published layout."""
import os.path as osp
from typing import List

import numpy as np

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .readers import format_error, load_mat_array, pid_folder, read_names

TRAIN_MAT = osp.join('info', 'tracks_train_info.mat')
TEST_MAT = osp.join('info', 'tracks_test_info.mat')
QUERY_MAT = osp.join('info', 'query_IDX.mat')


@DATASETS.register_module()
class MARS(BaseVideoReIDDataset):
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

    Args: see :class:`BaseVideoReIDDataset` (``data_root`` is the MARS
    folder of ``LAYOUT``).
    """

    METAINFO: dict = dict(
        dataset_name='MARS',
        distractor_pid=0,
        camera_names=tuple(f'cam {c}' for c in range(1, 7)))
    LAYOUT = """<data_root>/
  bbox_train/0001/0001C1T0001F001.jpg ...
  bbox_test/00-1/ (junk)  bbox_test/0000/ (distractors)  bbox_test/0002/ ...
  info/train_name.txt  info/test_name.txt
  info/tracks_train_info.mat  (key track_train_info)
  info/tracks_test_info.mat   (key track_test_info)
  info/query_IDX.mat          (key query_IDX)"""

    def required_paths(self) -> List[str]:
        sub = self.split
        required = [TRAIN_MAT, f'bbox_{sub}', f'info/{sub}_name.txt']
        if sub == 'test':
            required += [TEST_MAT, QUERY_MAT]
        return required

    def num_train_ids(self) -> int:
        table = load_mat_array(
            osp.join(self.data_root, TRAIN_MAT), 'track_train_info')
        return len(np.unique(table[:, 2]))

    def load_train(self) -> List[dict]:
        path = osp.join(self.data_root, TRAIN_MAT)
        table = load_mat_array(path, 'track_train_info')
        data_list = self._tracklets('train', table)
        bad = np.flatnonzero(table[:, 2] <= 0)
        if bad.size:
            raise format_error(
                path,
                int(bad[0]) + 1,
                f'train pid must be > 0, got {table[bad[0], 2]}')
        return data_list

    def load_test(self) -> List[dict]:
        mat = osp.join(self.data_root, TEST_MAT)
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
        path = osp.join(self.data_root, QUERY_MAT)
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
        num_cams = len(self.METAINFO['camera_names'])
        data_list = []
        for row, (start, end, pid, cam) in enumerate(table.tolist(), 1):
            if not 1 <= start <= end <= len(names):
                raise format_error(
                    mat, row, f'[start, end] = [{start}, {end}] must satisfy '
                    f'1 <= start <= end <= {len(names)} (names in '
                    f'{names_file}); an empty or out-of-range tracklet')
            if not 1 <= cam <= num_cams:
                raise format_error(
                    mat, row, f'unknown camera {cam}, expected '
                    f'1..{num_cams}')
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
