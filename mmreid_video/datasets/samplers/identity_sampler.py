# Copyright (c) mmreid_video contributors. All rights reserved.
"""P x K identity sampler for metric-learning batches, DDP-aware."""
from typing import Iterator, List, Optional, Sized

import numpy as np
from mmengine.dist import (broadcast_object_list, get_dist_info,
                           is_distributed, sync_random_seed)
from torch.utils.data import Sampler

from mmreid_video.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class IdentitySampler(Sampler):
    """Yield indices so that every batch holds P identities x K tracklets.

    Wrap it in :class:`IdentityBatchSampler` (``batch_sampler`` key of the
    dataloader), which checks ``batch_size == num_ids * num_instances``; each
    consecutive block of P*K indices is one batch: K tracklets of the first
    id, then K of the second, and so on.

    **Epoch** (``epoch_mode``). With ``M = P * world_size`` ids per global
    iteration:

    - ``'group'`` (default; the active ``RandomIdentitySampler`` of the
      AP3D/TCLNet code the benchmark schedules come from): each id with n_i
      tracklets is split, after a shuffle, into ``max(1, n_i // K)`` groups
      of K distinct tracklets (ids with fewer than K give one group drawn
      with replacement; leftovers of ``n_i % K`` tracklets change from epoch
      to epoch), and an epoch uses every group once. With G groups in all an
      epoch is ``G // M`` iterations, as AP3D's
      ``sum(max(n_i, K) - max(n_i, K) % K) // (P * K)``: 235 on the real MARS
      train split at 8 x 4 on one rank. Where AP3D concatenates shuffled
      groups (so one batch may hold an id twice), each iteration here draws
      M distinct ids without replacement, with probability proportional to
      their remaining groups, and takes one group of each, so every group is
      used at most once and nearly all once. Should fewer than M ids have
      groups left, the batch is topped up with fresh groups of other ids.
    - ``'identity'``: every identity once per epoch, in a random order, with
      K tracklets drawn without replacement (with replacement when it has
      fewer than K); ``num_ids_total // M`` iterations, the last incomplete
      batch dropped (78 on MARS at 8 x 4). This is the sampler of open-reid
      and Video-Person-ReID, which AP3D keeps only as deprecated code (on
      MARS its epoch is a third of the epoch the schedules count).

    **DDP.** All ranks build the same global sequence from the same seed and
    rank r keeps ids ``[r*P, (r+1)*P)`` of every iteration, so ranks never
    share an identity within an iteration and the global batch is
    P x K x world_size. ``len(sampler)`` is the number of indices per rank.

    **Seeding and resuming.** The order is a pure function of
    ``(seed, epoch)``. With ``seed=None`` a seed is drawn on rank 0 and
    broadcast; a given seed is broadcast from rank 0 as well (so
    ``diff_rank_seed=True`` cannot break the rank split). MMEngine calls
    :meth:`set_epoch` before each epoch and resumes epoch-based training at
    epoch boundaries, which this reproduces exactly; iteration-based resume
    skips batches by iterating, which is also exact. :meth:`set_start_iter`
    skips the first batches of the next pass without loading them.

    Args:
        dataset (Sized): Dataset with ``get_data_info(i)['pid']``.
        num_ids (int): Identities per batch and rank (P).
        num_instances (int): Tracklets per identity (K).
        epoch_mode (str): What an epoch is: ``'group'`` (every group of K
            tracklets once) or ``'identity'`` (each identity once). Defaults
            to ``'group'``.
        seed (int, optional): Random seed shared by all ranks. Defaults to
            None (drawn and synchronised).
        rank (int, optional): Rank of this process. Defaults to None (from
            ``mmengine.dist.get_dist_info``).
        world_size (int, optional): Number of processes. Defaults to None
            (from ``mmengine.dist.get_dist_info``).
    """

    EPOCH_MODES = ('group', 'identity')

    def __init__(self,
                 dataset: Sized,
                 num_ids: int,
                 num_instances: int,
                 epoch_mode: str = 'group',
                 seed: Optional[int] = None,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        for name, value in (('num_ids', num_ids), ('num_instances',
                                                   num_instances)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'IdentitySampler: {name} must be a positive '
                                 f'int, got {value!r}.')
        if epoch_mode not in self.EPOCH_MODES:
            raise ValueError(f'IdentitySampler: epoch_mode must be one of '
                             f'{self.EPOCH_MODES}, got {epoch_mode!r}.')
        if getattr(dataset, 'test_mode', False):
            raise ValueError(
                f'IdentitySampler draws training batches and would drop or '
                f'repeat tracklets of {type(dataset).__name__}, which has '
                'test_mode=True; val/test dataloaders need '
                "sampler=dict(type='DefaultSampler', shuffle=False).")
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else rank
        self.world_size = dist_world if world_size is None else world_size
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'IdentitySampler: rank {self.rank} is not in '
                             f'[0, world_size={self.world_size}).')
        self.dataset = dataset
        self.num_ids = num_ids
        self.num_instances = num_instances
        self.epoch_mode = epoch_mode
        self.seed = self._shared_seed(seed)
        self.epoch = 0
        self._start_iter = 0

        self._pid_indices = self._group_by_pid(dataset)
        ids_per_iter = num_ids * self.world_size
        if len(self._pid_indices) < ids_per_iter:
            raise ValueError(
                f'IdentitySampler: num_ids={num_ids} x world_size='
                f'{self.world_size} = {ids_per_iter} distinct identities are '
                f'needed per iteration but the dataset has only '
                f'{len(self._pid_indices)}.')
        if epoch_mode == 'identity':
            num_units = len(self._pid_indices)
        else:
            num_units = sum(
                max(1,
                    len(inds) // num_instances) for inds in self._pid_indices)
        self.num_iters = num_units // ids_per_iter

    @staticmethod
    def _shared_seed(seed: Optional[int]) -> int:
        if seed is None:
            return sync_random_seed()
        if is_distributed():
            shared = [seed]
            broadcast_object_list(shared, src=0)
            seed = shared[0]
        return int(seed)

    @staticmethod
    def _group_by_pid(dataset: Sized) -> List[np.ndarray]:
        """Indices of each id, ids in increasing order (reads metadata only;
        the pipeline is not run)."""
        pids = []
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            if 'pid' not in info:
                raise KeyError(f'IdentitySampler: data info {i} of '
                               f'{type(dataset).__name__} has no key '
                               f"'pid'; keys: {sorted(info)}.")
            pids.append(int(info['pid']))
        pids = np.asarray(pids, dtype=np.int64)
        order = np.argsort(pids, kind='stable')
        unique, starts = np.unique(pids[order], return_index=True)
        return np.split(order, starts[1:]) if len(unique) else []

    def _draw_group(self, rng: np.random.Generator,
                    inds: np.ndarray) -> np.ndarray:
        return rng.choice(
            inds, self.num_instances, replace=len(inds) < self.num_instances)

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """Global index array of one epoch.

        Args:
            epoch (int): Epoch number.

        Returns:
            np.ndarray: Shape ``(num_iters, world_size, P, K)``.
        """
        rng = np.random.default_rng([self.seed, epoch])
        if self.epoch_mode == 'identity':
            out = self._identity_epoch(rng)
        else:
            out = self._group_epoch(rng)
        return out.reshape(self.num_iters, self.world_size, self.num_ids,
                           self.num_instances)

    def _identity_epoch(self, rng: np.random.Generator) -> np.ndarray:
        """Every id once in a random order, K tracklets each."""
        ids_per_iter = self.num_ids * self.world_size
        order = rng.permutation(len(self._pid_indices))
        order = order[:self.num_iters * ids_per_iter]
        return np.stack([
            self._draw_group(rng, self._pid_indices[j]) for j in order
        ]).reshape(self.num_iters, ids_per_iter, self.num_instances)

    def _group_epoch(self, rng: np.random.Generator) -> np.ndarray:
        """Every group of K tracklets about once (see the class notes)."""
        k = self.num_instances
        groups = []
        for inds in self._pid_indices:
            if len(inds) < k:
                groups.append(self._draw_group(rng, inds)[None])
            else:
                perm = rng.permutation(inds)
                groups.append(perm[:len(inds) // k * k].reshape(-1, k))
        remaining = np.array([len(g) for g in groups], dtype=np.int64)
        ids_per_iter = self.num_ids * self.world_size
        out = np.empty((self.num_iters, ids_per_iter, k), dtype=np.int64)
        for it in range(self.num_iters):
            avail = np.flatnonzero(remaining)
            if len(avail) >= ids_per_iter:
                chosen = rng.choice(
                    avail,
                    ids_per_iter,
                    replace=False,
                    p=remaining[avail] / remaining[avail].sum())
            else:
                others = np.flatnonzero(remaining == 0)
                extra = rng.choice(
                    others, ids_per_iter - len(avail), replace=False)
                chosen = rng.permutation(np.concatenate([avail, extra]))
            for slot, j in enumerate(chosen):
                if remaining[j]:
                    out[it, slot] = groups[j][len(groups[j]) - remaining[j]]
                    remaining[j] -= 1
                else:
                    out[it, slot] = self._draw_group(rng, self._pid_indices[j])
        return out

    def __iter__(self) -> Iterator[int]:
        start, self._start_iter = self._start_iter, 0
        rank_inds = self.epoch_indices(self.epoch)[start:, self.rank]
        return iter(rank_inds.reshape(-1).tolist())

    def __len__(self) -> int:
        return self.num_iters * self.num_ids * self.num_instances

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; each epoch has its own deterministic order.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch

    def set_start_iter(self, start_iter: int) -> None:
        """Skip the first ``start_iter`` batches of the next pass over the
        current epoch (mid-epoch resume without loading the skipped data).

        Args:
            start_iter (int): Batches already consumed in this epoch.
        """
        if not 0 <= start_iter <= self.num_iters:
            raise ValueError(f'IdentitySampler: start_iter must be in '
                             f'[0, {self.num_iters}], got {start_iter!r}.')
        self._start_iter = start_iter
