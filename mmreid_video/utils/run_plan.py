# Copyright (c) mmreid_video contributors. All rights reserved.
"""Plan a training run from a rehearsal's measurements: iterations per
epoch on 1-8 GPUs (from the config's own sampler), projected hours,
whether the run is data- or compute-bound, and the summary table that
``tools/analysis_tools/rehearse_scale.py`` prints."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import Config

GPU_COUNTS = (1, 2, 4, 8)
# The train loop may wait for data this share of its time and still count
# as compute-bound; the worker advice aims at the complement (90 % busy).
DATA_BOUND_SHARE = 0.1
DDP_ASSUMPTION = (
    'DDP: each GPU runs the per-GPU batch at the iteration time measured '
    'here, with its own loader workers and cores (no gradient '
    'synchronisation cost); a test splits its extraction over the GPUs and '
    'evaluates once.')


class _Pids:
    """A dataset of pids alone: what identity samplers read."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = np.asarray(pids)

    def __len__(self) -> int:
        return len(self.pids)

    def get_data_info(self, i: int) -> dict:
        return dict(pid=int(self.pids[i]))


def iters_per_epoch(loader_cfg: Config, pids: Sequence[int],
                    world_size: int) -> int:
    """Iterations per epoch of a train dataloader's own sampler.

    Args:
        loader_cfg (Config): ``train_dataloader`` (its ``sampler`` and
            ``batch_size``).
        pids (Sequence[int]): The pid of every train tracklet.
        world_size (int): Number of processes (GPUs).

    Returns:
        int: Batches per epoch on each rank. A sampler that takes no
        ``rank`` / ``world_size`` (MMEngine's ``DefaultSampler``) is
        assumed to split the epoch evenly.
    """
    from mmreid_video.registry import DATA_SAMPLERS
    cfg = dict(loader_cfg.sampler)
    try:
        sampler = DATA_SAMPLERS.build(
            dict(cfg, rank=0, world_size=world_size),
            default_args=dict(dataset=_Pids(pids), seed=0))
        per_rank = len(sampler)
    except TypeError:  # no rank / world_size arguments
        sampler = DATA_SAMPLERS.build(
            cfg, default_args=dict(dataset=_Pids(pids), seed=0))
        per_rank = math.ceil(len(sampler) / world_size)
    return math.ceil(per_rank / loader_cfg.batch_size)


def count_validations(cfg: Config) -> int:
    """Validations of a config's epoch-based schedule (0 without one)."""
    train_cfg = cfg.train_cfg
    max_epochs = train_cfg.get('max_epochs', 0)
    interval = train_cfg.get('val_interval', 1)
    begin = train_cfg.get('val_begin', 1)
    if cfg.get('val_cfg') is None:
        return 0
    return sum(e >= begin and (e % interval == 0 or e == max_epochs)
               for e in range(1, max_epochs + 1))


def project_hours(stage_epochs: List[int], stage_iter_s: List[float],
                  iters: int, test: Optional[Dict], validations: int,
                  world_size: int) -> Dict[str, float]:
    """Projected wall time of a schedule (see :data:`DDP_ASSUMPTION`).

    Args:
        stage_epochs (list[int]): Epochs per stage.
        stage_iter_s (list[float]): Median seconds per train iteration of
            each stage.
        iters (int): Iterations per epoch on ``world_size`` GPUs.
        test (dict, optional): ``frames``, ``extract_frames_per_s`` and
            ``eval_s`` of one full test; None: no test time.
        validations (int): Validations during training (each counted as
            a full test with the final model: an upper bound).
        world_size (int): GPUs.

    Returns:
        dict: ``train_h``, and with ``test`` also ``test_h`` and
        ``total_h`` (train + (validations + 1) tests).
    """
    out = dict(
        train_h=sum(e * iters * s
                    for e, s in zip(stage_epochs, stage_iter_s)) / 3600)
    if test:
        out['test_h'] = (test['frames'] / test['extract_frames_per_s'] /
                         world_size + test['eval_s']) / 3600
        out['total_h'] = out['train_h'] + (validations + 1) * out['test_h']
    return {k: round(v, 3) for k, v in out.items()}


