# Copyright (c) mmreid_video contributors. All rights reserved.
"""Provenance: what made a descriptor, fingerprinted part by part, and the
check where two artefacts meet.

A provenance is a plain dict (stored as JSON in extraction ``meta.json``,
every feature shard, index files and metric dumps) of one fingerprint
(:mod:`mmreid_video.utils.fingerprint`) per part, so that an error can say
*which* part differs:

- ``weights``: every entry of the model's ``state_dict`` (names, dtypes,
  shapes and values) once the checkpoint is loaded. Not the checkpoint
  file: the same weights re-saved with other meta data, an optimizer state
  or under another path keep their fingerprint, and a model that loaded only
  part of a checkpoint (``allow_partial_load``) is told apart.
- ``config``: the model config (``model`` and ``data_preprocessor``).
- ``pipeline``: the test pipeline config.
- ``data``: the tracklets of the split (ids, pids, camids, query/gallery
  roles, frame paths relative to the data root) and the split's name. The
  root itself is left out, so a dataset moved or mounted elsewhere keeps its
  fingerprint; frame contents are not read (a tree regenerated under the
  same names is not told apart).

Descriptors compare when their ``weights``, ``config`` and ``pipeline``
agree (:data:`DESCRIPTOR_PARTS`; queries may come from other data than the
gallery); an extraction resumes and a dump matches a dataset only when all
parts agree. An artefact written before provenance was recorded (or an
index built in Python from bare arrays) has none: it meets only another
such artefact (with a warning), never one that records a provenance.
"""
import hashlib
import json
import logging
import os
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from .fingerprint import FINGERPRINT_HEX, fingerprint

PROVENANCE_VERSION = 1
PARTS = ('weights', 'config', 'pipeline', 'data')
# The parts that make descriptors comparable.
DESCRIPTOR_PARTS = ('weights', 'config', 'pipeline')
_WHAT = dict(
    weights='model weights',
    config='model config',
    pipeline='test pipeline',
    data='data')
# Data-info keys of a tracklet that enter the data fingerprint.
_TRACKLET_KEYS = ('tracklet_id', 'pid', 'camid', 'is_query', 'is_gallery')


class ProvenanceError(ValueError):
    """Artefacts of different provenance met (or one records none)."""


def weights_fingerprint(weights: Any) -> str:
    """The fingerprint of a model's weights.

    Args:
        weights (nn.Module | Mapping[str, Tensor]): A model (a DDP wrapper
            is unwrapped) or a ``state_dict``.

    Returns:
        str: The fingerprint of every entry: name, dtype, shape and bytes.
    """
    if is_model_wrapper(weights):
        weights = weights.module
    if isinstance(weights, torch.nn.Module):
        weights = weights.state_dict()
    digest = hashlib.sha256()
    for name in sorted(weights):
        value = weights[name]
        if not isinstance(value, torch.Tensor):  # e.g. a module's extra state
            digest.update(f'{name}|{fingerprint(value)}\n'.encode())
            continue
        tensor = value.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{list(tensor.shape)}\n'.encode())
        if tensor.numel():
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:FINGERPRINT_HEX]


def config_fingerprint(cfg: Mapping) -> str:
    """The fingerprint of a config's model (``model`` and a top-level
    ``data_preprocessor``, which the Runner merges into it)."""
    return fingerprint(
        dict(
            model=cfg['model'],
            data_preprocessor=cfg.get('data_preprocessor')))


def pipeline_fingerprint(pipeline: Sequence) -> str:
    """The fingerprint of a pipeline config (a list of transform dicts)."""
    return fingerprint(list(pipeline))


def data_fingerprint(dataset) -> str:
    """The fingerprint of a dataset's tracklets (see the module docstring).

    Args:
        dataset: A dataset with ``get_data_info(i)`` (``frame_paths``,
            ``tracklet_id``, ``pid``, ``camid``, and ``is_query`` /
            ``is_gallery`` in a test split).

    Returns:
        str: The fingerprint.
    """
    root = str(getattr(dataset, 'data_root', '') or '')
    prefix = root.rstrip(os.sep) + os.sep if root else ''
    split = getattr(dataset, 'metainfo', {}).get('split')
    digest = hashlib.sha256(json.dumps(split).encode())
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        paths = [
            p[len(prefix):] if prefix and p.startswith(prefix) else p
            for p in map(str, info.get('frame_paths', ()))
        ]
        row = [_plain_scalar(info.get(k)) for k in _TRACKLET_KEYS] + paths
        digest.update(json.dumps(row).encode() + b'\n')
    return digest.hexdigest()[:FINGERPRINT_HEX]


def _plain_scalar(value: Any) -> Any:
    return value.item() if hasattr(value, 'item') else value


def make_provenance(weights: str, config: str, pipeline: str,
                    data: str) -> dict:
    """A provenance dict of its parts' fingerprints."""
    return dict(
        version=PROVENANCE_VERSION,
        weights=weights,
        config=config,
        pipeline=pipeline,
        data=data)


