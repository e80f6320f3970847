# Copyright (c) mmreid_video contributors. All rights reserved.
"""Ranked-list figures from a ``VideoReIDMetric`` dump.

The dump (``tools/test.py --out FILE`` or ``VideoReIDMetric(out_file=...)``,
``.pkl`` or ``.npz``) holds the fields
:data:`mmreid_video.evaluation.metrics.DUMP_KEYS`, all in the dataset
order of the test split (N tracklets, Q queries, k = the metric's
``max_rank``):

- ``pids``, ``camids``, ``sample_idx``: (N, ) labels and dataset indices;
- ``query_indices`` (Q, ), ``gallery_indices`` (G, ): rows of the above;
- ``ranked_gallery`` (Q, k): positions in ``gallery_indices``, best first,
  same-id-same-camera junk removed, padded with -1;
- ``ranked_distances`` (Q, k): their distances (inf where padded);
- ``query_ap`` (Q, ): average precision, NaN for a query without a match;
- ``camera_names``: the dataset's camera labels by camid (figures show
  ``cam {camid}`` when it is empty or, in older dumps, absent);
- ``protocol``: how the ranking was computed, one line (older dumps:
  ``'not recorded'``);
- ``provenance``: what made the descriptors
  (:mod:`mmreid_video.utils.provenance`; None in older dumps), whose
  ``data`` part :func:`check_dump_matches` compares with the dataset;
- ``features`` (N, D): the descriptors, not read here.
"""
import logging
from typing import Callable, List, Optional, Sequence

import mmengine
import numpy as np
from mmengine.logging import print_log

from mmreid_video.evaluation.metrics import DUMP_KEYS
from mmreid_video.fileio import check_regular_file
from mmreid_video.utils.provenance import (ProvenanceError, as_provenance,
                                           data_fingerprint)
from .ranked_list import (TrackletPanel, draw_ranked_list, gallery_panel,
                          load_frames, query_panel, sample_indices)

# Fields the figures need; older dumps lack the optional ones.
_OPTIONAL_KEYS = ('features', 'camera_names', 'protocol', 'provenance')
_READ_KEYS = tuple(k for k in DUMP_KEYS if k not in _OPTIONAL_KEYS)
SELECT_MODES = ('first', 'random', 'best', 'worst')


def load_ranking_dump(path: str) -> dict:
    """Read and check the fields of a metric dump.

    Args:
        path (str): The ``.pkl`` or ``.npz`` file.

    Returns:
        dict: The dump's fields but ``features``, as numpy arrays, and
        ``path`` (the file).
    """
    check_regular_file(path)
    if path.endswith('.npz'):
        with np.load(path) as data:
            raw = {k: data[k] for k in data.files}
    elif path.endswith('.pkl'):
        raw = mmengine.load(path)
    else:
        raise ValueError(f'Dump {path!r} must be a .pkl or .npz file')
    missing = [k for k in _READ_KEYS if k not in raw]
    if missing:
        raise KeyError(f'Dump {path!r} lacks {missing}; expected the fields '
                       f'{DUMP_KEYS} written by VideoReIDMetric(out_file=...)')
    dump = {k: np.asarray(raw[k]) for k in _READ_KEYS}
    dump['camera_names'] = np.asarray(raw.get('camera_names', ()), dtype=str)
    dump['protocol'] = str(raw.get('protocol', 'not recorded'))
    dump['provenance'] = as_provenance(raw.get('provenance'), path)
    dump['path'] = path
    num, num_q = len(dump['pids']), len(dump['query_indices'])
    shapes_ok = (
        dump['camids'].shape == (num, ) and dump['sample_idx'].shape == (num, )
        and dump['ranked_gallery'].ndim == 2
        and dump['ranked_gallery'].shape[0] == num_q
        and dump['ranked_distances'].shape == dump['ranked_gallery'].shape
        and dump['query_ap'].shape == (num_q, ))
    if not shapes_ok:
        raise ValueError(f'Dump {path!r}: inconsistent shapes ' +
                         ', '.join(f'{k}={dump[k].shape}' for k in _READ_KEYS))
    if dump['camera_names'].size and (dump['camids'].max(initial=0) >=
                                      dump['camera_names'].size):
        raise ValueError(f'Dump {path!r}: camid {dump["camids"].max()} has '
                         f'no label in camera_names '
                         f'{dump["camera_names"].tolist()}')
    return dump


