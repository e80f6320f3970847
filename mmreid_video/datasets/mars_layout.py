# Copyright (c) mmreid_video contributors. All rights reserved.
"""Writing the published MARS layout (``MARS.LAYOUT``): frame names, the
``info/`` folder, and trees of hard-linked placeholder frames at MARS scale.

One naming rule serves every writer (synthetic data, the rehearsal's tree,
the dataset-init benchmark, tests): :func:`mars_frame_name`, e.g.
``0001C1T0001F001.jpg``: pid on 4 characters (``0000`` distractors, ``00-1``
junk), camera, tracklet numbers counted per pid in table order (the MARS
readme: "accumulated for each ID") and frames from ``F001``.

:func:`build_placeholder_tree` builds the real MARS tree (or a slice) from
the real metadata, one hard link per frame to one of a few hundred
placeholder JPEGs: 1.19 M frames cost a few MB of image data plus their
directory entries. It is published whole
(:func:`mmreid_video.fileio.publish_folder`) with a marker file
``rehearsal_tree.json``; a complete tree with the same inputs is reused, and
only folders carrying that marker are ever replaced.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy.io import savemat

from mmreid_video.fileio import publish_folder
from mmreid_video.utils.fingerprint import file_fingerprint
from .readers import load_mat_array, pid_folder, read_names

TREE_VERSION = 2  # 2: tracklets counted per pid (one naming rule)
MARKER = 'rehearsal_tree.json'
SPLITS = ('train', 'test')
_BYTES_PER_FRAME = 96  # a hard link and a name-list line, generous


def mars_frame_name(pid: int, camera: int, tracklet: int, frame: int) -> str:
    """The MARS name of one frame.

    Args:
        pid (int): Identity (0 distractor, -1 junk).
        camera (int): Camera, 1..9.
        tracklet (int): Tracklet number of the pid, from 1.
        frame (int): Frame number in the tracklet, from 1.

    Returns:
        str: E.g. ``'0001C1T0001F001.jpg'``; its first 4 characters are the
        pid's folder under ``bbox_<split>/``.
    """
    return f'{pid_folder(pid)}C{camera}T{tracklet:04d}F{frame:03d}.jpg'


def mars_tracklet_numbers(pids: Sequence[int]) -> np.ndarray:
    """MARS tracklet number of every row: counted per pid in row order.

    Args:
        pids (Sequence[int]): The pid of each track-table row.

    Returns:
        np.ndarray: ``(N,)`` 1-based tracklet numbers.
    """
    count, numbers = {}, np.empty(len(pids), dtype=np.int64)
    for row, pid in enumerate(np.asarray(pids).tolist()):
        count[pid] = numbers[row] = count.get(pid, 0) + 1
    return numbers


def mars_frame_names(table: np.ndarray,
                     numbers: Optional[np.ndarray] = None) -> List[str]:
    """The frame names of the rows of a track table, row after row.

    Args:
        table (np.ndarray): ``(N, 4)`` rows ``[start, end, pid, camera]``.
        numbers (np.ndarray, optional): Tracklet number of each row.
            Defaults to None (:func:`mars_tracklet_numbers` of the table).

    Returns:
        list[str]: ``end - start + 1`` names per row.
    """
    if numbers is None:
        numbers = mars_tracklet_numbers(table[:, 2])
    return [
        mars_frame_name(pid, cam, t, f)
        for (s, e, pid, cam), t in zip(table.tolist(), numbers.tolist())
        for f in range(1, e - s + 2)
    ]


def _check_tiling(table: np.ndarray, where: str) -> None:
    """Check that the rows of a table (file ``where``) tile the name list
    in order, as deriving its names needs."""
    start, end = table[:, 0], table[:, 1]
    expected = np.concatenate([[1], end[:-1] + 1])
    bad = np.flatnonzero((start != expected) | (end < start))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f'{where}, row {row + 1}: [start, end] = [{start[row]}, '
            f'{end[row]}]; deriving frame names needs rows that tile the '
            f'name list in order (expected start = {expected[row]}, end >= '
            'start). Put train_name.txt / test_name.txt into the info '
            'folder.')


def write_mars_info(root: str, tables: Dict[str, np.ndarray],
                    names: Dict[str,
                                Sequence[str]], query: np.ndarray) -> None:
    """Write the ``info/`` folder of a MARS tree (and empty ``bbox_*``).

    Arrays are saved with the published files' dtypes: int32 track tables,
    a ``(1, Q)`` uint16 ``query_IDX``.

    Args:
        root (str): The tree.
        tables (dict[str, np.ndarray]): ``'train'`` / ``'test'`` ->
            ``(N, 4)`` rows ``[start, end, pid, camera]``.
        names (dict[str, Sequence[str]]): Split -> frame-name list.
        query (np.ndarray): 1-based rows of the test table.
    """
    info = osp.join(root, 'info')
    os.makedirs(info, exist_ok=True)
    for sub in SPLITS:
        os.makedirs(osp.join(root, f'bbox_{sub}'), exist_ok=True)
        savemat(
            osp.join(info, f'tracks_{sub}_info.mat'),
            {f'track_{sub}_info': np.asarray(tables[sub], np.int32)})
        with open(osp.join(info, f'{sub}_name.txt'), 'w') as f:
            f.write('\n'.join(names[sub]) + '\n')
    savemat(
        osp.join(info, 'query_IDX.mat'),
        {'query_IDX': np.asarray(query, np.uint16).reshape(1, -1)})


def read_mars_info(info_dir: str) -> Dict:
    """Read the MARS metadata of an ``info/`` folder.

    Args:
        info_dir (str): The folder.

    Returns:
        dict: per split ``tables`` and ``names`` (the name list; None when
        ``<split>_name.txt`` is missing, then the names are derived for the
        kept rows by :func:`select_tracklets` from ``<split>_numbers``),
        ``query`` (1-based test rows), ``names_source`` and the
        fingerprint of every file read (``files``).
    """
    out = dict(tables={}, names={}, files={}, names_source={})
    for sub in SPLITS:
        mat = osp.join(info_dir, f'tracks_{sub}_info.mat')
        if not osp.isfile(mat):
            raise FileNotFoundError(
                f'--info: "{mat}" does not exist; expected the MARS info '
                'folder (tracks_train_info.mat, tracks_test_info.mat, '
                'query_IDX.mat, optionally train_name.txt/test_name.txt)')
        table = load_mat_array(mat, f'track_{sub}_info')
        if table.ndim != 2 or table.shape[1] != 4 or not len(table):
            raise ValueError(f'{mat}: expected rows [start, end, pid, camera]'
                             f' of shape (N, 4), got {table.shape}')
        out['tables'][sub] = table
        out['files'][osp.basename(mat)] = file_fingerprint(mat)
        names_file = osp.join(info_dir, f'{sub}_name.txt')
        if osp.isfile(names_file):
            out['names'][sub] = read_names(names_file)
            out['names_source'][sub] = names_file
            out['files'][f'{sub}_name.txt'] = file_fingerprint(names_file)
        else:
            _check_tiling(table, mat)
            out['names'][sub] = None
            out['names_source'][sub] = 'derived from the track table'
            out[f'{sub}_numbers'] = mars_tracklet_numbers(table[:, 2])
    query_mat = osp.join(info_dir, 'query_IDX.mat')
    if not osp.isfile(query_mat):
        raise FileNotFoundError(f'--info: "{query_mat}" does not exist')
    out['query'] = load_mat_array(query_mat, 'query_IDX').ravel()
    out['files']['query_IDX.mat'] = file_fingerprint(query_mat)
    return out


def _whole_identities(pids: np.ndarray, budget: int) -> List[np.ndarray]:
    """Rows of whole identities (pid > 0) drawn in a fixed random order
    while they fit into ``budget`` rows (at least one identity)."""
    chosen = []
    ids = np.unique(pids[pids > 0])
    for pid in np.random.default_rng(0).permutation(ids):
        cand = np.flatnonzero(pids == pid)
        if len(cand) > budget and chosen:
            continue
        chosen.append(cand)
        budget -= len(cand)
        if budget <= 0:
            break
    return chosen


def _slice_rows(table: np.ndarray, n: int, sub: str,
                query: np.ndarray) -> np.ndarray:
    """At most ``n`` rows (one identity may exceed it): whole identities
    and, in the test split, junk and distractors in their full-table
    proportions; every query of a kept identity is kept."""
    pids = table[:, 2]
    rows = []
    if sub == 'test':
        for pid in (-1, 0):
            cand = np.flatnonzero(pids == pid)
            rows.append(cand[:int(round(n * len(cand) / len(table)))])
    rows += _whole_identities(pids, n - sum(map(len, rows)))
    rows = np.sort(np.concatenate(rows))
    if sub == 'test' and not np.isin(query - 1, rows).any():
        raise ValueError(f'--max-tracklets {n}: the test slice holds no '
                         'query tracklet; use a larger value')
    return rows


def select_tracklets(info: Dict, max_tracklets: Optional[int]) -> Dict:
    """Keep at most ``max_tracklets`` tracklets per split (all if None).

    A slice keeps whole identities (and some junk and distractors, see
    :func:`_slice_rows`), in table order, with their queries and their
    frames' names. A slice's start/end are renumbered so that its names
    are consecutive.

    Args:
        info (dict): :func:`read_mars_info`'s output.
        max_tracklets (int, optional): Tracklets kept per split.

    Returns:
        dict: ``tables``, ``names`` (lists) and ``query`` of the kept rows.
    """
    if max_tracklets is not None and max_tracklets < 1:
        raise ValueError(f'--max-tracklets must be >= 1, got {max_tracklets}')
    out = dict(tables={}, names={}, query=info['query'])
    for sub in SPLITS:
        table = info['tables'][sub]
        rows = np.arange(len(table)) if max_tracklets is None else \
            _slice_rows(table, max_tracklets, sub, info['query'])
        kept = table[rows].copy()
        names = info['names'][sub]
        out['names'][sub] = mars_frame_names(
            kept, info[f'{sub}_numbers'][rows]) if names is None else [
                n for s, e in kept[:, :2].tolist() for n in names[s - 1:e]
            ]
        lengths = kept[:, 1] - kept[:, 0] + 1
        kept[:, 1] = np.cumsum(lengths)
        kept[:, 0] = kept[:, 1] - lengths + 1
        out['tables'][sub] = kept
        if sub == 'test' and max_tracklets is not None:
            new_row = {int(r) + 1: i + 1 for i, r in enumerate(rows)}
            out['query'] = np.array(
                [new_row[q] for q in info['query'].tolist() if q in new_row])
    return out


def _placeholders(folder: str, num: int, hw: Tuple[int, int]) -> List[str]:
    """Write ``num`` distinct smooth, noisy JPEGs (about 8 KB at 256x128,
    quality 90): noisy, so that decoding them is not unrealistically
    cheap."""
    rng = np.random.default_rng(0)
    height, width = hw
    paths = []
    for i in range(num):
        base = rng.integers(0, 256,
                            (max(height // 16, 1), max(width // 16, 1), 3),
                            np.uint8)
        base = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
        img = np.clip(base + rng.normal(0, 3, base.shape), 0, 255)
        path = osp.join(folder, f'{i:04d}.jpg')
        cv2.imwrite(path, img.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def _check_budget(parent: str, num_frames: int, num_dirs: int,
                  num_images: int) -> None:
    """Fail early when the disk, inode or hard-link budget is too small."""
    st = os.statvfs(parent)
    need = num_frames * _BYTES_PER_FRAME + num_images * 16_384
    if st.f_bavail * st.f_frsize < 2 * need:
        raise OSError(f'{parent}: {st.f_bavail * st.f_frsize / 2**20:.0f} MB '
                      f'free, the tree needs about {need / 2**20:.0f} MB '
                      '(twice that asked for safety)')
    inodes = num_dirs + num_images + 16
    if st.f_files and st.f_favail < 2 * inodes:
        raise OSError(f'{parent}: {st.f_favail} free inodes, the tree needs '
                      f'{inodes} (hard links use none)')
    link_max = os.pathconf(parent, 'PC_LINK_MAX')
    if -(-num_frames // num_images) >= link_max:
        raise OSError(f'{parent}: at most {link_max} hard links per file; '
                      f'{num_frames} frames need --num-images >= '
                      f'{-(-num_frames // (link_max - 1))}')


def _write_tree(root: str, kept: Dict, marker: Dict, num_images: int,
                hw: Tuple[int, int]) -> Dict:
    """Write the whole tree into the new folder ``root``; returns the
    marker's content (``marker`` plus the counts)."""
    write_mars_info(root, kept['tables'], kept['names'], kept['query'])
    os.makedirs(osp.join(root, 'placeholders'))
    images = _placeholders(osp.join(root, 'placeholders'), num_images, hw)
    frames, k = {}, 0
    for sub in SPLITS:
        names = kept['names'][sub]
        bbox = osp.join(root, f'bbox_{sub}')
        for folder in sorted({n[:4] for n in names}):
            os.makedirs(osp.join(bbox, folder))
        for name in names:
            os.link(images[k % num_images], f'{bbox}/{name[:4]}/{name}')
            k += 1
        frames[sub] = len(names)
    content = dict(
        marker,
        frames=frames,
        tracklets={s: len(t)
                   for s, t in kept['tables'].items()},
        num_queries=len(kept['query']))
    with open(osp.join(root, MARKER), 'w') as f:
        json.dump(content, f, indent=2)
    return content


