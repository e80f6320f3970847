"""A MARS tree of hard-linked placeholder frames, built from real metadata.

Used by ``rehearse_scale.py``. The tree has the exact published MARS layout
(see ``mmreid_video.datasets.MARS.LAYOUT``): the real track tables and
``query_IDX`` (or a slice of them), the frame-name lists, and one hard link
per frame to one of a few hundred distinct placeholder JPEGs, so 1.19 M
frames cost a few MB of image data plus their directory entries.

When ``info/`` holds no ``train_name.txt`` / ``test_name.txt`` (the shared
copy of the metadata does not), the names are derived from the track tables
in the MARS naming ``<pid>C<camera>T<tracklet>F<frame>.jpg``, e.g.
``0001C1T0001F001.jpg``: pid on 4 characters (``0000`` distractors, ``00-1``
junk), tracklet numbers counted per pid in table order (the MARS readme:
"accumulated for each ID") and frames from ``F001`` in each tracklet.

The tree is built in a hidden sibling folder and renamed into place, with a
marker file ``rehearsal_tree.json`` written last; a complete tree with the
same inputs is reused. Only folders carrying that marker (or the partial
marker of an interrupted build) are ever replaced or removed.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from scipy.io import savemat

from mmreid_video.datasets.readers import (load_mat_array, pid_folder,
                                           read_names)

TREE_VERSION = 1
MARKER = 'rehearsal_tree.json'
PARTIAL_MARKER = '.rehearsal_partial'
SPLITS = ('train', 'test')
# Bytes per hard link (directory entry) and per name-list line, generous.
_BYTES_PER_FRAME = 96


def tracklet_numbers(table: np.ndarray, mat_path: str) -> np.ndarray:
    """MARS tracklet number of every row (counted per pid in table order),
    after checking that the rows tile the name list, as derived names need.

    Args:
        table (np.ndarray): ``(N, 4)`` rows ``[start, end, pid, camera]``.
        mat_path (str): The table's file, named in errors.

    Returns:
        np.ndarray: ``(N,)`` 1-based tracklet numbers.
    """
    start, end = table[:, 0], table[:, 1]
    expected = np.concatenate([[1], end[:-1] + 1])
    bad = np.flatnonzero((start != expected) | (end < start))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f'{mat_path}, row {row + 1}: [start, end] = [{start[row]}, '
            f'{end[row]}]; deriving frame names needs rows that tile the '
            f'name list in order (expected start = {expected[row]}, end >= '
            'start). Put train_name.txt / test_name.txt into the info '
            'folder.')
    count, numbers = {}, np.empty(len(table), dtype=np.int64)
    for row, pid in enumerate(table[:, 2].tolist()):
        count[pid] = numbers[row] = count.get(pid, 0) + 1
    return numbers


def _md5(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def read_info(info_dir: str) -> Dict:
    """Read the MARS metadata of an ``info/`` folder.

    Returns:
        dict: per split ``tables`` and ``names`` (the name list, or None to
        derive names), ``query`` (1-based test rows), ``names_source`` and
        the ``md5`` of every file read.
    """
    out = dict(tables={}, names={}, md5={}, names_source={})
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
        out['md5'][osp.basename(mat)] = _md5(mat)
        names_file = osp.join(info_dir, f'{sub}_name.txt')
        if osp.isfile(names_file):
            out['names'][sub] = read_names(names_file)
            out['names_source'][sub] = names_file
            out['md5'][osp.basename(names_file)] = _md5(names_file)
        else:
            out['names'][sub] = None
            out['names_source'][sub] = 'derived from the track table'
            out[f'{sub}_tracklet_numbers'] = tracklet_numbers(table, mat)
    query_mat = osp.join(info_dir, 'query_IDX.mat')
    if not osp.isfile(query_mat):
        raise FileNotFoundError(f'--info: "{query_mat}" does not exist')
    out['query'] = load_mat_array(query_mat, 'query_IDX').ravel()
    out['md5']['query_IDX.mat'] = _md5(query_mat)
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
    """Keep at most ``max_tracklets`` tracklets per split (all if None) and
    give every kept frame its name.

    A slice keeps whole identities (and some junk and distractors, see
    :func:`_slice_rows`), in table order, with their queries. A slice's
    start/end are renumbered so that its names are consecutive.

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
        if info['names'][sub] is not None:
            names = info['names'][sub]
            out['names'][sub] = [
                n for s, e in kept[:, :2].tolist() for n in names[s - 1:e]
            ]
        else:
            numbers = info[f'{sub}_tracklet_numbers'][rows]
            out['names'][sub] = [
                f'{pid_folder(pid)}C{cam}T{t:04d}F{f:03d}.jpg'
                for (s, e, pid, cam), t in zip(kept.tolist(), numbers.tolist())
                for f in range(1, e - s + 2)
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


def _write_tree(tmp: str, info: Dict, info_dir: str, sliced: bool,
                num_images: int, hw: Tuple[int, int]) -> Dict[str, int]:
    """Write the whole tree under ``tmp``; returns frames per split."""
    os.makedirs(osp.join(tmp, 'info'))
    if sliced:
        for sub in SPLITS:
            savemat(
                osp.join(tmp, 'info', f'tracks_{sub}_info.mat'),
                {f'track_{sub}_info': info['tables'][sub].astype(np.int32)})
        savemat(
            osp.join(tmp, 'info', 'query_IDX.mat'),
            {'query_IDX': info['query'].astype(np.uint16).reshape(1, -1)})
    else:
        for name in ('tracks_train_info.mat', 'tracks_test_info.mat',
                     'query_IDX.mat'):
            shutil.copyfile(
                osp.join(info_dir, name), osp.join(tmp, 'info', name))
    os.makedirs(osp.join(tmp, 'placeholders'))
    images = _placeholders(osp.join(tmp, 'placeholders'), num_images, hw)
    frames, k = {}, 0
    for sub in SPLITS:
        names = info['names'][sub]
        with open(osp.join(tmp, 'info', f'{sub}_name.txt'), 'w') as f:
            f.write('\n'.join(names) + '\n')
        bbox = osp.join(tmp, f'bbox_{sub}')
        for folder in sorted({n[:4] for n in names}):
            os.makedirs(osp.join(bbox, folder))
        for name in names:
            os.link(images[k % num_images], f'{bbox}/{name[:4]}/{name}')
            k += 1
        frames[sub] = len(names)
    return frames


def build_tree(
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
    info = read_info(info_dir)
    key = dict(
        version=TREE_VERSION,
        md5=info['md5'],
        max_tracklets=max_tracklets,
        num_images=num_images,
        frame_hw=list(frame_hw))
    marker = osp.join(root, MARKER)
    old = None
    if osp.exists(root):
        if not osp.isfile(marker):
            raise FileExistsError(
                f'{root} exists and is not a rehearsal tree (no {MARKER}); '
                'it is left alone: choose another --data-root')
        with open(marker) as f:
            try:
                old = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f'{marker}: not valid JSON ({e}); remove {root} if it '
                    'is a rehearsal tree, or choose another --data-root')
        if {k: old.get(k) for k in key} == key:
            return old, False
    kept = select_tracklets(info, max_tracklets)
    parent, base = osp.split(root)
    os.makedirs(parent, exist_ok=True)
    _remove_stale_partials(parent, base)
    num_frames = sum(len(n) for n in kept['names'].values())
    num_dirs = sum(len({n[:4] for n in v}) for v in kept['names'].values())
    _check_budget(parent, num_frames, num_dirs, num_images)
    tmp = osp.join(parent, f'.{base}.partial-{os.getpid()}')
    os.makedirs(tmp)
    open(osp.join(tmp, PARTIAL_MARKER), 'w').close()
    frames = _write_tree(tmp, kept, info_dir, max_tracklets is not None,
                         num_images, frame_hw)
    content = dict(
        key,
        frames=frames,
        tracklets={
            s: len(t)
            for s, t in kept['tables'].items()
        },
        num_queries=len(kept['query']),
        names_source=info['names_source'])
    with open(osp.join(tmp, MARKER), 'w') as f:
        json.dump(content, f, indent=2)
    os.remove(osp.join(tmp, PARTIAL_MARKER))
    if old is not None:  # ours, built from other inputs: swap, then remove
        trash = osp.join(parent, f'.{base}.old-{os.getpid()}')
        os.rename(root, trash)
        os.rename(tmp, root)
        shutil.rmtree(trash)
        return content, True
    try:
        os.rename(tmp, root)
    except OSError:
        # Another run finished the same tree first: keep its tree.
        if not osp.isfile(marker):
            raise
        shutil.rmtree(tmp)
        return build_tree(root, info_dir, max_tracklets, num_images, frame_hw)
    return content, True


def _remove_stale_partials(parent: str, base: str) -> None:
    """Remove what killed builds of this tree left: folders named by this
    module, holding one of its markers, whose process is gone."""
    for name in os.listdir(parent):
        path = osp.join(parent, name)
        stem, _, pid = name.rpartition('-')
        if not (stem in (f'.{base}.partial', f'.{base}.old') and pid.isdigit()
                and any(
                    osp.isfile(osp.join(path, m))
                    for m in (PARTIAL_MARKER, MARKER))):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path)
        except PermissionError:
            pass  # a live process of another user
