# Copyright (c) mmreid_video contributors. All rights reserved.
"""A loader timeout that names the sample it was loading.

A data worker stuck on one sample (a hung network mount, a decoder that
never returns) stops training forever, and torch's own ``DataLoader(timeout=)``
only says "DataLoader timed out". :class:`SampleTimeoutHook` wraps each
dataset's pipeline in a :class:`SampleWatchdog`: inside the process that
loads the sample (a worker, or the main process with ``num_workers=0``) a
``SIGALRM`` timer interrupts the pipeline after ``timeout`` seconds and
raises an error naming the dataset, the sample index, its tracklet and the
frames it was reading. The error reaches the training process as any worker
error does ("Caught TimeoutError in DataLoader worker process N").

Outside the Runner, ``tools/extract_features.py`` and
:func:`mmreid_video.apis.extract_tracklet_features` time their samples the
same way, with the config's timeout (:func:`sample_timeout`).
"""
import signal
import threading
import time
from typing import Callable, Mapping, Optional

from mmengine.hooks import Hook

from mmreid_video.registry import HOOKS

# Data-info keys that identify a tracklet, in the order shown.
_ID_KEYS = ('tracklet_id', 'pid', 'camid')
# Frames listed in the message.
_SHOWN_FRAMES = 3


def _frames_text(results: dict) -> str:
    """The frames of a sample, the selected ones if sampling has run."""
    paths = results.get('frame_paths')
    if not paths:
        return 'no frame_paths'
    inds = results.get('frame_inds')
    chosen = [paths[int(i)] for i in inds] if inds is not None else paths
    shown = ', '.join(str(p) for p in chosen[:_SHOWN_FRAMES])
    more = ', ...' if len(chosen) > _SHOWN_FRAMES else ''
    what = 'selected frames' if inds is not None else 'frames'
    return f'{len(chosen)} {what}: {shown}{more}'


class SampleWatchdog:
    """A dataset pipeline that fails when one sample takes too long.

    Args:
        pipeline (Callable): The dataset's pipeline (e.g. a ``Compose``).
        timeout (float): Seconds one sample may take.
        dataset_name (str): Shown in the error, e.g. ``'train_dataloader
            (MARS)'``.
    """

    def __init__(self, pipeline: Callable, timeout: float,
                 dataset_name: str) -> None:
        if timeout <= 0:
            raise ValueError(f'timeout must be > 0 seconds, got {timeout}')
        self.pipeline = pipeline
        self.timeout = timeout
        self.dataset_name = dataset_name

    def __getattr__(self, name: str):
        # ``transforms`` and friends of the wrapped pipeline stay reachable.
        if name == 'pipeline':
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def _message(self, results: dict, ids: dict) -> str:
        id_text = ', '.join(f'{k}={v}' for k, v in ids.items()
                            if k != 'sample_idx')
        return (f'Loading sample {ids.get("sample_idx", "?")} of '
                f'{self.dataset_name} ({id_text}; {_frames_text(results)}) '
                f'took more than {self.timeout:g} s. A frame may be on a '
                'hung mount or not decodable; check these files. Raise the '
                'limit with --cfg-options default_hooks.sample_timeout.'
                'timeout=SECONDS if such samples are just slow.')

    def __call__(self, results: dict) -> Optional[dict]:
        """Run the pipeline on one sample under the timer."""
        if threading.current_thread() is not threading.main_thread():
            # Signals reach only the main thread; nothing to time here.
            return self.pipeline(results)
        ids = {
            k: results[k]
            for k in ('sample_idx', ) + _ID_KEYS if k in results
        }

        def on_alarm(signum, frame):
            raise TimeoutError(self._message(results, ids))

        previous = signal.signal(signal.SIGALRM, on_alarm)
        outer, _ = signal.setitimer(signal.ITIMER_REAL, self.timeout)
        start = time.monotonic()
        try:
            return self.pipeline(results)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer:  # a timer of the caller's, paused meanwhile
                left = outer - (time.monotonic() - start)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def watch_dataset(dataset, timeout: float, name: str) -> None:
    """Put the pipelines of ``dataset`` (and of datasets it wraps) under a
    :class:`SampleWatchdog`; idempotent.

    Args:
        dataset: A dataset with a ``pipeline``, or a wrapper with
            ``dataset``/``datasets`` (MMEngine's Concat/Repeat datasets).
        timeout (float): Seconds one sample may take.
        name (str): The dataloader's name, for the error.

    Raises:
        TypeError: No pipeline can be found to wrap.
    """
    if hasattr(dataset, 'pipeline'):
        if not isinstance(dataset.pipeline, SampleWatchdog):
            dataset.pipeline = SampleWatchdog(
                dataset.pipeline, timeout,
                f'{name} ({type(dataset).__name__})')
    elif hasattr(dataset, 'datasets'):
        for inner in dataset.datasets:
            watch_dataset(inner, timeout, name)
    elif hasattr(dataset, 'dataset'):
        watch_dataset(dataset.dataset, timeout, name)
    else:
        raise TypeError(
            f'SampleTimeoutHook: the dataset of {name} '
            f'({type(dataset).__name__}) has no `pipeline` to time; set '
            'default_hooks.sample_timeout.timeout=None to run without a '
            'loader timeout.')


def sample_timeout(cfg: Mapping) -> Optional[float]:
    """The sample timeout a config sets: the ``timeout`` of its
    :class:`SampleTimeoutHook` (in ``default_hooks`` or ``custom_hooks``),
    checked as the hook checks it; None when it has none or it is off.

    Args:
        cfg (Mapping): A full config.

    Returns:
        float | None: Seconds one sample may take to load.
    """
    hooks = list((cfg.get('default_hooks') or {}).values())
    hooks += list(cfg.get('custom_hooks') or [])
    for hook in hooks:
        if hook and str(hook.get('type', '')).split('.')[-1] == \
                SampleTimeoutHook.__name__:
            return HOOKS.build(hook).timeout
    return None


@HOOKS.register_module()
class SampleTimeoutHook(Hook):
    """Fail with the culprit's name when loading one sample hangs.

    Args:
        timeout (float, optional): Seconds one sample (all its frames and
            transforms) may take to load, in workers and with
            ``num_workers=0`` alike. None switches the check off. Needs
            ``SIGALRM`` (Linux, macOS). Defaults to 300.
    """

    priority = 'VERY_HIGH'

    def __init__(self, timeout: Optional[float] = 300.) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(
                f'timeout must be > 0 seconds or None, got {timeout}')
        if timeout is not None and not hasattr(signal, 'SIGALRM'):
            raise RuntimeError(
                'SampleTimeoutHook needs SIGALRM, which this platform lacks; '
                'set default_hooks.sample_timeout.timeout=None.')
        self.timeout = timeout

    def _watch(self, dataloader, name: str) -> None:
        if self.timeout is not None:
            watch_dataset(dataloader.dataset, self.timeout, name)

    def before_train(self, runner) -> None:
        """Time the training samples (before the workers start)."""
        self._watch(runner.train_dataloader, 'train_dataloader')

    def before_val(self, runner) -> None:
        """Time the validation samples."""
        self._watch(runner.val_dataloader, 'val_dataloader')

    def before_test(self, runner) -> None:
        """Time the test samples."""
        self._watch(runner.test_dataloader, 'test_dataloader')
