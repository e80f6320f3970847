# Copyright (c) mmreid_video contributors. All rights reserved.
"""Benchmark the re-ID evaluation at MARS scale.

Times distances + full evaluation (mAP, CMC, mINP) of ``mmreid_video``
against the bare ``Q x D @ D x G`` GEMM (the floor on a CPU) and a
straightforward per-query numpy reference implemented below, checks that
both evaluators give identical numbers on the same distance matrix, and
optionally times k-reciprocal re-ranking, a large gallery in bounded
memory (``--large-gallery N``) and evaluation on a GPU (``--device cuda``:
same numbers as the CPU given the same distances, and its time).

Examples:
    python tools/analysis_tools/benchmark_eval.py --dim 512 --repeat 7
    python tools/analysis_tools/benchmark_eval.py --repeat 5 \
        --large-gallery 100000 --json work_dirs/benchmark_eval.json
    python tools/analysis_tools/benchmark_eval.py --device cuda --ref-repeat 1
"""
import argparse
import gc
import json
import os
import threading
import time
from typing import Dict, Tuple

import numpy as np
import torch

from mmreid_video.evaluation.functional import (compute_distance,
                                                evaluate_rank,
                                                evaluate_rank_by_features,
                                                k_reciprocal_rerank,
                                                rank_gallery)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-query', type=int, default=1980)
    parser.add_argument('--num-gallery', type=int, default=11310)
    parser.add_argument('--num-ids', type=int, default=625)
    parser.add_argument('--num-distractors', type=int, default=3248)
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument(
        '--signal',
        type=float,
        default=None,
        help='weight of the per-id centre in the random features; default '
        '0.32 * (2048 / dim) ** 0.3, a mAP in the 80s (as models reach on '
        'MARS); 0 gives chance-level lists')
    parser.add_argument('--ap-mode', default='standard',
                        choices=['standard', 'trapezoid'])
    parser.add_argument('--repeat', type=int, default=5,
                        help='runs of ours; the median is reported')
    parser.add_argument('--ref-repeat', type=int, default=3,
                        help='runs of the reference; the median is reported')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch default)')
    parser.add_argument('--rerank', action='store_true',
                        help='also time k-reciprocal re-ranking (20/6/0.3)')
    parser.add_argument(
        '--large-gallery',
        type=int,
        default=None,
        help='also evaluate (fused) against a gallery of this many tracklets '
        '(extra distractors): time per gallery item and peak memory')
    parser.add_argument(
        '--device',
        default=None,
        help="also evaluate on this device (e.g. 'cuda'): equality with the "
        'CPU on the same distances, and its time')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    if args.signal is None:
        args.signal = 0.32 * (2048 / args.dim)**0.3
    return args


def mars_like_data(args) -> Tuple[np.ndarray, ...]:
    """Random features with MARS's test-set structure.

    Every id has one query per camera it appears in (2-6 cameras, 1,980
    queries for 625 ids) and gallery tracklets spread over those cameras;
    3,248 distractor tracklets have pid 0 and random cameras.
    """
    rng = np.random.default_rng(args.seed)
    num_ids = args.num_ids
    # Cameras per id: at least 2, the rest spread so queries add up.
    num_cams = np.full(num_ids, 2)
    while num_cams.sum() < args.num_query:
        i = rng.integers(num_ids)
        num_cams[i] = min(num_cams[i] + 1, args.num_cams)
    id_cams = [
        rng.choice(args.num_cams, n, replace=False) for n in num_cams
    ]
    q_pids = np.repeat(np.arange(1, num_ids + 1), num_cams)
    q_cams = np.concatenate(id_cams)
    num_real = args.num_gallery - args.num_distractors
    owner = np.concatenate(
        [np.arange(num_ids),
         rng.integers(0, num_ids, num_real - num_ids)])
    g_cams = np.array([rng.choice(id_cams[o]) for o in owner])
    g_pids = np.concatenate([owner + 1, np.zeros(args.num_distractors, int)])
    g_cams = np.concatenate(
        [g_cams, rng.integers(0, args.num_cams, args.num_distractors)])
    perm = rng.permutation(args.num_gallery)
    g_pids, g_cams = g_pids[perm], g_cams[perm]
    centres = rng.standard_normal((num_ids + 1, args.dim), dtype=np.float32)
    centres *= np.float32(args.signal)

    def features(pids):
        out = np.empty((len(pids), args.dim), np.float32)
        for start in range(0, len(pids), 8192):  # bounded temporaries
            rows = slice(start, start + 8192)
            out[rows] = rng.standard_normal(out[rows].shape, np.float32)
            out[rows] += centres[pids[rows]]
        return out

    return (features(q_pids), features(g_pids), q_pids, g_pids, q_cams,
            g_cams)


