# Copyright (c) mmreid_video contributors. All rights reserved.
"""Ranked-list figures from the results of ``tools/search.py --out``.

The results file
(:func:`~mmreid_video.retrieval.search_results.read_search_results`) holds
one record per query with its ranked gallery items; each carries its
tracklet id, pid and camid (None when unknown) and ``frames``, evenly
sampled frame paths stored by ``tools/extract_features.py``, so no dataset
or config is needed. A gallery item is framed green or red when both its
identity and the query's are known, grey otherwise.
"""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from .ranked_list import (TrackletPanel, draw_ranked_list, gallery_panel,
                          load_frames, query_panel, sample_indices)


def _frames(item: dict, num: int, what: str, path: str) -> List[np.ndarray]:
    """``num`` evenly sampled frames of a record's stored frame paths."""
    paths = item.get('frames')
    if not paths:
        raise ValueError(
            f'{path}: {what} {item.get("tracklet_id") or item.get("row")} '
            'has no frame paths: search with --gallery-features (the '
            'extraction the index was built from), on features extracted by '
            'tools/extract_features.py since it stores preview frames')
    return load_frames([paths[i] for i in sample_indices(len(paths), num)])


def _name(tracklet_id: Optional[str]) -> Optional[str]:
    """The last part of a tracklet id (a cell is narrow)."""
    return None if tracklet_id is None else osp.basename(tracklet_id)


def search_rows(results: dict,
                queries: Sequence[int],
                topk: int = 5,
                frames_per_tracklet: int = 4,
                path: str = 'the results') -> List[tuple]:
    """Build the rows of a ranked-list figure from search results.

    Args:
        results (dict): From
            :func:`~mmreid_video.retrieval.search_results.read_search_results`.
        queries (Sequence[int]): Positions in ``results['queries']``.
        topk (int): Gallery items per row; at most the search's ``topk``.
            Defaults to 5.
        frames_per_tracklet (int): Frames read per cell. Defaults to 4.
        path (str): The results file, for messages.

    Returns:
        list[tuple]: ``(query_panel, gallery_panels)`` rows.
    """
    if not 1 <= topk <= results['topk']:
        raise ValueError(f'topk must be in [1, {results["topk"]}] (the '
                         f'search kept top-{results["topk"]} lists), got '
                         f'{topk}')
    rows = []
    for q in queries:
        record = results['queries'][q]
        panels: List[TrackletPanel] = []
        for item in record['results'][:topk]:
            known = record['pid'] is not None and item['pid'] is not None
            panels.append(
                gallery_panel(
                    _frames(item, frames_per_tracklet, 'gallery item', path),
                    item['rank'],
                    item['distance'],
                    camid=item['camid'],
                    pid=item['pid'],
                    match=item['pid'] == record['pid'] if known else None,
                    name=_name(item['tracklet_id'])))
        rows.append((query_panel(
            _frames(record, frames_per_tracklet, 'query', path),
            camid=record['camid'],
            pid=record['pid'],
            name=_name(record['tracklet_id'])), panels))
    return rows


def draw_search_figures(results: dict,
                        queries: Sequence[int],
                        topk: int = 5,
                        per_figure: int = 8,
                        frames_per_tracklet: int = 4,
                        path: str = 'the results') -> List[np.ndarray]:
    """Draw the chosen queries of search results, ``per_figure`` rows per
    image.

    Args:
        results (dict): The search results.
        queries (Sequence[int]): Positions in ``results['queries']``.
        topk (int): Gallery columns. Defaults to 5.
        per_figure (int): Rows per image. Defaults to 8.
        frames_per_tracklet (int): Frames per cell. Defaults to 4.
        path (str): The results file, for messages.

    Returns:
        list[np.ndarray]: RGB uint8 figures.
    """
    if per_figure < 1:
        raise ValueError(f'per_figure must be >= 1, got {per_figure}')
    return [
        draw_ranked_list(
            search_rows(results, queries[start:start + per_figure], topk,
                        frames_per_tracklet, path),
            num_gallery=topk,
            frames_per_tracklet=frames_per_tracklet)
        for start in range(0, len(queries), per_figure)
    ]