def select_queries(dump: dict,
                   select: str = 'first',
                   num: int = 8,
                   query_index: Optional[Sequence[int]] = None,
                   pids: Optional[Sequence[int]] = None,
                   seed: int = 0) -> np.ndarray:
    """Choose the queries of a dump to draw.

    Args:
        dump (dict): From :func:`load_ranking_dump`.
        select, num, query_index, pids, seed: See :func:`choose_queries`.

    Returns:
        np.ndarray: Positions in ``dump['query_indices']``.
    """
    return choose_queries(
        len(dump['query_indices']),
        select,
        num,
        query_index,
        pids,
        seed,
        query_pids=dump['pids'][dump['query_indices']].tolist(),
        query_ap=dump['query_ap'])


def choose_queries(num_q: int,
                   select: str = 'first',
                   num: int = 8,
                   query_index: Optional[Sequence[int]] = None,
                   pids: Optional[Sequence[int]] = None,
                   seed: int = 0,
                   query_pids: Sequence[Optional[int]] = (),
                   query_ap: Optional[np.ndarray] = None) -> np.ndarray:
    """Choose queries to draw, of a dump or of search results.

    Args:
        num_q (int): Number of queries.
        select (str): ``'first'``, ``'random'``, ``'best'`` or ``'worst'``
            (by AP; queries without a valid match are left out).
            Defaults to 'first'.
        num (int): Number of queries. Defaults to 8.
        query_index (Sequence[int], optional): Explicit 0-based positions in
            the query list; overrides ``select`` and ``num``.
        pids (Sequence[int], optional): Keep only queries of these persons
            before selecting. Defaults to None.
        seed (int): Seed of ``'random'``. Defaults to 0.
        query_pids (Sequence[int | None]): Each query's pid (None:
            unknown), for ``pids``.
        query_ap (np.ndarray, optional): Each query's AP, for ``'best'`` and
            ``'worst'``; None when there is none (search results).

    Returns:
        np.ndarray: Positions in the query list.
    """
    if query_index is not None:
        out = np.asarray(query_index, dtype=np.int64)
        if out.size == 0 or out.min() < 0 or out.max() >= num_q:
            raise IndexError(f'query_index {list(out)} outside the '
                             f'{num_q} queries')
        return out
    if select not in SELECT_MODES:
        raise ValueError(f'select must be one of {SELECT_MODES}, got '
                         f'{select!r}')
    if select in ('best', 'worst') and query_ap is None:
        raise ValueError(f'select={select!r} sorts by AP, which search '
                         'results have not: use first or random')
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    candidates = np.arange(num_q)
    if pids is not None:
        wanted = set(pids)
        candidates = np.array(
            [q for q in candidates if query_pids[q] in wanted], np.int64)
        if candidates.size == 0:
            raise ValueError(f'No query has a pid in {list(pids)}')
    if select == 'random':
        rng = np.random.default_rng(seed)
        return np.sort(
            rng.choice(candidates, min(num, len(candidates)), replace=False))
    if select in ('best', 'worst'):
        ap = query_ap[candidates]
        candidates = candidates[~np.isnan(ap)]
        ap = ap[~np.isnan(ap)]
        # Stable: equal APs keep query order.
        order = np.argsort(-ap if select == 'best' else ap, kind='stable')
        candidates = candidates[order]
    return candidates[:num]


def ranked_rows(dump: dict,
                queries: Sequence[int],
                frames_of: Callable[[int], List[np.ndarray]],
                topk: int = 5) -> List[tuple]:
    """Build the rows of a ranked-list figure.

    Args:
        dump (dict): From :func:`load_ranking_dump`.
        queries (Sequence[int]): Positions in ``dump['query_indices']``.
        frames_of (Callable[[int], list[np.ndarray]]): Returns the RGB
            frames to show for a dataset index (``sample_idx``).
        topk (int): Gallery items per row; at most the dump's list length.
            Defaults to 5.

    Returns:
        list[tuple]: ``(query_panel, gallery_panels)`` rows.
    """
    width = dump['ranked_gallery'].shape[1]
    if not 1 <= topk <= width:
        raise ValueError(f'topk must be in [1, {width}] (the dump keeps '
                         f'top-{width} lists, the metric max_rank), got '
                         f'{topk}')
    pids, camids = dump['pids'], dump['camids']
    cameras = dump.get('camera_names', ())
    rows = []
    for q in queries:
        q_row = dump['query_indices'][q]
        ap = dump['query_ap'][q]
        title = 'query' if np.isnan(ap) else f'query AP={ap:.2f}'
        panels: List[TrackletPanel] = []
        for rank in range(topk):
            pos = dump['ranked_gallery'][q, rank]
            if pos < 0:
                break
            g_row = dump['gallery_indices'][pos]
            panels.append(
                gallery_panel(
                    frames_of(int(dump['sample_idx'][g_row])),
                    rank + 1,
                    float(dump['ranked_distances'][q, rank]),
                    camid=int(camids[g_row]),
                    pid=int(pids[g_row]),
                    match=bool(pids[g_row] == pids[q_row]),
                    camera_names=cameras))
        rows.append((query_panel(
            frames_of(int(dump['sample_idx'][q_row])),
            camid=int(camids[q_row]),
            pid=int(pids[q_row]),
            title=title,
            camera_names=cameras), panels))
    return rows