def _read_marker(root: str) -> Optional[Dict]:
    """The marker of the tree at ``root`` (None: no folder there)."""
    if not osp.exists(root):
        return None
    marker = osp.join(root, MARKER)
    if not osp.isfile(marker):
        raise FileExistsError(
            f'{root} exists and is not a rehearsal tree (no {MARKER}); '
            'it is left alone: choose another --data-root')
    with open(marker) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(
                f'{marker}: not valid JSON ({e}); remove {root} if it '
                'is a rehearsal tree, or choose another --data-root')


def _remove_tree(folder: str) -> None:
    """Remove a replaced placeholder tree (only one with the marker)."""
    if osp.isfile(osp.join(folder, MARKER)):
        shutil.rmtree(folder)


def build_placeholder_tree(
    root: str,
    info_dir: str,
    max_tracklets: Optional[int] = None,
    num_images: int = 256,
    frame_hw: Tuple[int, int] = (256, 128)
) -> Tuple[Dict, bool]:
    """Build (or reuse) the placeholder MARS tree at ``root``.

    Args:
        root (str): The tree (the ``data_root`` of the MARS dataset).
        info_dir (str): The real ``info/`` folder.
        max_tracklets (int, optional): Tracklets kept per split (see
            :func:`select_tracklets`). Defaults to None (all).
        num_images (int): Distinct placeholder JPEGs. Defaults to 256.
        frame_hw (tuple[int, int]): Frame size (H, W). Defaults to the MARS
            crops' (256, 128).

    Returns:
        tuple[dict, bool]: The tree's marker content and whether it was
        built now (False: reused).
    """
    root = osp.abspath(root)
    info = read_mars_info(info_dir)
    key = dict(
        version=TREE_VERSION,
        files=info['files'],
        max_tracklets=max_tracklets,
        num_images=num_images,
        frame_hw=list(frame_hw))
    old = _read_marker(root)
    if old is not None and {k: old.get(k) for k in key} == key:
        return old, False
    kept = select_tracklets(info, max_tracklets)
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    num_frames = sum(len(n) for n in kept['names'].values())
    num_dirs = sum(len({n[:4] for n in v}) for v in kept['names'].values())
    _check_budget(parent, num_frames, num_dirs, num_images)
    marker = dict(key, names_source=info['names_source'])
    try:
        content = publish_folder(
            root,
            lambda tmp: _write_tree(tmp, kept, marker, num_images, frame_hw),
            remove_old=None if old is None else _remove_tree)
    except FileExistsError:
        if not osp.isfile(osp.join(root, MARKER)):
            raise
        # Another run published a tree first: reuse or replace it.
        return build_placeholder_tree(root, info_dir, max_tracklets,
                                      num_images, frame_hw)
    return content, True
