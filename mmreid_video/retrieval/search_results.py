# Copyright (c) mmreid_video contributors. All rights reserved.
"""What ``tools/search.py`` reports: the protocol of a search, one record
per query, the terminal table, and the results file read back (figures).

A results file (JSON) holds ``protocol`` (settings) and ``protocol_text``
(:func:`~mmreid_video.evaluation.protocol.describe_protocol`), where the
queries and the gallery came from (``index``, ``query_features``,
``query_subset``, ``gallery_features``, ``gallery_subset``), ``topk``,
``queries`` (one record per query, see :func:`query_records`) and, when
asked for, ``metrics`` (in %).
"""
import json
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmreid_video.evaluation.protocol import EXCLUSION_RULE, describe_protocol
from .feature_shards import read_shards

# --rule of tools/search.py -> what each query's list leaves out.
EXCLUSION = dict(
    reid=EXCLUSION_RULE, camera='same camera as the query', none='nothing')
Arrays = Dict[str, np.ndarray]


def rule_labels(rule: str, query: Arrays,
                where: str) -> Tuple[Optional[np.ndarray], ...]:
    """The query labels that make ``GalleryIndex.search`` apply a rule.

    Args:
        rule (str): A key of :data:`EXCLUSION`.
        query (dict): Query arrays of
            :func:`~mmreid_video.retrieval.feature_shards.read_shards`.
        where (str): Where the queries come from, for the message.

    Returns:
        tuple: ``(query_pids, query_camids)``, None where not used.

    Raises:
        ValueError: The re-ID rule for queries of unknown identity.
    """
    if rule not in EXCLUSION:
        raise ValueError(f'rule must be one of {tuple(EXCLUSION)}, got '
                         f'{rule!r}')
    if rule == 'reid':
        unknown = np.flatnonzero(~query['pid_known'])
        if len(unknown):
            raise ValueError(
                f'--rule reid leaves out gallery items of the query\'s pid '
                f'and camera, but {len(unknown)} of the {len(query["feats"])}'
                f' queries of {where} (e.g. '
                f'{str(query["tracklet_ids"][unknown[0]])!r}) have no pid '
                '(identity unknown); search them with --rule camera (leave '
                'out the query\'s camera) or --rule none')
        return query['pids'], query['camids']
    return (None, query['camids']) if rule == 'camera' else (None, None)


def search_protocol(index,
                    rule: str,
                    topk: int,
                    query: Arrays,
                    metrics: bool = False) -> Tuple[dict, str]:
    """The protocol of a search, as settings and one line.

    Args:
        index (GalleryIndex): The searched index.
        rule (str): The exclusion rule (a key of :data:`EXCLUSION`).
        topk (int): List length.
        query (dict): The query arrays (their cameras: an unknown camera,
            a negative camid, excludes nothing).
        metrics (bool): Whether R-n / mAP@k are reported. Defaults to
            False.

    Returns:
        tuple[dict, str]: See
        :func:`~mmreid_video.evaluation.protocol.describe_protocol`.
    """
    exclusion = EXCLUSION[rule]
    unknown_cams = int((query['camids'] < 0).sum())
    if rule != 'none' and unknown_cams:
        exclusion += (f' (nothing for {unknown_cams} '
                      f'quer{"y" if unknown_cams == 1 else "ies"} of '
                      'unknown camera)')
    settings = dict(
        distance='cosine',
        exclusion=exclusion,
        index_mode=index.mode,
        index_backend=index.backend.name,
        topk=topk)
    if metrics:
        settings.update(
            metrics=f'R1/R5/R10 and mAP@{topk} of the top-{topk} lists '
            'under the re-ID rule (AP@k over min(positives, k))',
            unit='%')
    return describe_protocol(settings)


def read_gallery(folder: str, subset: str, ntotal: int) -> Arrays:
    """The gallery arrays an index was built from, checked against it.

    Args:
        folder (str): The extraction folder.
        subset (str): The subset the index holds.
        ntotal (int): The index's number of items.
    """
    gallery = read_shards(folder, subset)
    if len(gallery['feats']) != ntotal:
        raise ValueError(f'{folder} has {len(gallery["feats"])} {subset} '
                         f'tracklets, the index {ntotal}: not the '
                         'extraction the index was built from')
    return gallery


