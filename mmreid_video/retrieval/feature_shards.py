# Copyright (c) mmreid_video contributors. All rights reserved.
"""Descriptor shards written by ``tools/extract_features.py``.

An output folder holds ``meta.json`` (what was extracted: config,
checkpoint, data, number of tracklets, shard size, and the ``provenance``
of the descriptors, see :mod:`mmreid_video.utils.provenance`) and one
``shard_{i:05d}.npz`` per block of ``shard_size`` consecutive tracklets,
each written atomically, with the arrays ``feats`` (n, D) float32,
``indices`` (dataset positions), ``pids``, ``camids``, ``is_query``,
``is_gallery``, ``tracklet_ids`` and ``provenance`` (its JSON text, equal
to the folder's: a shard copied in from another extraction is refused),
and, in shards written since they were added, ``pid_known`` (False for a
tracklet of unknown identity, e.g. one's own footage: its pid is a
placeholder of its own) and ``preview_frames`` (n, :data:`PREVIEW_FRAMES`)
absolute paths of evenly sampled frames of each tracklet (``''`` padding),
so that search results can be drawn without the dataset. The layout does
not depend on the number of processes, so a run can resume with another
one.
"""
import json
import logging
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from torch.utils.data import DataLoader, Dataset, Subset

from mmreid_video.fileio import atomic_write, check_regular_file
from mmreid_video.utils.arrays import as_descriptors, as_labels
from mmreid_video.utils.provenance import (ProvenanceError, as_provenance,
                                           check_provenance, encode_provenance,
                                           provenance_mismatch)
from mmreid_video.visualization.ranked_list import sample_indices

META_FILE = 'meta.json'
SUBSETS = ('all', 'query', 'gallery')
_KEYS = ('feats', 'indices', 'pids', 'camids', 'is_query', 'is_gallery',
         'tracklet_ids')
# Arrays of newer shards; read_shards fills ``pid_known`` of older ones
# (all True) and leaves out ``preview_frames`` unless every shard has it.
_OPTIONAL_KEYS = ('pid_known', 'preview_frames')
# Frames per tracklet kept for figures (a ranked list shows 4 by default).
PREVIEW_FRAMES = 8
# ``meta.json`` keys a resumed extraction must repeat (the paths it names
# are information: the provenance says what made the shards).
_RUN_KEYS = ('num_tracklets', 'shard_size')


def shard_path(folder: str, shard: int) -> str:
    """Path of shard ``shard`` in ``folder``."""
    return osp.join(folder, f'shard_{shard:05d}.npz')


def num_shards(meta: dict) -> int:
    """Number of shards described by a ``meta.json`` dict."""
    return -(-meta['num_tracklets'] // meta['shard_size'])


def shard_rows(meta: dict, shard: int) -> range:
    """Dataset positions held by one shard."""
    start = shard * meta['shard_size']
    return range(start, min(start + meta['shard_size'], meta['num_tracklets']))


def write_meta(folder: str, meta: dict) -> None:
    """Write ``meta.json``, or check that the one there matches.

    The one place that writes an extraction's description (:func:`read_meta`
    reads it). A folder is resumed only by the same extraction: the same
    ``provenance`` (checkpoint weights, model config, test pipeline, data)
    and the same number of tracklets and shard size.

    Raises:
        ProvenanceError: The folder's shards were made by another model,
            pipeline or data (or record no provenance); the message names
            each differing part and both fingerprints.
        ValueError: The folder describes another number of tracklets or
            shard size.
    """
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, META_FILE)
    if osp.exists(path):
        old = read_meta(folder)
        check_provenance(
            as_provenance(meta.get('provenance'), 'this extraction'),
            old['provenance'],
            'this extraction',
            path,
            hint=f'Resume with the checkpoint, config and data that {folder} '
            'was extracted with, or extract into another --out folder.')
        diff = [k for k in _RUN_KEYS if old.get(k) != meta[k]]
        if diff:
            raise ValueError(
                f'{path} describes another extraction ({", ".join(diff)} '
                f'differ: {[old.get(k) for k in diff]} vs '
                f'{[meta[k] for k in diff]}); use another --out folder')
        return
    atomic_write(json.dumps(meta, indent=2).encode(), path)