def descriptor_provenance(model: torch.nn.Module, cfg: Mapping,
                          pipeline: Sequence, dataset) -> dict:
    """The provenance of descriptors a model computes on a dataset.

    Args:
        model (nn.Module): The model, its checkpoint loaded.
        cfg (Mapping): The config it was built from.
        pipeline (Sequence[dict]): The pipeline config of ``dataset``.
        dataset: The dataset described (see :func:`data_fingerprint`).

    Returns:
        dict: ``version`` and the fingerprints of :data:`PARTS`.
    """
    return make_provenance(
        weights_fingerprint(model), config_fingerprint(cfg),
        pipeline_fingerprint(pipeline), data_fingerprint(dataset))


def provenance_id(provenance: Optional[Mapping]) -> str:
    """One short fingerprint of a whole provenance ('none' without)."""
    return 'none' if provenance is None else fingerprint(dict(provenance))


def describe_provenance(provenance: Optional[Mapping]) -> str:
    """One line naming every part, e.g. ``'3f2a... (weights=..., config=...,
    pipeline=..., data=...)'``."""
    if provenance is None:
        return 'no provenance recorded'
    parts = ', '.join(f'{p}={provenance.get(p)}' for p in PARTS)
    return f'{provenance_id(provenance)} ({parts})'


def encode_provenance(provenance: Optional[Mapping]) -> str:
    """The JSON text stored in files that hold no dicts (``.npz``)."""
    return json.dumps(None if provenance is None else dict(provenance))


def as_provenance(value: Any, where: str) -> Optional[dict]:
    """A stored provenance (a dict, its JSON text, or that text in a 0-d
    array; None or missing when not recorded), checked.

    Args:
        value (Any): What was stored.
        where (str): The file or key it was read from, for the error.

    Returns:
        dict | None: The provenance.

    Raises:
        ValueError: Not a provenance; the message names ``where``.
    """
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f'{where}: the provenance is not valid JSON '
                             f'({err})') from None
    if value is None:
        return None
    if not isinstance(value, Mapping) or any(not isinstance(value.get(p), str)
                                             for p in PARTS):
        raise ValueError(f'{where}: the provenance must map {list(PARTS)} '
                         f'to fingerprints, got {value!r}')
    return dict(value)


def provenance_mismatch(found: Optional[Mapping],
                        expected: Optional[Mapping],
                        found_name: str,
                        expected_name: str,
                        parts: Sequence[str] = PARTS) -> Optional[str]:
    """Why two provenances do not match, or None when they do.

    Two missing provenances match (nothing can be checked); a missing one
    never matches a recorded one.

    Args:
        found (Mapping, optional): The provenance of what is checked.
        expected (Mapping, optional): The one it must match.
        found_name (str): What ``found`` belongs to, e.g. a folder.
        expected_name (str): What ``expected`` belongs to.
        parts (Sequence[str]): The parts compared. Defaults to
            :data:`PARTS`.

    Returns:
        str | None: A message naming each differing part and both
        fingerprints.
    """
    if found is None and expected is None:
        return None
    if found is None or expected is None:
        none, other, prov = ((found_name, expected_name,
                              expected) if found is None else
                             (expected_name, found_name, found))
        return (f'{none} records no provenance (written by an older '
                'mmreid_video, or built from bare arrays), so it cannot be '
                f'checked against {other} ({describe_provenance(prov)})')
    if found.get('version') != expected.get('version'):
        return (f'{found_name} records provenance rule '
                f'{found.get("version")}, {expected_name} rule '
                f'{expected.get("version")}: re-create the older one')
    differ = [p for p in parts if found[p] != expected[p]]
    if not differ:
        return None
    what = ', '.join(f'{_WHAT[p]} ({p} {found[p]} vs {expected[p]})'
                     for p in differ)
    return (f'{found_name} and {expected_name} differ in {what}. '
            f'{found_name}: {describe_provenance(found)}; {expected_name}: '
            f'{describe_provenance(expected)}')


def check_provenance(found: Optional[Mapping],
                     expected: Optional[Mapping],
                     found_name: str,
                     expected_name: str,
                     parts: Sequence[str] = PARTS,
                     hint: str = '') -> None:
    """Raise :class:`ProvenanceError` when :func:`provenance_mismatch`
    finds a difference; warn when neither records a provenance.

    Args:
        found, expected, found_name, expected_name, parts: See
            :func:`provenance_mismatch`.
        hint (str): What the user can do, appended to the message.
    """
    if found is None and expected is None:
        print_log(
            f'Neither {found_name} nor {expected_name} records its '
            'provenance (written by an older mmreid_video): they are used '
            'together unchecked',
            logger='current',
            level=logging.WARNING)
        return
    why = provenance_mismatch(found, expected, found_name, expected_name,
                              parts)
    if why:
        raise ProvenanceError(f'{why}. {hint}'.rstrip())


def merged_provenance(
        provenances: Iterable[Optional[Mapping]]) -> Optional[dict]:
    """The provenance of descriptors joined from several artefacts of one
    model (their descriptor parts agree): their data part is that of the
    parts' data, in order, unless all are one.

    Returns:
        dict | None: None when none records a provenance.
    """
    provenances = list(provenances)
    if not provenances or provenances[0] is None:
        return None
    data = [p['data'] for p in provenances]
    merged = dict(provenances[0])
    merged['data'] = data[0] if len(set(data)) == 1 else fingerprint(data)
    return merged
