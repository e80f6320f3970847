# Copyright (c) mmreid_video contributors. All rights reserved.
"""What every benchmark script of ``tools/analysis_tools/`` shares: timed
repeats summarised as min / median / max, the machine they ran on (load
average included, since a busy machine makes every number slower), and a
JSON report written whole or not at all."""
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Union

from mmreid_video.fileio import atomic_write


def summarize_times(times: List[float]) -> Dict[str, float]:
    """Min / median / max of repeated measurements.

    Args:
        times (list[float]): One value per run (seconds, or any unit).

    Returns:
        dict: ``min``, ``median``, ``max`` and ``runs`` (the count).
    """
    if not times:
        raise ValueError('summarize_times: no measurement to summarise')
    return dict(
        min=float(min(times)),
        median=float(statistics.median(times)),
        max=float(max(times)),
        runs=len(times))


def time_calls(fn: Callable[[], object],
               repeat: int = 5,
               warmup: int = 1,
               sync: Optional[Callable[[], None]] = None) -> Dict:
    """Call ``fn`` ``warmup + repeat`` times; time the last ``repeat``.

    Args:
        fn (Callable[[], object]): What to time (no arguments; wrap with a
            lambda).
        repeat (int): Timed calls. Defaults to 5.
        warmup (int): Untimed calls first (caches, lazy imports, kernels).
            Defaults to 1.
        sync (Callable[[], None], optional): Called before each clock read,
            e.g. ``torch.cuda.synchronize`` so GPU work is counted.
            Defaults to None.

    Returns:
        dict: :func:`summarize_times` of the wall seconds, plus ``cpu_s``
        (the same of the process's CPU seconds; above the wall time when
        several cores work) and ``result`` (the last call's return value).
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f'time_calls: repeat must be >= 1 and warmup >= 0, '
                         f'got repeat={repeat}, warmup={warmup}')
    sync = sync or (lambda: None)
    result = None
    for _ in range(warmup):
        result = fn()
    wall, cpu = [], []
    for _ in range(repeat):
        sync()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        sync()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return dict(
        summarize_times(wall), cpu_s=summarize_times(cpu), result=result)


def _num_items(batch) -> int:
    """Samples in a collated batch: its ``inputs`` (dict batches) or the
    batch itself."""
    return len(batch['inputs'] if isinstance(batch, Mapping) else batch)


def loader_throughput(loader: Iterable,
                      batches: int,
                      repeat: int = 3,
                      count: Callable[[object], int] = _num_items) -> Dict:
    """Samples per second a dataloader delivers at steady state.

    A new iterator starts the loader's workers, which fill the prefetch
    queue (``prefetch_factor`` batches each) while the first batch is
    awaited; those batches then arrive at once, so timing them inflates
    the figure (4 workers on 2 cores: 5,351 clips/s over 4 batches, 2,331
    over 24). Each repeat therefore starts a new iterator, draws its first
    ``max(1, prefetch_factor x num_workers)`` batches untimed (the workers'
    start-up and the prefilled queue) and times the next ``batches``.

    Args:
        loader (Iterable): A ``torch.utils.data.DataLoader`` (or any
            iterable of batches with ``len``; ``num_workers`` and
            ``prefetch_factor`` are read where present).
        batches (int): Batches timed per repeat.
        repeat (int): Repeats (new iterators). Defaults to 3.
        count (Callable[[object], int]): Samples in a batch. Defaults to
            the length of its ``inputs``.

    Returns:
        dict: :func:`summarize_times` of the samples/s of the repeats, plus
        ``skipped`` and ``batches`` (per repeat) and ``load_average``
        (after the repeats).
    """
    workers = getattr(loader, 'num_workers', 0)
    skip = max(1, (getattr(loader, 'prefetch_factor', None) or 0) * workers)
    if batches < 1 or repeat < 1:
        raise ValueError('loader_throughput: batches and repeat must be '
                         f'>= 1, got {batches}, {repeat}')
    if len(loader) < skip + batches:
        raise ValueError(
            f'the loader has {len(loader)} batch(es) per pass; measuring '
            f'{batches} at steady state needs {skip} more first (prefetch '
            f'factor x {workers} workers, at least 1): use fewer batches or '
            'a larger dataset')
    rates = []
    for _ in range(repeat):
        it = iter(loader)
        for _ in range(skip):
            next(it)
        start, samples = time.perf_counter(), 0
        for _ in range(batches):
            samples += count(next(it))
        rates.append(samples / (time.perf_counter() - start))
        del it  # ends the workers before the next repeat starts its own
    return dict(
        summarize_times(rates),
        skipped=skip,
        batches=batches,
        load_average=load_average())


def load_average() -> List[float]:
    """The 1, 5 and 15 minute load averages (empty where the OS has none).

    Returns:
        list[float]: Three values, or ``[]``.
    """
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # e.g. Windows
        return []


def rss_mb(key: str = 'VmRSS') -> float:
    """This process's current (``VmRSS``) or peak (``VmHWM``: unlike
    ``ru_maxrss``, not inherited from the parent that started it) resident
    memory in MB; Linux only.

    Args:
        key (str): A field of ``/proc/self/status``. Defaults to 'VmRSS'.

    Returns:
        float: Megabytes.
    """
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise OSError(f'/proc/self/status has no {key}')


def machine_info() -> Dict:
    """The machine a benchmark ran on, for its report.

    Returns:
        dict: ``cpu_count``, ``cpu`` (model name where known), ``python``,
        ``torch`` / ``numpy`` versions, ``cuda_device`` (name or None) and
        ``load_average`` (now).
    """
    import numpy as np
    import torch
    cpu = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            names = [
                ln.split(':', 1)[1].strip() for ln in f
                if ln.startswith('model name')
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return dict(
        cpu_count=os.cpu_count(),
        cpu=cpu,
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=np.__version__,
        cuda_device=torch.cuda.get_device_name()
        if torch.cuda.is_available() else None,
        load_average=load_average())


def write_report(report: Dict, path: Union[str, Path]) -> None:
    """Write ``report`` as indented JSON, atomically (an earlier report at
    ``path`` stays whole if the write fails).

    Args:
        report (dict): JSON-serialisable results.
        path (str | Path): The file to write.
    """
    atomic_write((json.dumps(report, indent=2) + '\n').encode(), path)
