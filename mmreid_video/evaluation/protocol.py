# Copyright (c) mmreid_video contributors. All rights reserved.
"""How a re-ID result was computed, said once for every place that shows
or reuses one, and checked before the expensive part.

:func:`describe_protocol` turns a metric (an instance, its config dict, or
plain settings such as a search's) into a dict of settings and one line of
text: distance, AP mode, re-ranking with its k1/k2/lambda, whether queries
are gallery items too, the exclusion rule, and every other argument of the
metric's constructor that changes the numbers (picked up from the
signature, so a new argument appears without editing this module). The
metric's table and dump, the log line (:class:`EvalProtocolHook`),
``tools/multi_split.py``'s records and summary all use it, and its settings
are what a result's protocol fingerprint is computed from.

:func:`check_rerank_cfg` and :func:`check_metric_fits` refuse settings that
cannot work, at the metric's construction and before the run (before any
checkpoint is read or descriptor extracted) respectively.
"""
import inspect
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmreid_video.registry import METRICS
from mmreid_video.utils import check_output_path
from .functional import k_reciprocal_rerank

# Constructor arguments that say where results go or where they are
# computed, not what they are.
NOT_PROTOCOL = ('out_file', 'device', 'collect_device', 'collect_dir',
                'prefix')
# Gallery items removed from each query's ranking (functional/rank.py).
EXCLUSION_RULE = 'same pid and camera as the query'
UNIT = '%'
RERANK_KEYS = ('k1', 'k2', 'lambda_value')
# k_reciprocal_rerank's own defaults, so that they are stated, not implied.
RERANK_DEFAULTS = {
    name: param.default
    for name, param in inspect.signature(
        k_reciprocal_rerank).parameters.items() if name in RERANK_KEYS
}


def _rerank_text(rerank: Union[bool, dict]) -> str:
    if not rerank:
        return 'no re-ranking'
    return 're-ranking k1={k1} k2={k2} lambda={lambda_value}'.format(**rerank)


# Settings shown in this order and wording; others as ``key=value``.
_TEXT = dict(
    distance='{} distance'.format,
    ap_mode='{} AP'.format,
    rerank=_rerank_text,
    query_in_gallery='query_in_gallery={}'.format,
    exclusion='excluded: {}'.format,
    max_rank='CMC to rank {}'.format,
    no_positive=lambda mode:
    ('queries without a valid match skipped'
     if mode == 'skip' else 'queries without a valid match count AP 0'),
    unit='values in {}'.format)
_NOT_IN_TEXT = ('metric', )

MetricLike = Union[BaseMetric, Mapping]


def _constructor_settings(metric: MetricLike) -> Dict[str, Any]:
    """A metric's constructor arguments but :data:`NOT_PROTOCOL`, read from
    the instance (attributes of the same name) or its config dict (missing
    keys take the constructor's defaults)."""
    if isinstance(metric, Mapping):
        cls = metric['type']
        if isinstance(cls, str):
            cls = METRICS.get(cls)
            if cls is None:
                raise KeyError(f'metric type {metric["type"]!r} is not '
                               'registered in mmreid_video.registry.METRICS')

        def value(name: str, default: Any) -> Any:
            return metric.get(name, default)
    else:
        cls = type(metric)

        def value(name: str, default: Any) -> Any:
            return getattr(metric, name, default)

    settings = {'metric': cls.__name__}
    for param in _init_params(cls):
        if param.name not in NOT_PROTOCOL and param.name not in settings:
            default = None if param.default is param.empty else param.default
            settings[param.name] = value(param.name, default)
    return settings


