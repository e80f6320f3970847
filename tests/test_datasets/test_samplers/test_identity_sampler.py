# Copyright (c) mmreid_video contributors. All rights reserved.
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from scipy.io import loadmat
from torch.utils.data import DataLoader

from mmreid_video.datasets.samplers import (IdentityBatchSampler,
                                            identity_sampler)
from mmreid_video.registry import DATA_SAMPLERS

REPO = Path(__file__).parents[3]
MODES = ('identity', 'group')


class StubDataset:
    """The part of the dataset API the sampler uses."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.infos_read = 0

    def __len__(self):
        return len(self.pids)

    def get_data_info(self, idx):
        self.infos_read += 1
        return dict(pid=self.pids[idx], frame_paths=['a.jpg'], camid=0)


class TinyDataset(BaseDataset):
    """An mmengine BaseDataset (serialized data list)."""

    def __init__(self, pids):
        self._pids = pids
        super().__init__(serialize_data=True)

    def load_data_list(self):
        return [
            dict(pid=p, frame_paths=[f'{i}.jpg'])
            for i, p in enumerate(self._pids)
        ]


def make_pids(num_ids=30, seed=0):
    # Between 1 and 12 tracklets per id: some ids have fewer than K=4.
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 13, num_ids)
    pids = np.repeat(np.arange(num_ids), counts)
    return rng.permutation(pids).tolist()


def build(dataset, **kwargs):
    init_default_scope('mmreid_video')
    cfg = dict(type='IdentitySampler', num_ids=4, num_instances=4)
    cfg.update(kwargs)
    return DATA_SAMPLERS.build(cfg, default_args=dict(dataset=dataset))


def batches(sampler, dataset):
    inds = list(sampler)
    assert len(inds) == len(sampler)
    p, k = sampler.num_ids, sampler.num_instances
    assert len(inds) % (p * k) == 0
    pids = np.asarray(dataset.pids)[inds]
    return np.asarray(inds).reshape(-1, p, k), pids.reshape(-1, p, k)


def test_batches_are_p_ids_by_k_instances():
    dataset = StubDataset(make_pids())
    sampler = build(dataset, seed=0)
    assert sampler.epoch_mode == 'group'  # the default
    counts = Counter(dataset.pids)
    num_groups = sum(max(1, n // 4) for n in counts.values())
    assert sampler.num_iters == num_groups // 4
    assert len(sampler) == sampler.num_iters * 16
    inds, pids = batches(sampler, dataset)
    for batch_inds, batch_pids in zip(inds, pids):
        # K items of one id per row, P distinct ids per batch.
        assert np.all(batch_pids == batch_pids[:, :1])
        assert len(set(batch_pids[:, 0])) == 4
        for row, pid in zip(batch_inds, batch_pids[:, 0]):
            if counts[pid] >= 4:  # distinct tracklets when there are K
                assert len(set(row)) == 4
    # Ids with fewer than K tracklets are sampled with replacement.
    short = [pid for pid, n in counts.items() if n < 4]
    assert short and set(short) & set(pids.ravel())
    # Nearly every group is used once per epoch.
    used = Counter(np.asarray(list(sampler)).tolist())
    coverable = sum(n // 4 * 4 for n in counts.values() if n >= 4)
    reused = sum(c - 1 for i, c in used.items()
                 if counts[dataset.pids[i]] >= 4)
    assert len(used) > 0.8 * coverable and reused <= 16


@pytest.mark.parametrize('mode', MODES)
def test_reads_metadata_once_and_works_on_base_dataset(mode):
    dataset = StubDataset(make_pids())
    sampler = build(dataset, epoch_mode=mode, seed=0)
    assert dataset.infos_read == len(dataset)
    list(sampler)
    sampler.set_epoch(1)
    list(sampler)
    assert dataset.infos_read == len(dataset)
    pids = make_pids(seed=1)
    base = TinyDataset(pids)
    sampler = build(base, epoch_mode=mode, seed=3)
    inds = np.asarray(list(sampler)).reshape(-1, 4, 4)
    batch_pids = np.asarray(pids)[inds]
    assert np.all(batch_pids == batch_pids[..., :1])


@pytest.mark.parametrize('mode', MODES)
def test_seed_and_epoch_determinism(mode):
    dataset = StubDataset(make_pids())
    first = list(build(dataset, epoch_mode=mode, seed=5))
    assert first == list(build(dataset, epoch_mode=mode, seed=5))
    assert first != list(build(dataset, epoch_mode=mode, seed=6))
    sampler = build(dataset, epoch_mode=mode, seed=5)
    assert list(sampler) == list(sampler)  # repeatable within an epoch
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert epoch1 != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_seed_none_is_synchronised(monkeypatch):
    dataset = StubDataset(make_pids())
    monkeypatch.setattr(identity_sampler, 'sync_random_seed', lambda: 1234)
    sampler = build(dataset)
    assert sampler.seed == 1234
    assert list(sampler) == list(build(dataset, seed=1234))


@pytest.mark.parametrize('mode', MODES)
def test_ranks_get_disjoint_ids(mode):
    dataset = StubDataset(make_pids(60))
    world = 3
    samplers = [
        build(dataset, epoch_mode=mode, seed=0, rank=r, world_size=world)
        for r in range(world)
    ]
    lens = {len(s) for s in samplers}
    assert len(lens) == 1
    per_rank = [batches(s, dataset)[1] for s in samplers]
    for it in range(samplers[0].num_iters):
        ids = [set(pids[it, :, 0]) for pids in per_rank]
        assert all(len(s) == 4 for s in ids)
        assert len(set.union(*ids)) == 4 * world
    # The ranks split one global sequence: same as what the (seed, epoch)
    # global order gives.
    glob = samplers[0].epoch_indices(0)
    for r, s in enumerate(samplers):
        assert list(s) == glob[:, r].ravel().tolist()


@pytest.mark.parametrize('mode', MODES)
def test_rank_from_dist_info(mode, monkeypatch):
    dataset = StubDataset(make_pids(60))
    monkeypatch.setattr(identity_sampler, 'get_dist_info', lambda: (1, 2))
    sampler = build(dataset, epoch_mode=mode, seed=0)
    assert (sampler.rank, sampler.world_size) == (1, 2)
    assert list(sampler) == list(
        build(dataset, epoch_mode=mode, seed=0, rank=1, world_size=2))


@pytest.mark.parametrize('mode', MODES)
def test_resume_mid_epoch_continues_sequence(mode):
    dataset = StubDataset(make_pids())
    sampler = build(dataset, epoch_mode=mode, seed=9)
    sampler.set_epoch(2)
    full = list(sampler)
    resumed = build(dataset, epoch_mode=mode, seed=9)
    resumed.set_epoch(2)
    resumed.set_start_iter(3)
    assert list(resumed) == full[3 * 16:]
    # The skip applies to one pass only.
    assert list(resumed) == full
    with pytest.raises(ValueError, match='start_iter must be in'):
        resumed.set_start_iter(resumed.num_iters + 1)


def test_errors():
    with pytest.raises(ValueError, match='num_ids must be a positive int'):
        build(StubDataset(make_pids()), num_ids=0, seed=0)
    with pytest.raises(ValueError, match='num_instances must be'):
        build(StubDataset(make_pids()), num_instances=2.0, seed=0)
    with pytest.raises(ValueError, match='= 8 distinct identities'):
        build(StubDataset([0, 1, 2, 3, 4]), seed=0, rank=0, world_size=2)
    with pytest.raises(ValueError, match='rank 2 is not in'):
        build(StubDataset(make_pids()), seed=0, rank=2, world_size=2)
    with pytest.raises(ValueError, match="epoch_mode must be one of"):
        build(StubDataset(make_pids()), seed=0, epoch_mode='groups')
    test_set = StubDataset(make_pids())
    test_set.test_mode = True
    with pytest.raises(ValueError, match='has test_mode=True'):
        build(test_set, seed=0)

    class NoPid(StubDataset):

        def get_data_info(self, idx):
            return dict(camid=0)

    with pytest.raises(KeyError, match="has no key 'pid'"):
        build(NoPid([0, 1]), seed=0)


def test_identity_epoch_uses_each_id_once():
    dataset = StubDataset(make_pids(num_ids=30))
    sampler = build(dataset, seed=0, epoch_mode='identity')
    assert sampler.num_iters == 30 // 4
    counts = Counter(dataset.pids)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        inds, pids = batches(sampler, dataset)
        assert np.all(pids == pids[..., :1])
        ids = pids[..., 0].ravel()
        # 28 of the 30 ids, each once; 2 dropped with the incomplete batch.
        assert len(ids) == len(set(ids)) == 28
        for row, pid in zip(inds.reshape(-1, 4), ids):
            if counts[pid] >= 4:  # else drawn with replacement
                assert len(set(row)) == 4


def test_epoch_length_on_real_mars_with_shipped_config(mars_info):
    """AP3D's epoch on the real MARS train split: every group of K once,
    ``sum(max(n, K) - max(n, K) % K) // (P * K)`` = 235 iterations."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / 'configs/baseline/baseline_r50_mars.py'))
    table = loadmat(str(Path(mars_info) / 'tracks_train_info.mat'))
    dataset = StubDataset(table['track_train_info'][:, 2].tolist())
    counts = np.array(list(Counter(dataset.pids).values()))
    assert (len(dataset), len(counts)) == (8298, 625)
    k = cfg.train_dataloader.sampler.num_instances
    padded = np.maximum(counts, k)
    ap3d_len = int((padded - padded % k).sum()) // cfg.train_dataloader.\
        batch_size
    sampler = build(
        dataset, **cfg.train_dataloader.sampler, seed=0, rank=0, world_size=1)
    assert sampler.epoch_mode == 'group'
    assert sampler.num_iters == ap3d_len == 235
    assert len(list(sampler)) == len(sampler) == 235 * 32
    # The deprecated identity-once epoch is a third of it.
    per_id = build(
        dataset,
        num_ids=8,
        seed=0,
        rank=0,
        world_size=1,
        epoch_mode='identity')
    assert per_id.num_iters == 78


