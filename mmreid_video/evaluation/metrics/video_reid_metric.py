# Copyright (c) mmreid_video contributors. All rights reserved.
"""Query-gallery retrieval metric for (video) person re-identification."""
from typing import BinaryIO, Dict, List, Optional, Sequence, Union

import mmengine
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmreid_video.fileio import atomic_write
from mmreid_video.registry import METRICS
from mmreid_video.utils.arrays import as_descriptors, as_labels
from mmreid_video.utils.provenance import encode_provenance
from ..functional import (compute_distance, evaluate_rank,
                          evaluate_rank_by_features, k_reciprocal_rerank,
                          rank_gallery)
from ..functional.distance import DISTANCE_METRICS
from ..functional.rank import AP_MODES, NO_POSITIVE_MODES
from ..protocol import check_rerank_cfg, describe_protocol

_REQUIRED_KEYS = ('pred_feature', 'pid', 'camid', 'is_query', 'is_gallery',
                  'sample_idx')
_CMC_RANKS = (1, 5, 10, 20)
# Fields of the ``out_file`` dump, in dataset order of the test split (N
# tracklets, Q queries, k = max_rank); visualization/ranked_results.py
# reads them. ``camera_names`` are the dataset's display labels by camid;
# ``protocol`` says in one line how the ranking was computed;
# ``provenance`` what made the descriptors (mmreid_video.utils.provenance;
# JSON text in .npz dumps, None when the metric was not told).
DUMP_KEYS = ('features', 'pids', 'camids', 'sample_idx', 'query_indices',
             'gallery_indices', 'ranked_gallery', 'ranked_distances',
             'query_ap', 'camera_names', 'protocol', 'provenance')


def _check_out_file(out_file: Optional[str]) -> None:
    if out_file is not None and not out_file.endswith(('.pkl', '.npz')):
        raise ValueError(f'`out_file` must end with .pkl or .npz, got '
                         f'{out_file!r}')