def _item(arrays: Optional[Arrays], row: int, pids: Optional[np.ndarray],
          camids: Optional[np.ndarray]) -> dict:
    """Who a row is: tracklet id, pid (None: unknown), camid (None:
    unknown) and preview frames (None: not stored)."""
    if arrays is None:  # the index alone: its labels
        pid = None if pids is None else int(pids[row])
        camid = None if camids is None else int(camids[row])
        return dict(
            tracklet_id=None,
            pid=pid,
            camid=None if camid is None or camid < 0 else camid,
            frames=None)
    frames = arrays.get('preview_frames')
    camid = int(arrays['camids'][row])
    return dict(
        tracklet_id=str(arrays['tracklet_ids'][row]),
        pid=int(arrays['pids'][row]) if arrays['pid_known'][row] else None,
        camid=camid if camid >= 0 else None,
        frames=None if frames is None else [f for f in frames[row] if f])


def query_records(query: Arrays,
                  indices: np.ndarray,
                  dists: np.ndarray,
                  index,
                  gallery: Optional[Arrays] = None) -> List[dict]:
    """One record per query: who it is and its ranked gallery items.

    Args:
        query (dict): The query arrays.
        indices (np.ndarray): (Q, k) gallery rows, -1 padding.
        dists (np.ndarray): (Q, k) distances.
        index (GalleryIndex): The searched index (its labels name the
            gallery items without ``gallery``).
        gallery (dict, optional): The arrays the index was built from
            (names, identities, frames).

    Returns:
        list[dict]: ``tracklet_id``, ``pid``, ``camid``, ``frames`` and
        ``results``: per rank ``rank``, ``row`` (of the index),
        ``distance`` and the same fields of the gallery item; ``pid`` /
        ``camid`` None when unknown, ``frames`` None when not stored.
    """
    pids, camids = index.pids, index.camids
    places = index.positions(indices)  # of rows in the label arrays
    records = []
    for q, (rows, row_dists) in enumerate(zip(indices, dists)):
        results = [
            dict(
                rank=rank,
                row=int(row),
                distance=float(dist),
                **_item(gallery, int(place), pids, camids))
            for rank, (row, place,
                       dist) in enumerate(zip(rows, places[q], row_dists), 1)
            if row >= 0
        ]
        records.append(dict(_item(query, q, None, None), results=results))
    return records


def percent_metrics(metrics: Dict[str, float]) -> Dict[str, float]:
    """``topk_metrics`` fractions in %, counts as they are."""
    return {
        k: v if k.startswith('num_') else round(100.0 * v, 4)
        for k, v in metrics.items()
    }


def _cell(value) -> str:
    return '?' if value is None else str(value)


def results_table(records: Sequence[dict], show: int) -> str:
    """The terminal table of a search: a row per gallery item, the query
    named on its first row.

    Args:
        records (Sequence[dict]): From :func:`query_records`.
        show (int): Queries shown (the first ones).

    Returns:
        str: The table, columns aligned.
    """
    head = ('query', 'pid', 'camid', 'rank', 'distance', 'gallery item', 'pid',
            'camid')
    rows = [head]
    for record in records[:show]:
        query = (record['tracklet_id'], _cell(record['pid']),
                 _cell(record['camid']))
        if not record['results']:
            rows.append(query + ('-', '-', '(no gallery item left)', '', ''))
        for item in record['results']:
            name = item['tracklet_id'] or f'row {item["row"]}'
            rows.append(query +
                        (str(item['rank']), f'{item["distance"]:.4f}', name,
                         _cell(item['pid']), _cell(item['camid'])))
            query = ('', '', '')
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in rows)


def read_search_results(path: str) -> dict:
    """Read a results file of ``tools/search.py --out``, checked.

    Args:
        path (str): The JSON file.

    Returns:
        dict: Its content (see the module docstring).
    """
    try:
        with open(path) as f:
            results = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is not valid JSON: {err}') from None
    need = ('protocol_text', 'topk', 'queries')
    if not isinstance(results, dict) or any(k not in results for k in need):
        raise ValueError(f'{path} is not a results file of tools/search.py '
                         f'--out (it needs the keys {list(need)})')
    for i, record in enumerate(results['queries']):
        if not isinstance(record, dict) or not isinstance(
                record.get('results'), list):
            raise ValueError(f'{path}: queries[{i}] has no "results" list')
    return results
