"""Probes of ``rehearse_scale.py``: a hook timing the Runner's loops and a
sampler of the memory of the process and its dataloader workers."""
import os
import threading
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process (shared pages split between the
    processes sharing them), in MB; 0 if it is gone."""
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> List[int]:
    """Direct children of ``pid`` (dataloader workers), from /proc."""
    out = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as f:
                # The ppid is the 2nd field after the parenthesised name.
                if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                    out.append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return out


class MemorySampler(threading.Thread):
    """Peak PSS of this process plus its children, sampled periodically.

    PSS counts pages shared by the forked workers once in total, which RSS
    per process would count once per process.

    Args:
        interval (float): Seconds between samples. Defaults to 1.
    """

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mb = 0.0
        self._stop_event = threading.Event()
        self.available = os.path.exists('/proc/self/smaps_rollup')

    def run(self) -> None:
        pid = os.getpid()
        while self.available and not self._stop_event.is_set():
            total = _pss_mb(pid) + sum(map(_pss_mb, _children(pid)))
            self.peak_mb = max(self.peak_mb, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> Optional[float]:
        """Stop sampling; returns the peak in MB (None without /proc)."""
        self._stop_event.set()
        self.join()
        return round(self.peak_mb, 1) if self.available else None


def set_stage(runner, stage: int) -> None:
    """Activate stage 1 or 2 of a two-stage model (no-op for others)."""
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if getattr(model, 'two_stage', False):
        model.set_train_stage(stage)


class LoopTimeline(Hook):
    """Time every train and test iteration of the Runner's loops.

    An iteration's data wait is the time from the end of the previous one
    (or the start of the loop) to its ``before_*_iter`` call, i.e. what the
    loop spent in ``next(dataloader)``; its compute time runs from there to
    ``after_*_iter`` (the CUDA stream is synchronised first). Train
    iterations ``[s * iters_per_stage, (s + 1) * iters_per_stage)`` run in
    stage ``s + 1`` of a two-stage model; peak GPU memory is taken per
    stage and for the test.

    Args:
        iters_per_stage (int): Train iterations per stage.
    """

    priority = 'VERY_HIGH'

    def __init__(self, iters_per_stage: int) -> None:
        self.iters_per_stage = iters_per_stage
        self.cuda = torch.cuda.is_available()
        self.train: Dict[int, List[List[float]]] = {}
        self.gpu_mem_gb: Dict[str, float] = {}
        self.test: List[List[float]] = []
        self.test_span: Dict[str, float] = {}
        self._stage = 0
        self._last = self._start = 0.0

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def _peak(self, name: Optional[str]) -> None:
        """Record the peak GPU memory under ``name`` (if given), reset it."""
        if self.cuda:
            if name:
                self.gpu_mem_gb[name] = round(
                    torch.cuda.max_memory_allocated() / 2**30, 2)
            torch.cuda.reset_peak_memory_stats()

    def before_train_epoch(self, runner) -> None:
        self._last = self._now()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        stage = batch_idx // self.iters_per_stage + 1
        if stage != self._stage:
            self._peak(f'stage{self._stage}' if self._stage else None)
            set_stage(runner, stage)
            self._stage = stage
        self._start = self._now()
        self.train.setdefault(self._stage,
                              []).append([self._start - self._last, 0.0])

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        self._last = self._now()
        self.train[self._stage][-1][1] = self._last - self._start

    def after_train(self, runner) -> None:
        self._peak(f'stage{self._stage}')

    def before_test_epoch(self, runner) -> None:
        self._peak(None)
        self.test_span['start'] = self._last = self._now()

    def before_test_iter(self, runner, batch_idx: int, data_batch=None):
        self._start = self._now()
        self.test.append([self._start - self._last, 0.0])

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs=None) -> None:
        self._last = self._now()
        self.test[-1][1] = self._last - self._start

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.test_span.update(last_iter=self._last, end=self._now())
        self._peak('test')


def summarize(records: List[List[float]], warmup: int) -> Dict[str, float]:
    """Median iteration times and data-wait share after ``warmup`` iters.

    Args:
        records (list): ``[data_wait_s, compute_s]`` per iteration.
        warmup (int): Leading iterations left out (worker start-up, cuDNN
            autotuning), fewer if there are not enough.

    Returns:
        dict: ``iters_timed``, ``iter_s`` and ``compute_s`` (medians),
        ``iters_per_s`` and ``data_wait_share`` (total wait / total time).
    """
    arr = np.asarray(records, dtype=np.float64).reshape(-1, 2)
    arr = arr[min(warmup, max(len(arr) - 1, 0)):]
    if not len(arr):
        return dict(iters_timed=0)
    total = arr.sum(axis=1)
    return dict(
        iters_timed=len(arr),
        iter_s=round(float(np.median(total)), 4),
        iters_per_s=round(1 / float(np.median(total)), 3),
        compute_s=round(float(np.median(arr[:, 1])), 4),
        data_wait_share=round(float(arr[:, 0].sum() / total.sum()), 3))