@METRICS.register_module()
class VideoReIDMetric(BaseMetric):
    """mAP, CMC (R1/R5/R10/R20) and mINP of a query-gallery protocol.

    Each data sample carries a descriptor ``pred_feature`` and the metainfo
    ``pid``, ``camid``, ``is_query``, ``is_gallery`` and ``sample_idx``; a
    sample may be both a query and a gallery item (MARS). Results gathered
    from all ranks are put in dataset order by ``sample_idx`` and the
    duplicates a distributed sampler pads with are dropped. Values are
    reported in percent, as papers print them.

    Args:
        distance (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        ap_mode (str): ``'standard'`` (non-interpolated AP) or
            ``'trapezoid'`` (official MARS MATLAB code). Defaults to
            ``'standard'``.
        rerank (bool): Apply k-reciprocal re-ranking. Defaults to False.
        rerank_cfg (dict, optional): ``k1``, ``k2`` and ``lambda_value`` of
            the re-ranking. Defaults to None (20, 6, 0.3).
        max_rank (int): Length of the CMC curve; R-k for k in (1, 5, 10, 20)
            up to ``max_rank`` are reported. Defaults to 20.
        out_file (str, optional): Dump features, labels, query/gallery
            indices, the ranked top-``max_rank`` gallery lists, the
            dataset's ``camera_names``, the ``protocol`` and the
            ``provenance`` of the descriptors (set by ``EvalProtocolHook``)
            (:data:`DUMP_KEYS`) to this ``.pkl`` or ``.npz`` file, written
            after the metrics are logged, through a temporary file renamed
            into place. Defaults to None.
        device (str, optional): Where distances and ranking run, e.g.
            ``'cuda'``. Defaults to None: the device the model's
            descriptors came on (CPU descriptors take the CPU path).
        no_positive (str): A query without a valid match (same pid, other
            camera) is left out of the means (``'skip'``), or counts as AP
            0, INP 0 and a miss at every rank (``'zero'``, as the LS-VID
            MATLAB kit). The log reports how many there are. Defaults to
            ``'skip'``.
        collect_device (str): Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None, i.e. ``'reid'``.

    Examples:
        >>> val_evaluator = dict(type='VideoReIDMetric', distance='cosine')
    """
    default_prefix = 'reid'

    def __init__(self,
                 distance: str = 'cosine',
                 ap_mode: str = 'standard',
                 rerank: bool = False,
                 rerank_cfg: Optional[dict] = None,
                 max_rank: int = 20,
                 out_file: Optional[str] = None,
                 device: Optional[str] = None,
                 no_positive: str = 'skip',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if distance not in DISTANCE_METRICS:
            raise ValueError(f'`distance` must be one of {DISTANCE_METRICS}, '
                             f'got {distance!r}')
        if ap_mode not in AP_MODES:
            raise ValueError(f'`ap_mode` must be one of {AP_MODES}, got '
                             f'{ap_mode!r}')
        if no_positive not in NO_POSITIVE_MODES:
            raise ValueError(f'`no_positive` must be one of '
                             f'{NO_POSITIVE_MODES}, got {no_positive!r}')
        if max_rank < 1:
            raise ValueError(f'`max_rank` must be >= 1, got {max_rank}')
        check_rerank_cfg(rerank_cfg)
        rerank_cfg = dict(rerank_cfg or {})
        _check_out_file(out_file)
        self.distance = distance
        self.ap_mode = ap_mode
        self.rerank = rerank
        self.rerank_cfg = rerank_cfg
        self.max_rank = max_rank
        self.out_file = out_file
        self.device = device
        self.no_positive = no_positive
        # Where the model put its descriptors (results are kept on CPU).
        self._feature_device: Optional[torch.device] = None
        # What made the descriptors, for the dump; set before each
        # evaluation by EvalProtocolHook (it knows the model and data).
        self.provenance: Optional[dict] = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the descriptor and labels of every sample.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model as dicts.
        """
        for sample in data_samples:
            missing = [k for k in _REQUIRED_KEYS if k not in sample]
            if missing:
                raise KeyError(f'{self.__class__.__name__}: data sample lacks '
                               f'{missing}; expected keys {_REQUIRED_KEYS}')
            feat = sample['pred_feature'].detach()
            idx = int(sample['sample_idx'])
            if feat.device.type != 'cpu':
                self._feature_device = feat.device
            self.results.append(
                dict(
                    pred_feature=self._as_descriptor(feat, idx),
                    pid=self._as_id(sample, 'pid', idx),
                    camid=self._as_id(sample, 'camid', idx),
                    is_query=bool(sample['is_query']),
                    is_gallery=bool(sample['is_gallery']),
                    sample_idx=idx))

    # Samples are checked by the rule of every entry point (utils.arrays),
    # named by their sample_idx.
    @staticmethod
    def _as_descriptor(feat: torch.Tensor, idx: int) -> torch.Tensor:
        """A sample's descriptor as a float32 CPU vector."""
        return as_descriptors(
            feat.reshape(1, -1),
            f'pred_feature of sample_idx {idx}',
            device='cpu')[0]

    @staticmethod
    def _as_id(sample: dict, key: str, idx: int) -> int:
        """An integer label of a sample."""
        value = sample[key]
        value = value.reshape(-1) if isinstance(value,
                                                torch.Tensor) else [value]
        return int(as_labels(value, f'{key} of sample_idx {idx}', 1)[0])

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Evaluate the gathered results.

        Args:
            results (list[dict]): Records from :meth:`process` of all ranks.

        Returns:
            dict[str, float]: ``mAP``, ``R1``, ``R5``, ``R10``, ``R20`` and
            ``mINP`` in percent.
        """
        _check_out_file(self.out_file)  # may have been set after __init__
        # Dataset order, one record per sample (sampler padding repeats some).
        by_idx = {}
        for res in results:
            by_idx.setdefault(res['sample_idx'], res)
        records = [by_idx[i] for i in sorted(by_idx)]
        dims = {len(r['pred_feature']) for r in records}
        if len(dims) > 1:
            first = records[0]
            other = next(
                r for r in records
                if len(r['pred_feature']) != len(first['pred_feature']))
            raise ValueError(
                f'{self.__class__.__name__}: descriptors differ in size: '
                f'sample_idx {first["sample_idx"]} has '
                f'{len(first["pred_feature"])} values, sample_idx '
                f'{other["sample_idx"]} has {len(other["pred_feature"])}')
        feats = torch.stack([r['pred_feature'] for r in records])
        labels = {
            k: np.array([r[k] for r in records])
            for k in ('pid', 'camid', 'is_query', 'is_gallery', 'sample_idx')
        }
        query = np.flatnonzero(labels['is_query'])
        gallery = np.flatnonzero(labels['is_gallery'])
        if len(query) == 0 or len(gallery) == 0:
            raise ValueError(
                f'{self.__class__.__name__} got {len(query)} query and '
                f'{len(gallery)} gallery samples out of {len(records)}; '
                'both sets must be non-empty (check `is_query`/`is_gallery` '
                'of the test dataset)')
        pids, camids = labels['pid'], labels['camid']
        dump = self.out_file is not None
        res = self.calculate(
            feats[query],
            feats[gallery],
            pids[query],
            pids[gallery],
            camids[query],
            camids[gallery],
            distance=self.distance,
            ap_mode=self.ap_mode,
            rerank_cfg=self.rerank_cfg if self.rerank else None,
            max_rank=self.max_rank,
            return_distmat=dump,
            device=self.device or self._feature_device,
            no_positive=self.no_positive)
        metrics = {'mAP': res['mAP'] * 100}
        for k in _CMC_RANKS:
            if k <= self.max_rank:
                metrics[f'R{k}'] = float(res['cmc'][k - 1]) * 100
        metrics['mINP'] = res['mINP'] * 100
        _, protocol = describe_protocol(
            self,
            query_in_gallery=bool(
                (labels['is_query'] & labels['is_gallery']).any()))
        # Logged first: a failing write must not lose the evaluation.
        self._log_table(metrics, len(query), len(gallery),
                        res['num_valid_queries'], protocol, self.no_positive)
        if dump:
            self._dump(res, feats, labels, query, gallery, protocol)
        return metrics

    @staticmethod
    def calculate(query_feats: torch.Tensor,
                  gallery_feats: torch.Tensor,
                  q_pids: np.ndarray,
                  g_pids: np.ndarray,
                  q_camids: np.ndarray,
                  g_camids: np.ndarray,
                  distance: str = 'cosine',
                  ap_mode: str = 'standard',
                  rerank_cfg: Optional[dict] = None,
                  max_rank: int = 20,
                  return_distmat: bool = False,
                  device: Optional[Union[str, torch.device]] = None,
                  no_positive: str = 'skip') -> dict:
        """Rank the gallery for every query and evaluate.

        Args:
            query_feats (torch.Tensor): Query descriptors (Q, D).
            gallery_feats (torch.Tensor): Gallery descriptors (G, D).
            q_pids, g_pids, q_camids, g_camids (np.ndarray): Labels.
            distance (str): ``'cosine'`` or ``'euclidean'``.
                Defaults to ``'cosine'``.
            ap_mode (str): ``'standard'`` or ``'trapezoid'``.
                Defaults to ``'standard'``.
            rerank_cfg (dict, optional): Re-ranking arguments; None skips
                re-ranking. Defaults to None.
            max_rank (int): Length of the CMC curve. Defaults to 20.
            return_distmat (bool): Also return the dense distance matrix
                under ``distmat`` (a tensor on ``device``). Defaults to
                False.
            device (str | torch.device, optional): Where distances and
                ranking run; re-ranking always runs on CPU. Defaults to
                None (where the descriptors are).
            no_positive (str): ``'skip'`` or ``'zero'`` (see the class).
                Defaults to ``'skip'``.

        Returns:
            dict: The output of :func:`evaluate_rank` (fractions).
        """
        labels = (q_pids, g_pids, q_camids, g_camids)
        if rerank_cfg is not None:
            distmat = k_reciprocal_rerank(
                query_feats, gallery_feats, metric=distance, **rerank_cfg)
        elif return_distmat:
            distmat = compute_distance(
                query_feats,
                gallery_feats,
                distance,
                as_numpy=False,
                device=device)
        else:
            # No dense matrix: each chunk is ranked as soon as it exists.
            return evaluate_rank_by_features(
                query_feats,
                gallery_feats,
                *labels,
                metric=distance,
                max_rank=max_rank,
                ap_mode=ap_mode,
                device=device,
                no_positive=no_positive)
        res = evaluate_rank(
            distmat,
            *labels,
            max_rank=max_rank,
            ap_mode=ap_mode,
            no_positive=no_positive)
        if return_distmat:
            res['distmat'] = distmat
        return res

    def _dump(self, res: dict, feats: torch.Tensor, labels: dict,
              query: np.ndarray, gallery: np.ndarray, protocol: str) -> None:
        """Write descriptors, labels and ranked lists to ``out_file``."""
        ranked, ranked_dist = rank_gallery(res['distmat'], self.max_rank,
                                           labels['pid'][query],
                                           labels['pid'][gallery],
                                           labels['camid'][query],
                                           labels['camid'][gallery])
        query_ap = np.full(len(query), np.nan)
        query_ap[res['valid_query_indices']] = res['AP']
        camera_names = (self.dataset_meta or {}).get('camera_names') or ()
        fields = dict(
            features=feats.numpy(),
            pids=labels['pid'],
            camids=labels['camid'],
            sample_idx=labels['sample_idx'],
            query_indices=query,
            gallery_indices=gallery,
            ranked_gallery=ranked,
            ranked_distances=ranked_dist,
            query_ap=query_ap,
            camera_names=np.asarray(camera_names, dtype=str),
            protocol=protocol,
            provenance=self.provenance)
        dump = {k: fields[k] for k in DUMP_KEYS}

        def write(f: BinaryIO) -> None:
            if self.out_file.endswith('.npz'):
                np.savez(
                    f,
                    **dict(
                        dump, provenance=encode_provenance(self.provenance)))
            else:
                mmengine.dump(dump, f, file_format='pkl')

        try:
            # Written next to the target and renamed: never a partial file.
            atomic_write(write, self.out_file)
        except OSError as err:
            raise OSError(f'Cannot write the metric dump '
                          f'{self.out_file!r}: {err} (the metrics are '
                          'in the log above)') from err
        print_log(
            f'Re-ID features and ranked lists saved to {self.out_file}',
            logger='current')

    @staticmethod
    def _log_table(metrics: Dict[str, float], num_query: int, num_gallery: int,
                   num_valid: int, protocol: str, no_positive: str) -> None:
        """Print the metrics (%) as a paper-style table under their
        protocol."""
        names = list(metrics)
        widths = [max(len(n), 6) for n in names]
        sep = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
        head = '|' + '|'.join(f' {n:^{w}} ' for n, w in zip(names, widths))
        row = '|' + '|'.join(f' {metrics[n]:^{w}.2f} '
                             for n, w in zip(names, widths))
        without = ''
        if num_valid < num_query:
            without = (f'; {num_query - num_valid} without: ' +
                       ('skipped' if no_positive == 'skip' else
                        "counted as AP 0, no_positive='zero'"))
        print_log(
            f'Re-ID results (%): {num_query} queries ({num_valid} with a '
            f'valid match{without}), {num_gallery} gallery\nProtocol: '
            f'{protocol}\n'
            f'{sep}\n{head}|\n{sep}\n{row}|\n{sep}',
            logger='current')
