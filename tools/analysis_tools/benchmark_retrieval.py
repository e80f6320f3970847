# Copyright (c) mmreid_video contributors. All rights reserved.
"""Benchmark GalleryIndex on a large identity-clustered synthetic gallery.

Builds the compressed index (IVF-PQ with exact re-scoring of a shortlist
from memory-mapped descriptors) and the exact index over ``--num``
descriptors, and reports the compressed index's memory per descriptor,
build time, queries/s and recall@10 against exact search, exact search's
queries/s, and whether exact lists equal ``mmreid_video.retrieval.search``'s
(which ranks with ``rank_gallery``). Timings are medians; the machine's
load average is recorded, since other jobs change absolute numbers.

Example:
    python tools/analysis_tools/benchmark_retrieval.py --num 1000000 \
        --dim 512 --json work_dirs/benchmark_retrieval.json
"""
import argparse
import json
import os
import resource
import time

import numpy as np

# GalleryIndex's compressed parameters settable from the command line.
INDEX_PARAMS = ('nlist', 'pq_m', 'pq_bits', 'nprobe', 'shortlist',
                'train_size')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--num', type=int, default=1_000_000, help='gallery descriptors')
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument(
        '--per-id',
        type=int,
        default=20,
        help='gallery descriptors per identity')
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument(
        '--latent-dim',
        type=int,
        default=64,
        help='dimensions along which descriptors vary')
    parser.add_argument(
        '--iso-noise',
        type=float,
        default=0.1,
        help='isotropic noise in all dimensions')
    parser.add_argument(
        '--ids-per-group',
        type=int,
        default=50,
        help='identities per group of look-alikes')
    parser.add_argument(
        '--id-spread',
        type=float,
        default=1.0,
        help='spread of identity centres around their group '
        'centre (per dimension; group centres have 1)')
    parser.add_argument(
        '--noise',
        type=float,
        default=1.1,
        help='spread of descriptors around their identity '
        'centre (per dimension)')
    parser.add_argument(
        '--num-query',
        type=int,
        default=2000,
        help='queries timed on the compressed index')
    parser.add_argument(
        '--exact-query',
        type=int,
        default=200,
        help='queries searched exactly (recall reference)')
    parser.add_argument(
        '--check-api',
        type=int,
        default=20,
        help='queries compared with retrieval.search')
    # Unset ones keep GalleryIndex's defaults.
    for key in INDEX_PARAMS:
        parser.add_argument(
            '--' + key.replace('_', '-'),
            type=int,
            help=f'compressed index {key} (default: GalleryIndex\'s)')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='faiss OpenMP threads (default: faiss default)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args()


def make_centres(num_ids: int, args, rng: np.random.Generator) -> np.ndarray:
    """Identity centres in the latent space, themselves grouped (people who
    look alike)."""
    num_groups = max(1, num_ids // args.ids_per_group)
    groups = rng.standard_normal((num_groups, args.latent_dim), np.float32)
    owner = rng.integers(0, num_groups, num_ids)
    return groups[owner] + args.id_spread * rng.standard_normal(
        (num_ids, args.latent_dim), np.float32)


def clustered(num: int, centres: np.ndarray, args,
              rng: np.random.Generator) -> tuple:
    """Descriptors around identity centres, made a block at a time: latent
    vectors mapped to ``dim`` by a fixed random projection, plus a little
    isotropic noise (trained descriptors vary along few directions).

    Returns:
        tuple: (num, D) float32 descriptors, their pids and camids.
    """
    pids = rng.integers(0, len(centres), num)
    proj = np.random.default_rng(args.seed + 1).standard_normal(
        (args.latent_dim, args.dim), np.float32) / np.sqrt(args.latent_dim)
    feats = np.empty((num, args.dim), np.float32)
    for start in range(0, num, 1 << 16):
        p = pids[start:start + (1 << 16)]
        latent = centres[p] + args.noise * rng.standard_normal(
            (len(p), args.latent_dim), np.float32)
        feats[start:start + len(p)] = latent @ proj + args.iso_noise * \
            rng.standard_normal((len(p), args.dim), np.float32)
    return feats, pids, rng.integers(0, args.num_cams, num)


def main():
    args = parse_args()
    # Imported once --help has been answered.
    from mmreid_video.retrieval import GalleryIndex, search
    from mmreid_video.retrieval.backends.faiss import import_faiss
    from mmreid_video.utils.benchmark import (load_average, machine_info,
                                              time_calls, write_report)

    faiss = import_faiss()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    load_start = load_average()
    centres = make_centres(max(1, args.num // args.per_id), args, rng)
    gallery, g_pids, g_cams = clustered(args.num, centres, args, rng)
    query, q_pids, q_cams = clustered(args.num_query, centres, args, rng)
    params = {
        key: getattr(args, key)
        for key in INDEX_PARAMS if getattr(args, key) is not None
    }
    compressed = GalleryIndex(
        args.dim, 'compressed', seed=args.seed, **params)
    start, start_cpu = time.perf_counter(), time.process_time()
    compressed.add(gallery, g_pids, g_cams)
    compressed.train()
    build_s = time.perf_counter() - start
    build_cpu_s = time.process_time() - start_cpu

    def run(index, num):
        return index.search(query[:num], 10, q_pids[:num], q_cams[:num])

    compressed.search(query[:50], 10)  # warm-up: page in what search reads
    # Median wall and CPU seconds: on a shared machine CPU time tells what
    # a run costs, wall time what it got.
    comp = time_calls(
        lambda: run(compressed, args.num_query), args.repeat, warmup=0)
    comp_s, comp_cpu = comp['median'], comp['cpu_s']['median']
    comp_idx = comp['result'][0]

    exact = GalleryIndex(args.dim)
    exact.add(gallery, g_pids, g_cams)
    del gallery
    num_exact = min(args.exact_query, args.num_query)
    ref = time_calls(lambda: run(exact, num_exact), 1, warmup=0)
    exact_s, exact_cpu = ref['median'], ref['cpu_s']['median']
    exact_idx = ref['result'][0]
    recall = np.mean([
        len(set(a) & set(b)) / 10
        for a, b in zip(comp_idx[:num_exact].numpy(), exact_idx.numpy())
    ])
    num_check = min(args.check_api, num_exact)
    # One add(): the exact index holds the normalised gallery as one part.
    api_idx, _ = search(query[:num_check], exact.backend.vectors[0], 10,
                        q_pids[:num_check], q_cams[:num_check], g_pids, g_cams)
    mismatch = int((api_idx.numpy()
                    != exact_idx[:num_check].numpy()).any(axis=1).sum())
    results = dict(
        num=args.num,
        dim=args.dim,
        bytes_per_vector=compressed.memory_bytes() / args.num,
        recall_at_10=float(recall),
        qps=args.num_query / comp_s,
        build_s=build_s,
        exact_qps=num_exact / exact_s,
        qps_per_cpu_s=args.num_query / comp_cpu,
        exact_qps_per_cpu_s=num_exact / exact_cpu,
        build_cpu_s=build_cpu_s,
        exact_lists_checked=num_check,
        exact_lists_differing_from_search=mismatch,
        compressed_params={
            k: v
            for k, v in compressed.params.items() if k != 'vectors_dir'
        },
        num_query=args.num_query,
        exact_query=num_exact,
        faiss_threads=faiss.omp_get_max_threads(),
        cpu_count=os.cpu_count(),
        loadavg_start=load_start[0] if load_start else None,
        loadavg_end=(load_average() or [None])[0],
        machine=machine_info(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(results, indent=2))
    if args.json:
        write_report(results, args.json)


if __name__ == '__main__':
    main()
