# Copyright (c) mmreid_video contributors. All rights reserved.
"""LS-VID, read from its original published layout (or the info/ variant)."""
import os
import os.path as osp
from bisect import bisect_left
from typing import Dict, List, Set, Tuple

import numpy as np

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .readers import format_error, load_mat_array, read_text

# The release's layout: lists, then the authors' MATLAB evaluation data.
LIST_FILES = dict(
    train=osp.join('list_sequence', 'list_seq_train.txt'),
    test=osp.join('list_sequence', 'list_seq_test.txt'),
    val=osp.join('list_sequence', 'list_seq_val.txt'))
INFO_MATS = dict(
    test=osp.join('test', 'data', 'info_test.mat'),
    val=osp.join('test', 'data', 'info_val.mat'))
# The variant several public loaders read: the same files under info/
# (info/list_sequence/..., info/data/info_test.mat); frames stay at the root.
VARIANT_LIST_FILES = {k: osp.join('info', v) for k, v in LIST_FILES.items()}
VARIANT_INFO_MATS = {
    k: osp.join('info', 'data', osp.basename(v))
    for k, v in INFO_MATS.items()
}
NUM_CAMERAS = 15


def read_sequence_list(path: str) -> List[Tuple[str, int]]:
    """Read an LS-VID sequence list: one ``<path prefix> <pid>`` per line.

    Args:
        path (str): ``list_seq_train.txt`` or ``list_seq_test.txt``.

    Returns:
        list[tuple[str, int]]: ``(prefix, pid)`` per line, in file order
        (``info_test.mat`` indexes the test list by 1-based line number).
    """
    lines = read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing newline is not a row
    rows = []
    for r, line in enumerate(lines, 1):
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit():
            raise format_error(
                path, r, f'expected "<path prefix> <pid>" with pid an '
                f'integer >= 0, e.g. "tracklet_train/0001/... 1", got '
                f'{line!r}')
        rows.append((fields[0], int(fields[1])))
    if not rows:
        raise ValueError(f'{path}: no tracklets (expected one "<path '
                         'prefix> <pid>" line per tracklet)')
    return rows


def check_info_test(path: str, list_file: str, info: np.ndarray,
                    data_list: List[dict]) -> None:
    """Check ``info_test`` (one row per list line) against the list.

    Its pid column may number the ids differently from the list (the
    authors' file has 0..N-1), but the two must correspond one-to-one; its
    camera column must equal the camera of the frame names.

    Args:
        path (str): The ``.mat`` file, for messages.
        list_file (str): The list file, for messages.
        info (np.ndarray): ``info_test``, ``(lines, >=4)``: first frame,
            last frame, pid, camera.
        data_list (list[dict]): The list's data infos, in line order.

    Raises:
        ValueError: A wrong shape, a camera that differs, or an id of one
            side that is two ids of the other (naming both, with rows).
    """
    num = len(data_list)
    if info.ndim != 2 or info.shape[0] != num or info.shape[1] < 4:
        raise ValueError(f'{path}: "info_test" must be {num} x >=4 (one row '
                         f'per line of {list_file}), got shape {info.shape}')
    cams = np.array([d['camid'] + 1 for d in data_list])
    bad = np.flatnonzero(info[:, 3] != cams)
    if len(bad):
        r = bad[0]
        raise format_error(
            path, r + 1, f'info_test has camera {info[r, 3]}; the frame '
            f'names of {list_file} row {r + 1} '
            f'({data_list[r]["tracklet_id"]}) give camera {cams[r]}')
    list_pids = np.array([d['pid'] for d in data_list])
    for a, b, one, other in ((list_pids, info[:, 2], f'{list_file} pid',
                              'info_test ids'),
                             (info[:, 2], list_pids, 'info_test pid',
                              f'{list_file} pids')):
        pairs = np.unique(np.stack([a, b], axis=1), axis=0)
        firsts, counts = np.unique(pairs[:, 0], return_counts=True)
        if (counts > 1).any():
            value = firsts[counts > 1][0]
            x, y = pairs[pairs[:, 0] == value][:2, 1]
            rx, ry = (
                int(np.flatnonzero((a == value) & (b == w))[0]) + 1
                for w in (x, y))
            raise format_error(
                path, max(rx, ry), f'{one} {value} is two {other}, {x} '
                f'(row {rx}) and {y} (row {ry}); the list and info_test '
                'must name the same identities one-to-one (their numbers '
                'may differ)')