def verdict(stages: Dict[str, Dict], loader: Dict[str, Dict], batch_size: int,
            num_workers: int, cpu_count: int) -> Dict:
    """Data- or compute-bound, and the loader workers a GPU needs.

    The run is data-bound when a train stage waits for data more than
    :data:`DATA_BOUND_SHARE` of its time. A GPU is >= 90 % busy when the
    loader delivers ``0.9 x batch / compute_s`` clips/s for the stage with
    the shortest compute time; workers are counted at the best steady-state
    clips/s per worker measured (0 workers: the main process, counted as
    one).

    Args:
        stages (dict): Per train stage, its ``compute_s`` and
            ``data_wait_share``.
        loader (dict): Per worker count (str), its steady-state clips/s
            (``median``).
        batch_size (int): Clips per iteration and GPU.
        num_workers (int): The config's train loader workers.
        cpu_count (int): Cores of this machine.

    Returns:
        dict: ``bound``, ``data_wait_share``, ``clips_per_s_needed``,
        ``clips_per_s_per_worker``, ``workers_per_gpu`` and ``line``.
    """
    wait = max(s['data_wait_share'] for s in stages.values())
    bound = 'data-bound' if wait > DATA_BOUND_SHARE else 'compute-bound'
    per_worker = max(v['median'] / max(int(k), 1) for k, v in loader.items())
    need = 0.9 * batch_size / max(
        min(s['compute_s'] for s in stages.values()), 1e-9)
    workers = math.ceil(need / per_worker)
    line = (f'{bound}: the train loop waits for data {wait:.0%} of its '
            f'time with {num_workers} worker(s); {workers} per GPU keep a '
            f'GPU >= 90 % busy ({need:.0f} clips/s at {per_worker:.0f} '
            f'clips/s per worker, measured on {cpu_count} cores)')
    return dict(
        bound=bound,
        data_wait_share=wait,
        clips_per_s_needed=round(need, 1),
        clips_per_s_per_worker=round(per_worker, 1),
        workers_per_gpu=workers,
        line=line)


def summary_table(result: Dict) -> str:
    """The rehearsal's terminal summary (the JSON holds everything).

    Args:
        result (dict): The rehearsal's results (``config``, ``machine``,
            ``train_loader``, ``train``, ``test``, ``scaling``,
            ``verdict``, ``json``).

    Returns:
        str: About 15 lines.
    """
    machine = result['machine']
    load = ' '.join(map(str, machine['load_average'])) or 'n/a'
    lines = [
        f"Rehearsal of {result['config']} on {result['device']} "
        f"({machine['cpu_count']} cores; load average {load} at the start, "
        f"{' '.join(map(str, result['load_average_end'])) or 'n/a'} at "
        'the end)', 'train loader at steady state, clips/s (min / median /'
        ' max of the repeats):'
    ]
    for workers, stat in result['train_loader'].items():
        lines.append(f"  {workers:>2} workers: {stat['min']:8.1f} / "
                     f"{stat['median']:8.1f} / {stat['max']:8.1f}")
    for name, stat in result.get('train', {}).items():
        lines.append(f"train {name}: {stat['iter_s']:.3f} s/iter (median), "
                     f"{stat['data_wait_share']:.1%} waiting for data")
    test = result.get('test')
    if test:
        lines.append(
            f"test: {test['frames']:,} frames at "
            f"{test['extract_frames_per_s']:.0f} frames/s, evaluation "
            f"{test['eval_s']:.1f} s, {test['loop']['data_wait_share']:.1%}"
            ' waiting for data')
    lines.append('| GPUs | iters/epoch | train h | test h | total h |')
    for gpus, row in result['scaling'].items():
        cells = [
            f"{row[k]:7.2f}" if k in row else '      -'
            for k in ('train_h', 'test_h', 'total_h')
        ]
        lines.append(f"| {gpus:>4} | {row['iters_per_epoch']:>11} | " +
                     ' | '.join(cells) + ' |')
    lines.append(DDP_ASSUMPTION)
    if 'verdict' in result:
        lines.append(f"verdict: {result['verdict']['line']}")
    lines.append(f"all results: {result['json']}")
    return '\n'.join(lines)