def reference_distance(qf: np.ndarray, gf: np.ndarray) -> np.ndarray:
    """Cosine distance with plain numpy."""
    qf = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gf = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    return 1 - qf @ gf.T


def reference_evaluate(distmat, q_pids, g_pids, q_camids, g_camids,
                       max_rank=20, ap_mode='standard') -> Dict:
    """Straightforward per-query evaluation: sort, drop junk, accumulate."""
    all_cmc, all_ap, all_inp = [], [], []
    for i in range(len(q_pids)):
        order = np.argsort(distmat[i], kind='stable')
        same_id = g_pids[order] == q_pids[i]
        keep = ~(same_id & (g_camids[order] == q_camids[i]))
        matches = same_id[keep].astype(np.int64)
        if not matches.any():
            continue
        hits = matches.cumsum()
        cmc = hits[:max_rank] >= 1
        all_cmc.append(np.pad(cmc, (0, max_rank - len(cmc)), mode='edge'))
        num_rel = hits[-1]
        precision = hits / np.arange(1, len(hits) + 1)
        if ap_mode == 'standard':
            ap = np.cumsum(precision * matches)[-1] / num_rel
        else:  # MARS compute_AP.m: trapezoids between list positions
            recall = hits / num_rel
            old_recall = np.concatenate([[0.0], recall[:-1]])
            old_precision = np.concatenate([[1.0], precision[:-1]])
            ap = np.cumsum((recall - old_recall) *
                           ((old_precision + precision) / 2))[-1]
        all_ap.append(ap)
        all_inp.append(num_rel / (np.flatnonzero(matches)[-1] + 1))
    return dict(
        mAP=float(np.mean(all_ap)),
        cmc=np.sum(all_cmc, axis=0) / len(all_cmc),
        mINP=float(np.mean(all_inp)),
        num_valid_queries=len(all_ap))


def same(a: Dict, b: Dict) -> bool:
    """Bit-for-bit equality of the reported numbers."""
    return (a['mAP'] == b['mAP'] and a['mINP'] == b['mINP']
            and np.array_equal(a['cmc'], b['cmc'])
            and a['num_valid_queries'] == b['num_valid_queries'])


def summary(res: Dict) -> Dict:
    return dict(
        mAP=res['mAP'],
        R1=float(res['cmc'][0]),
        R5=float(res['cmc'][4]),
        R10=float(res['cmc'][9]),
        R20=float(res['cmc'][19]),
        mINP=res['mINP'],
        num_valid_queries=int(res['num_valid_queries']))


