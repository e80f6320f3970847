# Copyright (c) mmreid_video contributors. All rights reserved.
"""Worker process of ``_eval_baseline.py``: times one version of the
evaluator on request.

Run as a script with ``PYTHONPATH`` set to the version to time. It only
uses the public API that every version has (``evaluate_rank``,
``evaluate_rank_by_features``), numpy and the standard library, never a
helper an older version may lack. Protocol: one JSON line with the imported
package and digests of its results, then one JSON line of
``{name: [wall_s, cpu_s]}`` per input line.
"""
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Dict

import numpy as np

import mmreid_video
from mmreid_video.evaluation.functional import (evaluate_rank,
                                                evaluate_rank_by_features)

DATA_FILES = ('distmat', 'query_feats', 'gallery_feats', 'q_pids', 'g_pids',
              'q_camids', 'g_camids')


def _digest(res: Dict) -> Dict:
    """Numbers of an evaluation that must match across versions."""
    return dict(
        mAP=float(res['mAP']),
        mINP=float(res['mINP']),
        cmc=[float(x) for x in res['cmc']],
        AP_sha1=hashlib.sha1(
            np.ascontiguousarray(res['AP'],
                                 dtype=np.float64).tobytes()).hexdigest())


def serve(data: Path, ap_mode: str) -> None:
    """Worker: warm up, report what was imported, then time on request."""
    warnings.simplefilter('ignore')
    arr = {name: np.load(data / f'{name}.npy') for name in DATA_FILES}
    labels = [arr[k] for k in ('q_pids', 'g_pids', 'q_camids', 'g_camids')]
    calls = dict(
        rank_only=lambda: evaluate_rank(
            arr['distmat'], *labels, ap_mode=ap_mode),
        fused=lambda: evaluate_rank_by_features(
            arr['query_feats'], arr['gallery_feats'], *labels, ap_mode=ap_mode)
    )
    digests = {name: _digest(call()) for name, call in calls.items()}
    print(
        json.dumps(dict(package=mmreid_video.__file__, results=digests)),
        flush=True)
    for _ in sys.stdin:
        times = {}
        for name, call in calls.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            times[name] = [
                time.perf_counter() - start,
                time.process_time() - start_cpu
            ]
        print(json.dumps(times), flush=True)


if __name__ == '__main__':
    serve(Path(sys.argv[1]), sys.argv[2])
