# Copyright (c) mmreid_video contributors. All rights reserved.
"""The timed runs of ``benchmark_eval.py``, imported once its arguments
are parsed (``--help`` answers without importing torch)."""
import argparse
import gc
import os
import threading
from typing import Callable, Dict, Tuple

import numpy as np
import torch
from _eval_baseline import resolve, run_baselines  # noqa: I100 (script dir)
from _eval_reference import (mars_like_data, reference_distance,
                             reference_evaluate, same, summary)

from mmreid_video.evaluation.functional import (compute_distance,
                                                evaluate_rank,
                                                evaluate_rank_by_features,
                                                k_reciprocal_rerank,
                                                rank_gallery)
from mmreid_video.utils.benchmark import (load_average, machine_info,
                                          summarize_times, time_calls,
                                          write_report)


def _rss_mb() -> float:
    """Current resident set size (Linux)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def with_peak_rss(fn: Callable[[], object]) -> Tuple[object, float, float]:
    """Run ``fn``; return its result, seconds and peak extra RSS in MB
    (sampled every 5 ms)."""
    gc.collect()
    base = peak = _rss_mb()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, _rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        timing = time_calls(fn, repeat=1, warmup=0)
    finally:
        done.set()
        sampler.join()
    return timing['result'], timing['median'], max(peak, _rss_mb()) - base


def run_rerank(qf, gf, labels, args) -> Dict:
    """Time re-ranking and its peak memory."""
    dist, elapsed, extra = with_peak_rss(lambda: k_reciprocal_rerank(qf, gf))
    res = evaluate_rank(dist, *labels, ap_mode=args.ap_mode)
    num = len(qf) + len(gf)
    return dict(
        time_s=elapsed,
        peak_extra_rss_mb=extra,
        nxn_float16_mb=num * num * 2 / 2**20,
        metrics=summary(res))


def run_large_gallery(args, fused_s_per_item: float) -> Dict:
    """Fused evaluation against ``--large-gallery`` tracklets."""
    large = argparse.Namespace(**vars(args))
    large.num_distractors += args.large_gallery - args.num_gallery
    large.num_gallery = args.large_gallery
    qf, gf, *labels = mars_like_data(large)
    times, extras = [], []
    for _ in range(max(1, args.repeat // 2)):
        res, t, extra = with_peak_rss(lambda: evaluate_rank_by_features(
            qf, gf, *labels, ap_mode=args.ap_mode))
        times.append(t)
        extras.append(extra)
    timing = summarize_times(times)
    per_item = timing['median'] / len(gf)
    return dict(
        num_gallery=len(gf),
        time_s=timing,
        features_mb=(qf.nbytes + gf.nbytes) / 2**20,
        peak_extra_rss_mb=max(extras),
        s_per_gallery_item=per_item,
        per_item_vs_mars_scale=per_item / fused_s_per_item,
        metrics=summary(res))


def ties_identical_on(device: torch.device) -> bool:
    """Tie-heavy random distances: the device ranks like the CPU."""
    ok = True
    for seed in range(3):
        rng = np.random.default_rng(seed)
        dist = np.round((rng.random((300, 2000)) - 0.3) * 8) / 8
        labels = (rng.integers(0, 9, 300), rng.integers(0, 9, 2000),
                  rng.integers(0, 3, 300), rng.integers(0, 3, 2000))
        for dtype in (np.float32, np.float64, np.float16):
            x = dist.astype(dtype)
            cpu = evaluate_rank(x, *labels)
            dev = evaluate_rank(
                torch.from_numpy(x).to(device), *labels, chunk_size=64)
            ok &= same(cpu, dev) and np.array_equal(cpu['AP'], dev['AP'])
        x = dist.astype(np.float32)
        cpu = rank_gallery(x, 20, *labels)
        dev = rank_gallery(torch.from_numpy(x).to(device), 20, *labels)
        ok &= all(np.array_equal(a, b) for a, b in zip(cpu, dev))
    return bool(ok)


def run_device(qf, gf, labels, args) -> Dict:
    """Same numbers as the CPU on the same distances; time on the device."""
    device = torch.device(args.device)
    qd, gd = torch.from_numpy(qf).to(device), torch.from_numpy(gf).to(device)
    dist = compute_distance(qd, gd, as_numpy=False)
    on_cpu = evaluate_rank(dist.cpu(), *labels, ap_mode=args.ap_mode)
    on_dev = evaluate_rank(dist, *labels, ap_mode=args.ap_mode)
    fused = evaluate_rank_by_features(qd, gd, *labels, ap_mode=args.ap_mode)
    ranked = rank_gallery(dist, 20, *labels)
    ranked_cpu = rank_gallery(dist.cpu(), 20, *labels)
    timing = time_calls(
        lambda: evaluate_rank_by_features(
            qd, gd, *labels, ap_mode=args.ap_mode),
        repeat=args.repeat,
        warmup=2,
        sync=(lambda: torch.cuda.synchronize(device))
        if device.type == 'cuda' else None)
    timing.pop('result')
    name = (
        torch.cuda.get_device_name(device)
        if device.type == 'cuda' else str(device))
    return dict(
        device=name,
        ties_identical_to_cpu=ties_identical_on(device),
        identical_to_cpu_on_same_distances=bool(
            same(on_dev, on_cpu)
            and np.array_equal(on_dev['AP'], on_cpu['AP'])),
        fused_identical_to_dense=bool(same(fused, on_dev)),
        rank_gallery_identical=bool(
            np.array_equal(ranked[0], ranked_cpu[0])
            and np.array_equal(ranked[1], ranked_cpu[1])),
        fused_time_s=timing,
        metrics=summary(on_dev))


def timed_runs(args, qf, gf, labels) -> Tuple[Dict, Dict, Dict]:
    """Interleaved runs of every timed step; returns wall and CPU seconds
    per step and the results to compare."""
    # The floor: one GEMM of normalised features, numpy's BLAS as ours uses.
    qn = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gn = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    keys = ('gemm', 'distances', 'rank_only', 'fused', 'ref_distances',
            'ref_rank_only')
    wall, cpu = {k: [] for k in keys}, {k: [] for k in keys}
    checks = dict(identical=True, fused_identical=True, dist_diff=0.0)

    def timed(key: str, fn: Callable[[], object]) -> object:
        timing = time_calls(fn, repeat=1, warmup=0)
        wall[key].append(timing['median'])
        cpu[key].append(timing['cpu_s']['median'])
        return timing['result']

    np.matmul(qn, gn.T)  # warm-up: BLAS threads, page faults
    evaluate_rank_by_features(qf, gf, *labels, ap_mode=args.ap_mode)
    # Interleaved, so that load from other processes hits all alike. The
    # reference ranks *our* distance matrix: identical inputs, so both
    # evaluators must agree bit for bit.
    for i in range(max(args.repeat, args.ref_repeat)):
        timed('gemm', lambda: np.matmul(qn, gn.T))
        dist = timed('distances', lambda: compute_distance(qf, gf))
        ours = timed(
            'rank_only',
            lambda: evaluate_rank(dist, *labels, ap_mode=args.ap_mode))
        if i < args.repeat:
            fused = timed(
                'fused', lambda: evaluate_rank_by_features(
                    qf, gf, *labels, ap_mode=args.ap_mode))
            checks['fused_identical'] &= same(fused, ours)
        if i < args.ref_repeat:
            ref_dist = timed('ref_distances',
                             lambda: reference_distance(qf, gf))
            ref = timed(
                'ref_rank_only', lambda: reference_evaluate(
                    dist, *labels, ap_mode=args.ap_mode))
            checks['identical'] &= same(ours, ref)
            checks['dist_diff'] = max(checks['dist_diff'],
                                      float(np.abs(ref_dist - dist).max()))
    checks.update(dist=dist, ours=ours)
    return wall, cpu, checks


def run(args) -> None:
    """Time the evaluation as ``args`` (``benchmark_eval.py``) asks,
    print the summary and write the JSON report."""
    baselines = [resolve(ref) for ref in args.baseline]  # fail early
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = machine_info()  # the load average before the runs
    qf, gf, q_pids, g_pids, q_cams, g_cams = mars_like_data(args)
    labels = (q_pids, g_pids, q_cams, g_cams)
    print(f'{len(qf)} queries x {len(gf)} gallery, dim {args.dim}, '
          f'{args.num_ids} ids + {args.num_distractors} distractors, '
          f'torch threads {torch.get_num_threads()}')
    wall, cpu, checks = timed_runs(args, qf, gf, labels)
    times = {k: summarize_times(v) for k, v in wall.items() if v}
    med = {k: v['median'] for k, v in times.items()}
    # Ratios and sums of runs made back to back, then their median.
    full = summarize_times(list(np.add(wall['distances'], wall['rank_only'])))
    fused_vs_gemm = dict(
        wall=float(
            np.median(np.divide(wall['fused'], wall['gemm'][:args.repeat]))),
        cpu=float(
            np.median(np.divide(cpu['fused'], cpu['gemm'][:args.repeat]))))
    report = dict(
        setup=dict(
            num_query=len(qf),
            num_gallery=len(gf),
            dim=args.dim,
            signal=args.signal,
            ap_mode=args.ap_mode,
            threads=torch.get_num_threads()),
        machine=machine,
        load_average_after=load_average(),
        time_s=dict(times, full=full),
        cpu_time_s={k: summarize_times(v)
                    for k, v in cpu.items() if v},
        fused_vs_gemm=fused_vs_gemm,
        fused_identical_to_dense=checks['fused_identical'],
        metrics=summary(checks['ours']))
    print(f"bare GEMM {med['gemm']:.3f} s; fused / GEMM "
          f"{fused_vs_gemm['wall']:.2f}x wall, {fused_vs_gemm['cpu']:.2f}x "
          f'CPU time (load average {machine["load_average"]} before the '
          'runs)')
    print(f"ours: full evaluation {full['median']:.3f} s = distances "
          f"{med['distances']:.3f} s + rank-only {med['rank_only']:.3f} s; "
          f"fused (no dense matrix) {med['fused']:.3f} s")
    if args.ref_repeat:
        ref_full = summarize_times(
            list(np.add(wall['ref_distances'], wall['ref_rank_only'])))
        report['time_s']['ref_full'] = ref_full
        report.update(
            speedup=dict(
                full=ref_full['median'] / full['median'],
                fused=ref_full['median'] / med['fused'],
                rank_only=med['ref_rank_only'] / med['rank_only']),
            identical_to_reference=checks['identical'],
            max_abs_distance_diff_numpy_vs_ours=checks['dist_diff'])
        sp = report['speedup']
        print(f"reference: full {ref_full['median']:.3f} s = distances "
              f"{med['ref_distances']:.3f} s + rank-only "
              f"{med['ref_rank_only']:.3f} s; speed-up {sp['full']:.1f}x "
              f"full, {sp['fused']:.1f}x fused, {sp['rank_only']:.1f}x "
              f'rank-only (medians of {args.repeat} / {args.ref_repeat} '
              f"runs); identical: {checks['identical']}; numpy vs torch "
              f"distances differ by at most {checks['dist_diff']:.1e}")
    print(f"fused == dense: {checks['fused_identical']}; metrics: " +
          ', '.join(f'{k} {v:.4f}' for k, v in report['metrics'].items()))
    if args.baseline:
        report['baseline'] = run_baselines(args.baseline, baselines,
                                           args.repeat, args.ap_mode, qf, gf,
                                           checks['dist'], labels)
        for entry in report['baseline']:
            ro, fu = entry['rank_only'], entry['fused']
            print(f"vs {entry['ref']} {entry['commit'][:10]}: rank-only "
                  f"{ro['ours_s']['median']:.3f} s vs "
                  f"{ro['baseline_s']['median']:.3f} s, ours/baseline "
                  f"{ro['ratio']:.2f}x; fused {fu['ours_s']['median']:.3f} s "
                  f"vs {fu['baseline_s']['median']:.3f} s, "
                  f"{fu['ratio']:.2f}x (medians of {args.repeat} rounds); "
                  f"identical results: {entry['identical_results']}")
    if args.rerank:
        report['rerank'] = run_rerank(qf, gf, labels, args)
        rr = report['rerank']
        print(f"re-ranking (k1=20, k2=6, lambda=0.3): {rr['time_s']:.1f} s, "
              f"peak memory +{rr['peak_extra_rss_mb']:.0f} MB (of which the "
              f"N x N float16 distances {rr['nxn_float16_mb']:.0f} MB), "
              f"mAP {rr['metrics']['mAP']:.4f}")
    if args.large_gallery:
        report['large_gallery'] = run_large_gallery(args,
                                                    med['fused'] / len(gf))
        lg = report['large_gallery']
        print(f"{lg['num_gallery']} gallery: fused "
              f"{lg['time_s']['median']:.2f} s, "
              f"{lg['per_item_vs_mars_scale']:.2f}x the MARS-scale time per "
              f"gallery item, peak +{lg['peak_extra_rss_mb']:.0f} MB above "
              f"the features ({lg['features_mb']:.0f} MB), mAP "
              f"{lg['metrics']['mAP']:.4f}")
    if args.device:
        report['device'] = run_device(qf, gf, labels, args)
        dv = report['device']
        print(f"{dv['device']}: fused "
              f"{dv['fused_time_s']['median'] * 1e3:.1f} ms; "
              'identical to the CPU on the same distances: '
              f"{dv['identical_to_cpu_on_same_distances']}; fused == dense: "
              f"{dv['fused_identical_to_dense']}; rank_gallery identical: "
              f"{dv['rank_gallery_identical']}; tie-heavy cases identical: "
              f"{dv['ties_identical_to_cpu']}")
    if args.json:
        write_report(report, args.json)
