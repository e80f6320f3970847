# Copyright (c) mmreid_video contributors. All rights reserved.
"""Where a run's time goes: data wait vs compute per iteration, memory."""
import os.path as osp
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmreid_video.registry import HOOKS
from mmreid_video.utils.benchmark import write_report
from mmreid_video.utils.process_memory import MemorySampler


def summarize_loop(records: List[List[float]], warmup: int) -> Dict:
    """Median iteration times and data-wait share after ``warmup`` iters.

    Args:
        records (list): ``[data_wait_s, compute_s]`` per iteration.
        warmup (int): Leading iterations left out (worker start-up, cuDNN
            autotuning), fewer if there are not enough: one is kept.

    Returns:
        dict: ``iters_timed``, ``iter_s`` and ``compute_s`` (medians),
        ``iter_s_min`` / ``iter_s_max``, ``iters_per_s`` and
        ``data_wait_share`` (total wait / total time).
    """
    arr = np.asarray(records, dtype=np.float64).reshape(-1, 2)
    arr = arr[min(warmup, max(len(arr) - 1, 0)):]
    if not len(arr):
        return dict(iters_timed=0)
    total = arr.sum(axis=1)
    return dict(
        iters_timed=len(arr),
        iter_s=round(float(np.median(total)), 4),
        iter_s_min=round(float(total.min()), 4),
        iter_s_max=round(float(total.max()), 4),
        iters_per_s=round(1 / float(np.median(total)), 3),
        compute_s=round(float(np.median(arr[:, 1])), 4),
        data_wait_share=round(float(arr[:, 0].sum() / total.sum()), 3))


