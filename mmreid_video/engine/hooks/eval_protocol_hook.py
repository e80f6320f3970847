# Copyright (c) mmreid_video contributors. All rights reserved.
"""Check re-ID metrics against their test sets before the run, name each
metric's protocol in the log line and json log of every evaluation, and
give dumping metrics the provenance of their descriptors."""
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmreid_video.evaluation import VideoReIDMetric
from mmreid_video.evaluation.protocol import (check_metric_fits,
                                              describe_protocol)
from mmreid_video.registry import HOOKS
from mmreid_video.utils.provenance import descriptor_provenance

_LABEL_KEYS = ('pid', 'camid', 'is_query', 'is_gallery')


def dataset_labels(dataset) -> Optional[Dict[str, np.ndarray]]:
    """``pid``, ``camid``, ``is_query`` and ``is_gallery`` of every tracklet
    of a test dataset, or None when its data infos lack them."""
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not all(k in info for info in infos for k in _LABEL_KEYS):
        return None
    return {k: np.array([info[k] for info in infos]) for k in _LABEL_KEYS}


@HOOKS.register_module()
class EvalProtocolHook(Hook):
    """Refuse impossible evaluation settings early; say how each re-ID
    result was computed.

    - ``before_run`` (before any checkpoint is read, any weight is
      initialised or any descriptor extracted): every ``VideoReIDMetric`` of
      the built val/test loops is checked against its dataset with
      :func:`~mmreid_video.evaluation.protocol.check_metric_fits`
      (re-ranking ``k1 < Q + G``, a query with a valid match, the ranking
      device, ``out_file``); errors name the key, e.g.
      ``test_evaluator.rerank_cfg.k1``. A training's validation settings
      are thus checked before its first epoch.
    - after each val/test epoch: the metric's one-line protocol
      (:func:`~mmreid_video.evaluation.protocol.describe_protocol`) is put
      in the message hub as ``<prefix>/protocol``, so that MMEngine's
      log line and the test json log carry it next to the numbers.
    - ``before_train`` of a resumed run: a best score that the checkpoint
      recorded under another validation protocol is forgotten (with a
      warning), so that it is not compared with scores computed otherwise.
    - before each val/test epoch (the weights loaded): every
      ``VideoReIDMetric`` with an ``out_file`` is given the provenance of
      its descriptors (weights, model config, the loop's pipeline and
      data; :mod:`mmreid_video.utils.provenance`), which its dump records.
    """

    # After RuntimeInfoHook (VERY_HIGH) has stored the epoch's metrics and
    # before LoggerHook (BELOW_NORMAL) writes them.
    priority = 'NORMAL'

    def __init__(self) -> None:
        self._protocols: Dict[str, List[Tuple[str, str]]] = {}

    def before_run(self, runner) -> None:
        """Check the metrics of the loops built so far; keep their
        protocols."""
        # The Runner builds a loop just before `before_run` (val and test
        # loops in `train()`/`val()`/`test()`); reading the private
        # attributes does not build the others.
        loops = dict(val=runner._val_loop, test=runner._test_loop)
        for mode, loop in loops.items():
            if not isinstance(loop, BaseLoop):
                continue
            labels = dataset_labels(loop.dataloader.dataset)
            qig = None if labels is None else bool(
                (labels['is_query'] & labels['is_gallery']).any())
            self._protocols[mode] = []
            for key, metric in self._reid_metrics(runner, loop, mode):
                if labels is not None:
                    check_metric_fits(metric, labels, key)
                _, text = describe_protocol(metric, query_in_gallery=qig)
                self._protocols[mode].append((metric.prefix, text))

    def before_train(self, runner) -> None:
        """Forget a resumed best score of another validation protocol."""
        hub = runner.message_hub
        for prefix, text in self._protocols.get('val', ()):
            # The message hub was restored from the checkpoint by now.
            old = hub.runtime_info.get(f'val/{prefix}/protocol')
            if old is None or old == text:
                continue
            best = [k for k in hub.runtime_info if k.startswith('best_')]
            for key in best:
                hub.runtime_info.pop(key)
            runner.logger.warning(
                f'The resumed run validated with another protocol ({old}); '
                f'now: {text}. Its best score is forgotten ({best}), so the '
                'next validation sets a new best checkpoint; earlier best '
                'checkpoints are kept.')

    @staticmethod
    def _reid_metrics(runner, loop: BaseLoop,
                      mode: str) -> List[Tuple[str, VideoReIDMetric]]:
        """(config key, metric) of each re-ID metric of a loop."""
        key = f'{mode}_evaluator'
        several = isinstance(runner.cfg.get(key), (list, tuple))
        return [(f'{key}.{i}' if several else key, metric)
                for i, metric in enumerate(loop.evaluator.metrics)
                if isinstance(metric, VideoReIDMetric)]

    def before_val_epoch(self, runner) -> None:
        """Give the dumping validation metrics their provenance."""
        self._set_provenance(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        """Give the dumping test metrics their provenance."""
        self._set_provenance(runner, 'test')

    def _set_provenance(self, runner, mode: str) -> None:
        loop = getattr(runner, f'{mode}_loop')
        dumping = [
            metric for _, metric in self._reid_metrics(runner, loop, mode)
            if metric.out_file
        ]
        if not dumping:
            return
        dataset_cfg = runner.cfg[f'{mode}_dataloader']['dataset']
        provenance = descriptor_provenance(runner.model, runner.cfg,
                                           dataset_cfg.get('pipeline', []),
                                           loop.dataloader.dataset)
        for metric in dumping:
            metric.provenance = provenance

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Record the protocols of the validation metrics."""
        self._record(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        """Record the protocols of the test metrics."""
        self._record(runner, 'test')

    def _record(self, runner, mode: str) -> None:
        for prefix, text in self._protocols.get(mode, ()):
            runner.message_hub.update_info(f'{mode}/{prefix}/protocol', text)