@pytest.mark.parametrize('mode', MODES)
def test_two_ranks_split_disjointly_and_resume(mode):
    dataset = StubDataset(make_pids(60))
    ranks = [
        build(dataset, epoch_mode=mode, seed=4, rank=r, world_size=2)
        for r in range(2)
    ]
    for sampler in ranks:
        sampler.set_epoch(1)
    full = [batches(s, dataset) for s in ranks]
    for it in range(ranks[0].num_iters):
        ids0, ids1 = (set(pids[it, :, 0]) for _, pids in full)
        assert len(ids0) == len(ids1) == 4 and not ids0 & ids1
    for r in range(2):
        resumed = build(dataset, epoch_mode=mode, seed=4, rank=r, world_size=2)
        resumed.set_epoch(1)
        resumed.set_start_iter(2)
        assert list(resumed) == full[r][0][2:].ravel().tolist()


def test_batch_sampler_checks_the_p_by_k_contract():
    dataset = StubDataset(make_pids())
    sampler = build(dataset, seed=0)
    batch_sampler = DATA_SAMPLERS.build(
        dict(type='IdentityBatchSampler'),
        default_args=dict(sampler=sampler, batch_size=16))
    assert len(batch_sampler) == sampler.num_iters
    got = [b for b in batch_sampler]
    assert np.asarray(got).ravel().tolist() == list(sampler)
    with pytest.raises(
            ValueError,
            match=r'train_dataloader.batch_size=12 must equal train_'
            r'dataloader.sampler.num_ids x num_instances = 4 x 4 = 16'):
        IdentityBatchSampler(sampler, batch_size=12)
    with pytest.raises(TypeError, match="needs train_dataloader.sampler="):
        IdentityBatchSampler(range(16), batch_size=16)
    # Through a DataLoader, as the runner builds it.
    loader = DataLoader(
        list(range(len(dataset))),
        batch_sampler=batch_sampler,
        collate_fn=list)
    assert [len(b) for b in loader] == [16] * sampler.num_iters


def test_mars_config_wires_the_batch_check():
    from mmengine.config import Config
    cfg = Config.fromfile(
        str(Path(__file__).parents[3] / 'configs/_base_/datasets/mars.py'))
    loader = cfg.train_dataloader
    assert loader.batch_sampler == dict(type='IdentityBatchSampler')
    assert loader.batch_size == (
        loader.sampler.num_ids * loader.sampler.num_instances)