@HOOKS.register_module()
class LoopTimelineHook(Hook):
    """Time every iteration of the train, val and test loops; log where
    the time goes (waiting for data or computing) and the peak memory.

    An iteration's data wait runs from the end of the previous one (or the
    start of its epoch) to its ``before_*_iter`` call: what the loop spent
    in ``next(dataloader)``; its compute time runs from there to
    ``after_*_iter`` (CUDA synchronised first). The hook runs last
    (``VERY_LOW``), so other hooks' work counts as compute, not as data
    wait. Train iterations are filed per phase: ``stage1`` / ``stage2``
    for a two-stage model (its ``train_stage`` when the iteration starts),
    else ``train``; then ``val`` and ``test``. Per phase it keeps the peak
    GPU memory (``torch.cuda.max_memory_allocated``) and the loop's span
    (start, end of the last iteration, end after the metric).

    At the end of each phase it logs :func:`summarize_loop` (median
    iteration time, data-wait share) and, at the end of the run, the peak
    PSS of the process and its dataloader workers (sampled by a thread;
    Linux) into the log, and writes everything to
    ``<log_dir>/<out_file>`` (rank 0). Switch it on for any run::

        custom_hooks = [dict(type='LoopTimelineHook')]

    (keep the config's other custom hooks in the list).

    Args:
        warmup_iters (int): Leading iterations per phase left out of the
            summaries. Defaults to 3.
        memory_interval (float, optional): Seconds between memory samples;
            None switches the sampling off. Defaults to 1.
        out_file (str, optional): JSON file in the log dir; None writes
            none. Defaults to ``'loop_timeline.json'``.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 warmup_iters: int = 3,
                 memory_interval: Optional[float] = 1.0,
                 out_file: Optional[str] = 'loop_timeline.json') -> None:
        if not isinstance(warmup_iters, int) or warmup_iters < 0:
            raise ValueError('LoopTimelineHook: warmup_iters must be an int '
                             f'>= 0, got {warmup_iters!r}.')
        self.warmup_iters = warmup_iters
        self.out_file = out_file
        self.cuda = torch.cuda.is_available()
        self.records: Dict[str, List[List[float]]] = {}
        self.spans: Dict[str, Dict[str, float]] = {}
        self.gpu_mem_gb: Dict[str, float] = {}
        self.memory = None if memory_interval is None else MemorySampler(
            memory_interval)
        self._phase: Optional[str] = None
        self._last = self._start = 0.0

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def _close_phase(self, runner) -> None:
        """Record the peak GPU memory of the current phase, log it."""
        if self._phase is None:
            return
        if self.cuda:  # a phase may be interrupted (validation) and go on
            self.gpu_mem_gb[self._phase] = max(
                self.gpu_mem_gb.get(self._phase, 0.0),
                round(torch.cuda.max_memory_allocated() / 2**30, 2))
        runner.logger.info(f'LoopTimelineHook: {self._phase}: ' +
                           self.describe(self._phase))
        self._phase = None

    def _open_phase(self, phase: str) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        self._phase = phase
        self.records.setdefault(phase, [])
        self.spans.setdefault(phase, dict(start=self._last))

    def summary(self, phase: str) -> Dict:
        """:func:`summarize_loop` of a phase, with its peak GPU memory.

        Args:
            phase (str): ``'train'``, ``'stage1'``, ``'val'``, ...

        Returns:
            dict: The summary (``iters_timed`` 0 for an unknown phase).
        """
        out = summarize_loop(self.records.get(phase, []), self.warmup_iters)
        if phase in self.gpu_mem_gb:
            out['gpu_mem_gb'] = self.gpu_mem_gb[phase]
        return out

    def describe(self, phase: str) -> str:
        """One line on a phase, as logged."""
        stat = self.summary(phase)
        if not stat['iters_timed']:
            return 'no iteration timed'
        text = (f"{stat['iters_timed']} iterations timed, median "
                f"{stat['iter_s']:.3f} s/iter (min {stat['iter_s_min']:.3f}, "
                f"max {stat['iter_s_max']:.3f}), "
                f"{stat['data_wait_share']:.1%} waiting for data")
        if 'gpu_mem_gb' in stat:
            text += f", peak GPU memory {stat['gpu_mem_gb']:.2f} GB"
        return text

    def _train_phase(self, runner) -> str:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if getattr(model, 'two_stage', False):
            return f'stage{model.train_stage}'
        return 'train'

    def before_run(self, runner) -> None:
        if self.memory is not None:
            self.memory.start()

    def _before_epoch(self, runner, mode: str = 'train') -> None:
        if mode != 'train':
            self._close_phase(runner)  # validation interrupts training
        self._last = self._now()
        if mode != 'train':
            self._open_phase(mode)
            self.spans[mode] = dict(start=self._last)

    def _before_iter(self,
                     runner,
                     batch_idx: int,
                     data_batch=None,
                     mode: str = 'train') -> None:
        """An iteration starts: its data wait ends."""
        phase = self._train_phase(runner) if mode == 'train' else mode
        if phase != self._phase:
            self._close_phase(runner)
            self._open_phase(phase)
        self._start = self._now()
        self.records[phase].append([self._start - self._last, 0.0])

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch=None,
                    outputs=None,
                    mode: str = 'train') -> None:
        self._last = self._now()
        self.records[self._phase][-1][1] = self._last - self._start
        self.spans[self._phase]['last_iter'] = self._last

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        if mode != 'train' and self._phase == mode:
            self.spans[mode]['end'] = self._now()
            self._close_phase(runner)

    def after_train(self, runner) -> None:
        self._close_phase(runner)

    def after_run(self, runner) -> None:
        """Log the peak memory; write the JSON (rank 0)."""
        peak = None if self.memory is None else self.memory.stop()
        if peak is not None:
            runner.logger.info('LoopTimelineHook: peak PSS of the process '
                               f'and its workers so far: {peak:.0f} MB')
        if self.out_file and is_main_process():
            write_report(
                dict(
                    phases={p: self.summary(p)
                            for p in self.records},
                    spans=self.spans,
                    peak_pss_mb=peak,
                    warmup_iters=self.warmup_iters),
                osp.join(runner.log_dir, self.out_file))