def read_meta(folder: str) -> dict:
    """Read and check ``meta.json`` of an extraction folder."""
    path = osp.join(folder, META_FILE)
    check_regular_file(path)
    try:
        with open(path) as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'{path} not found: is {folder} an output folder of '
            'tools/extract_features.py?') from None
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is not valid JSON: {err}') from None
    for key in ('num_tracklets', 'shard_size'):
        if not isinstance(meta.get(key), int) or meta[key] < 1:
            raise ValueError(f'{path}: `{key}` must be a positive integer, '
                             f'got {meta.get(key)!r}')
    meta['provenance'] = as_provenance(meta.get('provenance'), path)
    return meta


def read_provenance(folder: str) -> Optional[dict]:
    """The provenance of an extraction's descriptors (None when its
    ``meta.json`` was written before provenance was recorded)."""
    return read_meta(folder)['provenance']


def write_shard(path: str, arrays: Dict[str, np.ndarray],
                provenance: Optional[dict]) -> None:
    """Write one shard atomically, with the provenance of its descriptors
    (the folder's)."""
    missing = sorted(set(_KEYS) - set(arrays))
    if missing:
        raise KeyError(f'A shard needs the arrays {missing}')
    arrays = dict(arrays, provenance=np.array(encode_provenance(provenance)))
    atomic_write(lambda f: np.savez(f, **arrays), path)


