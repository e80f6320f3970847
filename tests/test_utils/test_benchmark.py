# Copyright (c) mmreid_video contributors. All rights reserved.
import json

import pytest

from mmreid_video.utils.benchmark import (machine_info, summarize_times,
                                          time_calls, write_report)


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
