# Copyright (c) mmreid_video contributors. All rights reserved.
import json
import time

import pytest

from mmreid_video.utils.benchmark import (loader_throughput, machine_info,
                                          summarize_times, time_calls,
                                          write_report)


def test_summarize_times():
    assert summarize_times([3.0, 1.0, 2.0, 10.0]) == dict(
        min=1.0, median=2.5, max=10.0, runs=4)
    with pytest.raises(ValueError, match='no measurement'):
        summarize_times([])


def test_time_calls_counts_warmup_and_timed_calls():
    calls = []
    stats = time_calls(lambda: calls.append(1) or len(calls), 3, warmup=2)
    assert len(calls) == 5 and stats['result'] == 5 and stats['runs'] == 3
    assert 0 <= stats['min'] <= stats['median'] <= stats['max']
    assert stats['cpu_s']['runs'] == 3
    with pytest.raises(ValueError, match='repeat=0'):
        time_calls(lambda: None, repeat=0)


def test_machine_info_and_report(tmp_path):
    info = machine_info()
    assert info['cpu_count'] >= 1 and len(info['load_average']) in (0, 3)
    path = tmp_path / 'report.json'
    write_report(dict(machine=info, qps=12.5), path)
    assert json.loads(path.read_text())['qps'] == 12.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ['report.json']


class PrefetchingLoader:
    """What a DataLoader with workers looks like to its consumer: the
    first batch waits for the workers' start-up, the rest of the prefetch
    queue (``prefetch_factor x num_workers`` batches) is ready at once,
    later batches come at the workers' pace (``period`` s each)."""

    num_workers, prefetch_factor, batch, period = 2, 2, 8, 0.02

    def __len__(self):
        return 30

    def __iter__(self):
        time.sleep(0.05)  # start-up
        for i in range(len(self)):
            if i >= self.num_workers * self.prefetch_factor:
                time.sleep(self.period)
            yield dict(inputs=[0] * self.batch)


def test_loader_throughput_is_measured_at_steady_state():
    loader = PrefetchingLoader()
    steady = loader.batch / loader.period  # 400 samples/s
    stats = loader_throughput(loader, batches=5, repeat=2)
    assert stats['skipped'] == 4 and stats['runs'] == 2
    assert stats['batches'] == 5 and len(stats['load_average']) in (0, 3)
    # Sleeps only lengthen under load: never above the steady rate.
    assert 0.3 * steady < stats['min'] <= stats['max'] <= 1.05 * steady
    # The naive figure (4 batches after the first) times the prefilled
    # queue and is far above it.
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    naive = sum(len(next(it)['inputs']) for _ in range(4)) / (
        time.perf_counter() - start)
    assert naive > 2 * stats['max']
    with pytest.raises(ValueError, match='needs 4 more first'):
        loader_throughput(loader, batches=27)
