# Copyright (c) mmreid_video contributors. All rights reserved.
"""MARS, read from its original published layout."""
import os.path as osp
from typing import List

import numpy as np

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .readers import (MARS_NAME, format_error, load_mat_array, pid_folder,
                      read_mars_names)

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
        return len(np.unique(self._table('train')[:, 2]))

    def load_train(self) -> List[dict]:
        table = self._table('train')
        row = _first(table[:, 2] <= 0)
        if row:
            raise format_error(
                osp.join(self.data_root, TRAIN_MAT), row,
                f'train pid must be > 0, got {table[row - 1, 2]}')
        return self._tracklets('train', table)

    def load_test(self) -> List[dict]:
        mat = osp.join(self.data_root, TEST_MAT)
        table = self._table('test')
        data_list = self._tracklets('test', table)
        train_pids = self._table('train')[:, 2]
        row = _first((table[:, 2] > 0) & np.isin(table[:, 2], train_pids))
        if row:
            raise format_error(
                mat, row, f'pid {table[row - 1, 2]} is also a train id (in '
                f'{osp.join(self.data_root, TRAIN_MAT)}); MARS train and '
                'test ids are disjoint')
        is_query = np.zeros(len(table), dtype=bool)
        is_query[self._query_rows(table)] = True
        out = []
        for info, q, j in zip(data_list, is_query, table[:, 2] == -1):
            if not j:
                info.update(is_query=bool(q), is_gallery=True)
                out.append(info)
        return out

    def _table(self, sub: str) -> np.ndarray:
        """The track table of ``sub``, checked to be (N, 4) with N >= 1."""
        mat = osp.join(self.data_root, 'info', f'tracks_{sub}_info.mat')
        table = load_mat_array(mat, f'track_{sub}_info')
        if table.ndim != 2 or table.shape[1] != 4 or not len(table):
            raise ValueError(f'{mat}: expected rows [start, end, pid, '
                             f'camera] of shape (N, 4) with N >= 1, got '
                             f'{table.shape}')
        return table

    def _query_rows(self, table: np.ndarray) -> np.ndarray:
        """0-based rows of the test table that are queries."""
        path = osp.join(self.data_root, QUERY_MAT)
        idx = load_mat_array(path, 'query_IDX')
        if idx.size == 0 or idx.ndim > 2 or (idx.ndim == 2
                                             and min(idx.shape) != 1):
            raise ValueError(f'{path}: query_IDX must be a non-empty vector '
                             f'of rows, got shape {idx.shape}')
        idx = idx.ravel()
        num_rows = len(table)
        row = _first((idx < 1) | (idx > num_rows))
        if row:
            raise format_error(
                path, row, f'query index {idx[row - 1]} is outside '
                f'1..{num_rows} (1-based rows of track_test_info)')
        _, first, counts = np.unique(
            idx, return_index=True, return_counts=True)
        if (counts > 1).any():
            twice = np.flatnonzero(counts > 1)[0]
            raise format_error(
                path,
                int(first[twice]) + 1,
                f'query_IDX lists row {idx[first[twice]]} twice')
        pids = table[idx - 1, 2]
        row = _first(pids <= 0)
        if row:
            kind = 'junk (pid -1)' if pids[row - 1] == -1 else \
                'a distractor (pid 0)'
            raise format_error(
                path, row, f'a query_IDX row is {kind}: row '
                f'{idx[row - 1]} of track_test_info')
        return idx - 1

    def _tracklets(self, sub: str, table: np.ndarray) -> List[dict]:
        """Data infos of one track table, every row and every frame name
        checked against the name list (vectorised)."""
        mat = osp.join(self.data_root, 'info', f'tracks_{sub}_info.mat')
        names_file = osp.join(self.data_root, 'info', f'{sub}_name.txt')
        names, parsed = read_mars_names(names_file)
        self._check_rows(table, names, mat, names_file)
        line = _first(~parsed['valid'])
        if line:
            raise format_error(
                names_file, line, f'"{names[line - 1]}" is not a MARS '
                f'frame name ({MARS_NAME})', 'line')
        start, end, pid, cam = table.T
        row_of = np.repeat(np.arange(len(table)), end - start + 1)
        other_id = (parsed['pid'] != pid[row_of]) | (
            parsed['camera'] != cam[row_of])
        other_tracklet = parsed['tracklet'] != parsed['tracklet'][start -
                                                                  1][row_of]
        line = _first(other_id | other_tracklet)
        if line:
            r = row_of[line - 1]
            where = f'(line {line} of {names_file})'
            raise format_error(
                mat, r + 1, f'frame "{names[line - 1]}" {where} does not '
                f'match pid {pid[r]} camera {cam[r]} (expected the prefix '
                f'{pid_folder(pid[r])}C{cam[r]})' if other_id[line - 1] else
                f'frame "{names[line - 1]}" {where} is of another tracklet '
                f'than the row\'s first frame "{names[start[r] - 1]}"')
        bbox = osp.join(self.data_root, f'bbox_{sub}')
        data_list = []
        for start, end, pid, cam in table.tolist():
            frames = names[start - 1:end]
            folder = f'{bbox}/{frames[0][:4]}/'
            data_list.append(
                dict(
                    frame_paths=[folder + n for n in frames],
                    pid=pid,
                    camid=cam - 1,
                    tracklet_id=frames[0][:11]))
        return data_list

    def _check_rows(self, table: np.ndarray, names: List[str], mat: str,
                    names_file: str) -> None:
        """Rows are valid and cover the name list in order, each name in
        one tracklet."""
        start, end, _, cam = table.T
        num_cams = len(self.METAINFO['camera_names'])
        row = _first(~((1 <= start) & (start <= end) & (end <= len(names))))
        if row:
            raise format_error(
                mat, row, f'[start, end] = [{start[row - 1]}, '
                f'{end[row - 1]}] must satisfy 1 <= start <= end <= '
                f'{len(names)} (names in {names_file}); an empty or '
                'out-of-range tracklet')
        row = _first((cam < 1) | (cam > num_cams))
        if row:
            raise format_error(
                mat, row, f'unknown camera {cam[row - 1]}, expected '
                f'1..{num_cams}')
        row = _first(start != np.concatenate([[1], end[:-1] + 1]))
        if row:
            raise format_error(
                mat, row, f'starts at name {start[row - 1]}, expected '
                f'{end[row - 2] + 1 if row > 1 else 1}: rows must cover '
                f'the names of {names_file} in order, without gap or '
                'overlap')
        if end[-1] != len(names):
            raise format_error(
                names_file, end[-1] + 1, f'"{names[end[-1]]}" is in no '
                f'tracklet: the last row of {mat} ends at name {end[-1]}',
                'line')


def _first(bad: np.ndarray) -> int:
    """1-based index of the first True of ``bad``, 0 when none is."""
    return int(np.argmax(bad)) + 1 if bad.any() else 0