def read_shard(path: str,
               rows: Optional[range] = None,
               meta: Optional[dict] = None) -> Dict[str, Any]:
    """Read one shard, checking its keys and (optionally) its rows and
    provenance.

    Args:
        path (str): The shard file.
        rows (range, optional): Dataset positions it must hold.
        meta (dict, optional): The folder's :func:`read_meta`; the shard's
            provenance must be its own.

    Returns:
        dict: Its arrays, and ``provenance`` (a dict, or None in shards
        written before provenance was recorded).

    Raises:
        ProvenanceError: The shard comes from another extraction.
    """
    check_regular_file(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except Exception as err:  # zip / npy errors of a damaged file
        raise ValueError(f'{path} is not a readable shard: {err!r}') from None
    missing = sorted(set(_KEYS) - set(arrays))
    if missing:
        raise ValueError(f'{path} lacks the arrays {missing}')
    # The rule of every entry point (utils.arrays), named by the file.
    as_descriptors(arrays['feats'], f'{path}: feats')
    num = len(arrays['feats'])
    for key in ('pids', 'camids', 'indices'):
        as_labels(arrays[key], f'{path}: {key}', num)
    for key, dtype, ndim in (('pid_known', 'b', 1), ('preview_frames', 'U',
                                                     2)):
        if key in arrays and (arrays[key].dtype.kind != dtype
                              or arrays[key].ndim != ndim
                              or len(arrays[key]) != num):
            raise ValueError(f'{path}: {key} is {arrays[key].dtype} '
                             f'{arrays[key].shape}, expected {ndim}-d '
                             f'{np.dtype(dtype).name} with {num} rows')
    if rows is not None and not np.array_equal(arrays['indices'],
                                               np.asarray(rows)):
        raise ValueError(f'{path} holds other tracklets than shard rows '
                         f'{rows.start}..{rows.stop - 1}')
    arrays['provenance'] = as_provenance(arrays.get('provenance'), path)
    if meta is not None:
        folder = osp.dirname(path) or '.'
        why = provenance_mismatch(arrays['provenance'], meta['provenance'],
                                  f'shard {path}', osp.join(folder, META_FILE))
        if why:
            raise ProvenanceError(
                f'{why}. The shard was not made by the extraction of '
                f'{folder}: remove it and run tools/extract_features.py '
                'again to compute it.')
    return arrays


def shard_arrays(model: torch.nn.Module, dataset: Dataset, rows: range,
                 loader_kwargs: dict,
                 progress: Callable[[int], None]) -> Dict[str, np.ndarray]:
    """Describe the tracklets of one shard with a model's test step.

    Args:
        model (nn.Module): A model from :func:`mmreid_video.apis.init_model`.
        dataset (Dataset): The dataset (with the test pipeline).
        rows (range): Dataset positions of the shard.
        loader_kwargs (dict): ``DataLoader`` arguments (batch size,
            workers).
        progress (Callable[[int], None]): Called with the number of
            tracklets of each batch done.

    Returns:
        dict[str, np.ndarray]: The shard's arrays (see the module
        docstring), ready for :func:`write_shard`.
    """
    loader = DataLoader(
        Subset(dataset, list(rows)),
        shuffle=False,
        collate_fn=pseudo_collate,
        **loader_kwargs)
    feats = []
    with torch.no_grad():
        for batch in loader:
            samples = model.test_step(batch)
            feats += [s.pred_feature.float().cpu() for s in samples]
            progress(len(samples))
    infos = [dataset.get_data_info(i) for i in rows]
    return dict(
        feats=torch.stack(feats).numpy(),
        indices=np.asarray(rows, np.int64),
        pids=np.array([i['pid'] for i in infos], np.int64),
        camids=np.array([i['camid'] for i in infos], np.int64),
        is_query=np.array([i.get('is_query', False) for i in infos]),
        is_gallery=np.array([i.get('is_gallery', False) for i in infos]),
        tracklet_ids=np.array([str(i['tracklet_id']) for i in infos]),
        pid_known=np.array([i.get('pid_known', True) for i in infos], bool),
        preview_frames=np.array(
            [preview_frames(i['frame_paths']) for i in infos], dtype=str))


def preview_frames(frame_paths: List[str]) -> List[str]:
    """:data:`PREVIEW_FRAMES` evenly sampled frames of a tracklet (first
    and last included), absolute, ``''`` padded."""
    keep = sample_indices(len(frame_paths), PREVIEW_FRAMES)
    paths = [osp.abspath(frame_paths[i]) for i in keep]
    return paths + [''] * (PREVIEW_FRAMES - len(paths))


def read_shards(folder: str, subset: str = 'all') -> Dict[str, np.ndarray]:
    """All shards of a finished extraction, concatenated in dataset order.

    Args:
        folder (str): The ``--out`` folder of ``tools/extract_features.py``.
        subset (str): ``'all'``, ``'query'`` or ``'gallery'`` rows.
            Defaults to 'all'.

    Returns:
        dict[str, np.ndarray]: The shard arrays (see the module docstring).
    """
    if subset not in SUBSETS:
        raise ValueError(f'subset must be one of {SUBSETS}, got {subset!r}')
    meta = read_meta(folder)
    total = num_shards(meta)
    missing = [
        i for i in range(total) if not osp.exists(shard_path(folder, i))
    ]
    if missing:
        raise FileNotFoundError(
            f'{folder}: {len(missing)} of {total} shards are missing (first '
            f'{osp.basename(shard_path(folder, missing[0]))}); run '
            'tools/extract_features.py again to finish them')
    if meta['provenance'] is None:
        print_log(
            f'{folder} records no provenance (extracted by an older '
            'mmreid_video): its descriptors are used unchecked',
            logger='current',
            level=logging.WARNING)
    parts: List[Dict[str, Any]] = []
    for i in range(total):
        path = shard_path(folder, i)
        parts.append(read_shard(path, shard_rows(meta, i), meta))
        dims = parts[0]['feats'].shape[1], parts[-1]['feats'].shape[1]
        if dims[0] != dims[1]:
            raise ValueError(
                f'{folder}: {osp.basename(path)} holds {dims[1]}-dim '
                f'descriptors, {osp.basename(shard_path(folder, 0))} '
                f'{dims[0]}-dim: one extraction has one dim; remove the '
                'foreign shard and run tools/extract_features.py again')
    for part in parts:
        part.setdefault('pid_known', np.ones(len(part['feats']), bool))
    keys = _KEYS + tuple(
        k for k in _OPTIONAL_KEYS if all(k in p for p in parts))
    out = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    if subset != 'all':
        keep = out[f'is_{subset}']
        if not keep.any():
            raise ValueError(f'{folder} has no {subset} tracklets (the '
                             'extracted data is not a query/gallery split)')
        out = {k: v[keep] for k, v in out.items()}
    return out