@DATASETS.register_module()
class LSVID(BaseVideoReIDDataset):
    """LS-VID (Li et al., ICCV 2019) in its original published layout.

    Each line of ``list_sequence/list_seq_{train,test,val}.txt`` is one
    tracklet: a path prefix relative to ``data_root`` and the pid. Its
    frames are the files of the prefix's folder whose names start with the
    prefix's last component (what ``glob(prefix + '*')`` selects in the
    public loaders), in name order. Each folder is listed once, whatever the
    number of its tracklets, and no frame is opened. Frame names have four
    ``_``-separated fields, the third the camera (1-15); ``camid`` is
    ``camera - 1``. The lists and ``.mat`` files are read from the release
    layout or, when ``list_sequence/`` is not at the root, from the variant
    several public loaders read (``info/list_sequence/``, ``info/data/``).

    Protocol: ``test/data/info_test.mat`` (MATLAB v7.3) holds ``query``, the
    1-based rows of ``list_seq_test.txt`` that are queries, and
    ``info_test``, one row ``[first frame, last frame, pid, camera]`` per
    test line. With ``query_in_gallery=False`` (default) the gallery is the
    other test tracklets (3,504 queries vs 7,829 gallery tracklets), as
    BiCnet-TKS, SINet, CAViT and TF-CLIP read it and as the published
    numbers are computed; with ``True`` every test tracklet is also a
    gallery tracklet, the gallery of the authors' MATLAB evaluation
    (queries against all of ``info_test``; its whole protocol also needs
    the metric keys ``no_positive='zero'``, ``ap_mode='trapezoid'`` and
    ``distance='euclidean'``, see docs/evaluation.md). In both cases the
    metric removes gallery tracklets with the query's pid and camera.
    ``split='val'`` reads the validation split alike:
    ``list_seq_val.txt`` (the path the public loaders name) with
    ``test/data/info_val.mat`` (MATLAB 5).

    ``info_test``'s pid column numbers the ids 0..N-1, which need not be the
    list's pids: every list pid must correspond to exactly one ``info_test``
    pid and back (else the error names both ids), and the data infos keep
    the list's pids. Its camera column must equal the frame names' camera.

    Args:
        data_root (str): The LS-VID folder (see ``LAYOUT``).
        query_in_gallery (bool): Whether queries are gallery tracklets too.
            Defaults to False.
        **kwargs: ``split`` (``'train'``, ``'test'`` or ``'val'``) and the
            other arguments of :class:`BaseVideoReIDDataset`.
    """

    METAINFO: dict = dict(
        dataset_name='LS-VID',
        camera_names=tuple(f'cam {c}' for c in range(1, NUM_CAMERAS + 1)))
    SPLITS = ('train', 'test', 'val')
    LAYOUT = """<data_root>/
  list_sequence/list_seq_train.txt   "<path prefix> <pid>" per tracklet
  list_sequence/list_seq_test.txt, list_seq_val.txt
  tracklet_train/, tracklet_val/, tracklet_test/   frames <prefix>*
  test/data/info_test.mat   MATLAB v7.3: query (1-based test rows), info_test
  test/data/info_val.mat    MATLAB 5: the same for list_seq_val.txt
(or the lists and .mat files under info/: info/list_sequence/, info/data/)"""

    def __init__(self,
                 data_root: str,
                 query_in_gallery: bool = False,
                 **kwargs) -> None:
        if not isinstance(query_in_gallery, bool):
            raise TypeError('query_in_gallery must be a bool, got '
                            f'{query_in_gallery!r}')
        self.query_in_gallery = query_in_gallery
        super().__init__(data_root=data_root, **kwargs)
        self._metainfo['query_in_gallery'] = query_in_gallery

    def _layout(self) -> Tuple[Dict[str, str], Dict[str, str]]:
        """(list files, .mat files) of the layout at ``data_root``: the
        release's, or the ``info/`` variant when only it is there."""
        if not osp.isdir(osp.join(self.data_root, 'list_sequence')) and \
                osp.isdir(osp.join(self.data_root, 'info', 'list_sequence')):
            return VARIANT_LIST_FILES, VARIANT_INFO_MATS
        return LIST_FILES, INFO_MATS

    def _split_paths(self, lists: Dict[str, str],
                     mats: Dict[str, str]) -> List[str]:
        """What this split reads in a layout (frame folders included, so a
        "did you mean" never points at a folder without the frames)."""
        if self.split == 'train':
            return [lists['train'], 'tracklet_train']
        return [
            lists['train'], lists[self.split], mats[self.split],
            f'tracklet_{self.split}'
        ]

    def required_paths(self) -> List[str]:
        return self._split_paths(*self._layout())

    def alternative_required_paths(self) -> List[List[str]]:
        layouts = [(LIST_FILES, INFO_MATS),
                   (VARIANT_LIST_FILES, VARIANT_INFO_MATS)]
        return [
            self._split_paths(*layout) for layout in layouts
            if layout[0] is not self._layout()[0]
        ]

    def num_train_ids(self) -> int:
        rows = read_sequence_list(
            osp.join(self.data_root,
                     self._layout()[0]['train']))
        return len({pid for _, pid in rows})

    def load_train(self) -> List[dict]:
        path = osp.join(self.data_root, self._layout()[0]['train'])
        return self._tracklets(path, read_sequence_list(path))

    def load_test(self) -> List[dict]:
        lists, mats = self._layout()
        path = osp.join(self.data_root, lists[self.split])
        data_list = self._tracklets(path, read_sequence_list(path))
        queries = self._read_info(
            osp.join(self.data_root, mats[self.split]), path, data_list)
        for i, info in enumerate(data_list):
            is_query = i in queries
            info.update(
                is_query=is_query,
                is_gallery=self.query_in_gallery or not is_query)
        return data_list

    def _tracklets(self, list_file: str, rows: List[Tuple[str,
                                                          int]]) -> List[dict]:
        """Data infos of the list's rows; each folder is listed once."""
        listings: Dict[str, List[str]] = {}
        spans = []
        for r, (prefix, _) in enumerate(rows, 1):
            rel_folder, stem = osp.split(prefix)
            folder = osp.join(self.data_root, rel_folder)
            names = listings.get(folder)
            if names is None:
                if not osp.isdir(folder):
                    raise format_error(
                        list_file, r, f'folder "{folder}" of "{prefix}" '
                        f'does not exist. Expected layout:\n{self.LAYOUT}')
                names = listings[folder] = sorted(os.listdir(folder))
            lo = hi = bisect_left(names, stem)
            while hi < len(names) and names[hi].startswith(stem):
                hi += 1
            if not stem or lo == hi:
                raise format_error(
                    list_file, r, f'no frame in "{folder}" starts with '
                    f'"{stem}" (expected frames "{prefix}*")')
            spans.append((folder, lo, hi, r))
        # Frames claimed by two rows (a repeated or over-short prefix): if
        # any two spans overlap, two neighbours in start order do.
        ordered = sorted(spans)
        for (f1, _, end, r1), (f2, start, _, r2) in zip(ordered, ordered[1:]):
            if f1 == f2 and start < end:
                raise format_error(
                    list_file, max(r1, r2), f'its frames in "{f1}" are '
                    f'also frames of row {min(r1, r2)}: a prefix is listed '
                    'twice or is the prefix of another')
        data_list = []
        for (folder, lo, hi, r), (prefix, pid) in zip(spans, rows):
            frames = listings[folder][lo:hi]
            head = osp.join(folder, '')
            data_list.append(
                dict(
                    frame_paths=[head + n for n in frames],
                    pid=pid,
                    camid=self._camera(list_file, r, folder, frames) - 1,
                    tracklet_id=prefix))
        return data_list

    @staticmethod
    def _camera(list_file: str, row: int, folder: str,
                frames: List[str]) -> int:
        """The camera (1-based) of a tracklet, from its frame names."""
        # Set-level checks: a tracklet has thousands of frames, one camera.
        cams = {
            n.split('_', 3)[2] if n.count('_') == 3 else ''
            for n in frames
        }
        for cam in sorted(cams):
            if not cam.isdigit() or not 1 <= int(cam) <= NUM_CAMERAS:
                bad = next(
                    n for n in frames
                    if n.count('_') != 3 or n.split('_', 3)[2] == cam)
                raise format_error(
                    list_file, row, f'frame "{osp.join(folder, bad)}": '
                    'expected a name of four "_"-separated fields with '
                    f'the camera (1-{NUM_CAMERAS}) third')
        if len(cams) > 1:
            raise format_error(
                list_file, row, f'frames "{folder}/{frames[0]}"... are '
                f'from cameras {sorted(int(c) for c in cams)}; a tracklet '
                'has one camera')
        return int(cams.pop())

    @staticmethod
    def _read_info(path: str, list_file: str,
                   data_list: List[dict]) -> Set[int]:
        """0-based query rows; checks ``info_test`` when the file has it."""
        query = load_mat_array(path, 'query')
        num = len(data_list)
        if query.ndim > 2 or (query.ndim == 2 and 1 not in query.shape):
            raise ValueError(f'{path}: "query" must be a vector of 1-based '
                             f'rows of {list_file}, got shape {query.shape}')
        query = query.ravel()
        if query.size == 0 or query.min() < 1 or query.max() > num:
            got = f'{query.min()}..{query.max()}' if query.size else 'none'
            raise ValueError(f'{path}: "query" must hold rows 1..{num} of '
                             f'{list_file} ({num} lines), got {got}')
        if len(np.unique(query)) != len(query):
            raise ValueError(f'{path}: "query" lists a row twice')
        try:
            info = load_mat_array(path, 'info_test')
        except KeyError:
            info = None  # optional: only used to cross-check
        if info is not None:
            check_info_test(path, list_file, info, data_list)
        return set((query - 1).tolist())