def dataset_frames(dataset, num_frames: int) -> Callable[[int], list]:
    """Frame reader for :func:`ranked_rows` from a test dataset.

    Args:
        dataset: A dataset whose ``get_data_info(i)`` has ``frame_paths``.
        num_frames (int): Evenly sampled frames per tracklet.

    Returns:
        Callable[[int], list[np.ndarray]]: Dataset index -> RGB frames.
    """

    def frames_of(index: int) -> List[np.ndarray]:
        paths = dataset.get_data_info(index)['frame_paths']
        return load_frames(
            [paths[i] for i in sample_indices(len(paths), num_frames)])

    return frames_of


def check_dump_matches(dump: dict, dataset) -> None:
    """Raise if the dump was not made on this dataset.

    A dump that records its provenance must name the dataset's tracklets
    (its ``data`` fingerprint, :func:`~mmreid_video.utils.provenance.
    data_fingerprint`); an older one is checked on two tracklets' pids.

    Raises:
        ProvenanceError: The dump was drawn against other data; the message
            names both fingerprints.
        ValueError: An older dump whose indices or pids disagree.
    """
    where = dump.get('path', 'The dump')
    if dump.get('provenance') is not None:
        mine = data_fingerprint(dataset)
        if dump['provenance']['data'] != mine:
            raise ProvenanceError(
                f'{where} was computed on other data than the test dataset '
                f'of this config (data {dump["provenance"]["data"]} vs '
                f'{mine}): its rows would be drawn with other tracklets\' '
                'frames. Pass the config (and --cfg-options, e.g. '
                'data_root) the dump was made with.')
        return
    print_log(
        f'{where} records no provenance (an older dump): only the pids of '
        'two tracklets are compared with the dataset',
        logger='current',
        level=logging.WARNING)
    if len(dump['sample_idx']) and dump['sample_idx'].max() >= len(dataset):
        raise ValueError(f'{where} has dataset index '
                         f'{dump["sample_idx"].max()} but the test dataset '
                         f'has {len(dataset)} tracklets; wrong config?')
    for row in np.unique(
            np.concatenate(
                [dump['query_indices'][:1], dump['gallery_indices'][-1:]])):
        info = dataset.get_data_info(int(dump['sample_idx'][row]))
        if info['pid'] != dump['pids'][row]:
            raise ValueError(f'{where} does not match the test dataset: '
                             f'tracklet {info.get("tracklet_id")} has pid '
                             f'{info["pid"]} but {dump["pids"][row]} in the '
                             'dump; wrong config?')


def draw_ranked_figures(dump: dict,
                        queries: Sequence[int],
                        frames_of: Callable[[int], List[np.ndarray]],
                        topk: int = 5,
                        per_figure: int = 8,
                        frames_per_tracklet: int = 4) -> List[np.ndarray]:
    """Draw the chosen queries, ``per_figure`` rows per image.

    Args:
        dump (dict): From :func:`load_ranking_dump`.
        queries (Sequence[int]): Positions in ``dump['query_indices']``.
        frames_of (Callable): See :func:`ranked_rows`.
        topk (int): Gallery columns. Defaults to 5.
        per_figure (int): Rows per image. Defaults to 8.
        frames_per_tracklet (int): Frames per cell. Defaults to 4.

    Returns:
        list[np.ndarray]: RGB uint8 figures.
    """
    if per_figure < 1:
        raise ValueError(f'per_figure must be >= 1, got {per_figure}')
    figures = []
    for start in range(0, len(queries), per_figure):
        rows = ranked_rows(dump, queries[start:start + per_figure], frames_of,
                           topk)
        figures.append(
            draw_ranked_list(
                rows,
                num_gallery=topk,
                frames_per_tracklet=frames_per_tracklet))
    return figures