def _init_params(cls: type) -> List[inspect.Parameter]:
    """The named constructor parameters of ``cls``, following ``**kwargs``
    up to the base classes that receive them."""
    params = []
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        own = list(inspect.signature(klass.__init__).parameters.values())[1:]
        params += [
            p for p in own if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if not any(p.kind == p.VAR_KEYWORD for p in own):
            break
    return params


def describe_protocol(metric: MetricLike,
                      **facts: Any) -> Tuple[Dict[str, Any], str]:
    """The evaluation protocol of a metric, as settings and one line.

    Args:
        metric (BaseMetric | Mapping): A metric (e.g. ``VideoReIDMetric``),
            its config dict (with ``type``), or plain settings without
            ``type`` (e.g. those of a search: ``distance``, ``exclusion``,
            ...), taken as they are.
        **facts: What the metric itself does not know, e.g.
            ``query_in_gallery=True`` (from the test set); None values are
            left out. They override the metric's settings.

    Returns:
        tuple[dict, str]: JSON-able settings (``rerank`` is False or the
        full ``{k1, k2, lambda_value}``, defaults filled in) and a one-line
        description, e.g. ``'cosine distance, standard AP, no re-ranking,
        query_in_gallery=True, excluded: same pid and camera as the query,
        CMC to rank 20, queries without a valid match skipped, values in
        %'``.

    Examples:
        >>> _, text = describe_protocol(dict(type='VideoReIDMetric',
        ...                                  rerank=True))
        >>> text.split(', ')[2]
        're-ranking k1=20 k2=6 lambda=0.3'
    """
    if isinstance(metric, Mapping) and 'type' not in metric:
        settings = dict(metric)
    else:
        settings = _constructor_settings(metric)
        settings.update(exclusion=EXCLUSION_RULE, unit=UNIT)
    settings.update({k: v for k, v in facts.items() if v is not None})
    if 'rerank' in settings:
        rerank_cfg = settings.pop('rerank_cfg', None) or {}
        full = dict(RERANK_DEFAULTS, **rerank_cfg)
        settings['rerank'] = full if settings['rerank'] else False
    ordered = {k: settings[k] for k in ('metric', *_TEXT) if k in settings}
    ordered.update(settings)
    shown = [(k, v) for k, v in ordered.items() if k not in _NOT_IN_TEXT]
    known = [_TEXT[k](v) for k, v in shown if k in _TEXT and k != 'unit']
    others = [f'{k}={v}' for k, v in shown if k not in _TEXT]
    unit = [_TEXT['unit'](ordered['unit'])] if 'unit' in ordered else []
    return ordered, ', '.join(known + others + unit)


def check_rerank_cfg(rerank_cfg: Optional[Mapping]) -> None:
    """Refuse re-ranking arguments that no test set can take.

    Args:
        rerank_cfg (Mapping, optional): ``k1``, ``k2``, ``lambda_value``
            (missing ones take :data:`RERANK_DEFAULTS`).

    Raises:
        ValueError: An unknown key, a non-integer k, not ``1 <= k2 <= k1``,
            or ``lambda_value`` outside [0, 1].
    """
    rerank_cfg = dict(rerank_cfg or {})
    unknown = set(rerank_cfg) - set(RERANK_KEYS)
    if unknown:
        raise ValueError(f'Unknown `rerank_cfg` keys {sorted(unknown)}, '
                         "expected 'k1', 'k2', 'lambda_value'")
    cfg = dict(RERANK_DEFAULTS, **rerank_cfg)
    for key in ('k1', 'k2'):
        if isinstance(cfg[key], bool) or not isinstance(cfg[key], int):
            raise ValueError(f'`rerank_cfg.{key}` must be an integer, got '
                             f'{cfg[key]!r}')
    if not 1 <= cfg['k2'] <= cfg['k1']:
        raise ValueError('Re-ranking needs 1 <= rerank_cfg.k2 <= '
                         f'rerank_cfg.k1, got k1={cfg["k1"]}, k2={cfg["k2"]}')
    lam = cfg['lambda_value']
    is_number = isinstance(lam, (int, float)) and not isinstance(lam, bool)
    if not is_number or not 0 <= lam <= 1:
        raise ValueError('`rerank_cfg.lambda_value` must be a number in '
                         f'[0, 1], got {lam!r}')


def _valid_queries(pids: np.ndarray, camids: np.ndarray, is_query: np.ndarray,
                   is_gallery: np.ndarray) -> int:
    """How many queries have a gallery item of their pid that the
    exclusion rule keeps (same pid, another camera)."""
    by_pid = Counter(pids[is_gallery].tolist())
    by_pid_cam = Counter(
        zip(pids[is_gallery].tolist(), camids[is_gallery].tolist()))
    return sum(
        by_pid[p] > by_pid_cam[(p, c)]
        for p, c in zip(pids[is_query].tolist(), camids[is_query].tolist()))


def check_metric_fits(metric: BaseMetric, labels: Mapping[str, Sequence],
                      key: str) -> None:
    """Refuse, before any descriptor is extracted, metric settings that
    cannot work on this test set or machine.

    Checked: the ranking ``device`` exists, ``out_file`` can be written,
    re-ranking's ``k1 < Q + G``, and at least one query has a match that
    the exclusion rule keeps.

    Args:
        metric (BaseMetric): A ``VideoReIDMetric`` (or a metric with the
            same attributes).
        labels (Mapping[str, Sequence]): ``pid``, ``camid``, ``is_query``
            and ``is_gallery`` of every test tracklet.
        key (str): The metric's config key, e.g. ``'test_evaluator'``.

    Raises:
        ValueError: A setting does not fit; the message names its key.
        RuntimeError: ``device`` names a device this machine lacks.
    """
    device = getattr(metric, 'device', None)
    if device is not None:
        try:
            dev = torch.device(device)
        except RuntimeError as err:
            raise ValueError(f'{key}.device={device!r} is not a device name '
                             f'({err})') from None
        num_gpus = torch.cuda.device_count()
        if dev.type == 'cuda' and (dev.index or 0) >= num_gpus:
            raise RuntimeError(f'{key}.device={device!r} but this machine '
                               f'has {num_gpus} CUDA device(s); set it to '
                               'None (rank where the descriptors are) or '
                               "'cpu'")
    out_file = getattr(metric, 'out_file', None)
    if out_file is not None:
        check_output_path(out_file, f'{key}.out_file', ('.pkl', '.npz'))
    pids, camids = np.asarray(labels['pid']), np.asarray(labels['camid'])
    is_query = np.asarray(labels['is_query'], dtype=bool)
    is_gallery = np.asarray(labels['is_gallery'], dtype=bool)
    num = int(is_query.sum() + is_gallery.sum())
    if not is_query.any() or not is_gallery.any():
        # A custom test set may list queries alone: tracklets to search.
        raise ValueError(
            f'The test set has {int(is_query.sum())} queries and '
            f'{int(is_gallery.sum())} gallery tracklets; {key} needs both. '
            'To search a query set against a gallery, use '
            'tools/extract_features.py, tools/build_index.py and '
            'tools/search.py (docs/retrieval.md).')
    if getattr(metric, 'rerank', False):
        cfg = dict(RERANK_DEFAULTS, **(metric.rerank_cfg or {}))
        if cfg['k1'] >= num:
            raise ValueError(
                f'{key}.rerank_cfg.k1={cfg["k1"]} does not fit the test set: '
                f're-ranking needs k1 < Q + G = {int(is_query.sum())} + '
                f'{int(is_gallery.sum())} = {num} (and 1 <= k2 <= k1, k2 '
                f'now {cfg["k2"]}). Set {key}.rerank_cfg.k1 (and k2) lower, '
                'or turn re-ranking off.')
    if is_query.any() and not _valid_queries(pids, camids, is_query,
                                             is_gallery):
        raise ValueError(
            f'None of the {int(is_query.sum())} queries has a gallery '
            'tracklet of its pid from another camera, so nothing can be '
            f'evaluated ({key} excludes {EXCLUSION_RULE}). Check the '
            'cameras (camid) and the query/gallery lists of the test '
            'dataset.')