def _rss_mb() -> float:
    """Current resident set size (Linux)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def with_peak_rss(fn, *args_, **kwargs) -> Tuple[object, float, float]:
    """Run ``fn``; return its result, seconds and peak extra RSS in MB."""
    gc.collect()
    base = peak = _rss_mb()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, _rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        out = fn(*args_, **kwargs)
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    return out, elapsed, max(peak, _rss_mb()) - base


def run_rerank(qf, gf, labels, args) -> Dict:
    """Time re-ranking and sample its peak memory every 5 ms."""
    dist, elapsed, extra = with_peak_rss(k_reciprocal_rerank, qf, gf)
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
        res, t, extra = with_peak_rss(
            evaluate_rank_by_features, qf, gf, *labels, ap_mode=args.ap_mode)
        times.append(t)
        extras.append(extra)
    per_item = float(np.median(times)) / len(gf)
    return dict(
        num_gallery=len(gf),
        times_s=times,
        median_s=float(np.median(times)),
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

    def sync_time() -> float:
        torch.cuda.synchronize(device) if device.type == 'cuda' else None
        return time.perf_counter()

    times = []
    for i in range(args.repeat + 2):  # two warm-up runs
        start = sync_time()
        evaluate_rank_by_features(qd, gd, *labels, ap_mode=args.ap_mode)
        if i >= 2:
            times.append(sync_time() - start)
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
        fused_times_s=times,
        fused_median_s=float(np.median(times)),
        metrics=summary(on_dev))


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    qf, gf, q_pids, g_pids, q_cams, g_cams = mars_like_data(args)
    labels = (q_pids, g_pids, q_cams, g_cams)
    print(f'{len(qf)} queries x {len(gf)} gallery, dim {args.dim}, '
          f'{args.num_ids} ids + {args.num_distractors} distractors, '
          f'torch threads {torch.get_num_threads()}')

    def timed(key, fn, *args_, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn(*args_, **kwargs)
        times[key].append(time.perf_counter() - start)
        cpu_times[key].append(time.process_time() - cpu)
        return out

    # The floor: one GEMM of normalised features, numpy's BLAS as ours uses.
    qn = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gn = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    # Interleaved runs, so that load from other processes hits all alike.
    # The reference evaluates *our* distance matrix, so that both evaluators
    # see identical inputs and must agree bit for bit.
    keys = ('gemm', 'dist', 'eval', 'fused', 'ref_dist', 'ref_eval')
    times = {k: [] for k in keys}
    cpu_times = {k: [] for k in keys}
    identical, fused_identical, dist_diff = True, True, 0.0
    np.matmul(qn, gn.T)  # warm-up: BLAS threads, page faults
    evaluate_rank_by_features(qf, gf, *labels, ap_mode=args.ap_mode)
    load_before = os.getloadavg()[0]
    for i in range(max(args.repeat, args.ref_repeat)):
        timed('gemm', np.matmul, qn, gn.T)
        dist = timed('dist', compute_distance, qf, gf)
        ours = timed('eval', evaluate_rank, dist, *labels,
                     ap_mode=args.ap_mode)
        if i < args.repeat:
            fused = timed('fused', evaluate_rank_by_features, qf, gf, *labels,
                          ap_mode=args.ap_mode)
            fused_identical &= same(fused, ours)
        if i < args.ref_repeat:
            ref_dist = timed('ref_dist', reference_distance, qf, gf)
            ref = timed('ref_eval', reference_evaluate, dist, *labels,
                        ap_mode=args.ap_mode)
            identical &= same(ours, ref)
            dist_diff = max(dist_diff, float(np.abs(ref_dist - dist).max()))
    del qn, gn
    med = {k: float(np.median(v)) for k, v in times.items()}
    ours_total = float(np.median(np.add(times['dist'], times['eval'])))
    ref_total = float(
        np.median(np.add(times['ref_dist'], times['ref_eval'])))

    report = dict(
        setup=dict(
            num_query=len(qf),
            num_gallery=len(gf),
            dim=args.dim,
            signal=args.signal,
            ap_mode=args.ap_mode,
            threads=torch.get_num_threads()),
        load_average_1min=dict(before=load_before, after=os.getloadavg()[0]),
        times_s=times,
        cpu_times_s=cpu_times,
        median_s=dict(
            gemm=med['gemm'],
            ours_total=ours_total,
            ours_distance=med['dist'],
            ours_evaluation=med['eval'],
            ours_fused_total=med['fused'],
            reference_total=ref_total,
            reference_distance=med['ref_dist'],
            reference_evaluation=med['ref_eval']),
        speedup=dict(
            total=ref_total / ours_total,
            fused_total=ref_total / med['fused'],
            evaluation=med['ref_eval'] / med['eval']),
        # Ratios of runs made back to back, then their median.
        fused_vs_gemm=dict(
            wall=float(
                np.median(np.divide(times['fused'],
                                    times['gemm'][:args.repeat]))),
            cpu=float(
                np.median(
                    np.divide(cpu_times['fused'],
                              cpu_times['gemm'][:args.repeat])))),
        identical_to_reference=identical,
        fused_identical_to_dense=fused_identical,
        max_abs_distance_diff_numpy_vs_ours=dist_diff,
        metrics=summary(ours))
    print(f"bare GEMM {med['gemm']:.3f} s; fused / GEMM "
          f"{report['fused_vs_gemm']['wall']:.2f}x wall, "
          f"{report['fused_vs_gemm']['cpu']:.2f}x CPU time (load average "
          f'{load_before:.1f} before the runs)')
    print(f"ours: {ours_total:.3f} s = distances {med['dist']:.3f} s + "
          f"evaluation {med['eval']:.3f} s; fused (no dense matrix) "
          f"{med['fused']:.3f} s")
    print(f'reference: {ref_total:.3f} s = distances '
          f"{med['ref_dist']:.3f} s + evaluation {med['ref_eval']:.3f} s")
    sp = report['speedup']
    print(f"speed-up: {sp['total']:.1f}x total, {sp['fused_total']:.1f}x "
          f"fused, {sp['evaluation']:.1f}x evaluation only "
          f'(medians of {args.repeat} / {args.ref_repeat} runs)')
    print(f'identical to the reference: {identical}; fused == dense: '
          f'{fused_identical}; numpy vs torch distances differ by at most '
          f'{dist_diff:.1e}')
    print('metrics: ' + ', '.join(f'{k} {v:.4f}'
                                  for k, v in report['metrics'].items()))
    if args.rerank:
        report['rerank'] = run_rerank(qf, gf, labels, args)
        rr = report['rerank']
        print(f"re-ranking (k1=20, k2=6, lambda=0.3): {rr['time_s']:.1f} s, "
              f"peak memory +{rr['peak_extra_rss_mb']:.0f} MB (of which the "
              f"N x N float16 distances {rr['nxn_float16_mb']:.0f} MB), "
              f"mAP {rr['metrics']['mAP']:.4f}")
    if args.large_gallery:
        report['large_gallery'] = run_large_gallery(
            args, med['fused'] / len(gf))
        lg = report['large_gallery']
        print(f"{lg['num_gallery']} gallery: fused {lg['median_s']:.2f} s, "
              f"{lg['per_item_vs_mars_scale']:.2f}x the MARS-scale time per "
              f"gallery item, peak +{lg['peak_extra_rss_mb']:.0f} MB above "
              f"the features ({lg['features_mb']:.0f} MB), mAP "
              f"{lg['metrics']['mAP']:.4f}")
    if args.device:
        report['device'] = run_device(qf, gf, labels, args)
        dv = report['device']
        print(f"{dv['device']}: fused {dv['fused_median_s'] * 1e3:.1f} ms; "
              'identical to the CPU on the same distances: '
              f"{dv['identical_to_cpu_on_same_distances']}; fused == dense: "
              f"{dv['fused_identical_to_dense']}; rank_gallery identical: "
              f"{dv['rank_gallery_identical']}; tie-heavy cases identical: "
              f"{dv['ties_identical_to_cpu']}")
    if args.json:
        from mmreid_video.fileio import atomic_write
        atomic_write(json.dumps(report, indent=2).encode(), args.json)


if __name__ == '__main__':
    main()
