# Copyright (c) mmreid_video contributors. All rights reserved.
"""Benchmark GalleryIndex on a large identity-clustered synthetic gallery.

Builds the compressed index (faiss: IVF-PQ with exact re-scoring of a
shortlist from memory-mapped descriptors; milvus: ``--index-type``) and the
exact index over ``--num`` descriptors, and reports the compressed index's
bytes per descriptor, build time, queries/s and recall@10 against exact
search, exact search's queries/s, and whether exact lists equal
``mmreid_video.retrieval.search``'s (which ranks with ``rank_gallery``).
With ``--backend milvus`` both are Milvus collections (the exact one FLAT)
at ``--uri`` (default: an embedded milvus-lite folder in a temporary
directory, removed afterwards), the recall reference is faiss's exact
index, and the queries/s of the camera-only and no-exclusion rules are
reported too. Timings are medians; the machine's load average is recorded,
since other jobs change absolute numbers.

Example:
    python tools/analysis_tools/benchmark_retrieval.py --num 1000000 \
        --dim 512 --json work_dirs/benchmark_retrieval.json
    python tools/analysis_tools/benchmark_retrieval.py --backend milvus \
        --index-type HNSW --num 20000 --json work_dirs/bench_milvus.json
"""
import argparse
import json
import os
import os.path as osp
import resource
import shutil
import tempfile
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
    parser.add_argument(
        '--backend',
        choices=['faiss', 'milvus'],
        default='faiss',
        help='GalleryIndex backend (the flags above are faiss\'s)')
    parser.add_argument(
        '--uri',
        help='milvus: a local .db path (embedded milvus-lite) or a server '
        'URI (default: a temporary .db, removed afterwards)')
    parser.add_argument(
        '--index-type',
        default='HNSW',
        help='milvus compressed index type (HNSW, IVF_FLAT, IVF_SQ8, '
        'IVF_PQ)')
    parser.add_argument(
        '--param',
        nargs='+',
        default=[],
        metavar='KEY=INT',
        help='milvus index parameters, e.g. M=16 ef=128 or nlist=1024 '
        'nprobe=64')
    parser.add_argument(
        '--no-flat',
        action='store_true',
        help='milvus: skip the FLAT collection (exact_qps, lists vs '
        'search)')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='faiss OpenMP threads (default: faiss default)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the results to this file')
    args = parser.parse_args()
    faiss_flags = [k for k in INDEX_PARAMS if getattr(args, k) is not None]
    if args.backend == 'milvus' and faiss_flags:
        parser.error(f'{faiss_flags} are faiss parameters; milvus takes '
                     '--param KEY=INT')
    if args.backend == 'faiss' and (args.param or args.uri):
        parser.error('--param and --uri are milvus options')
    try:
        args.param = {
            k: int(v)
            for k, v in (item.split('=', 1) for item in args.param)
        }
    except ValueError:
        parser.error(f'--param takes KEY=INT items, got {args.param}')
    return args


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


def folder_bytes(folder: str) -> int:
    """Bytes of the files under ``folder``."""
    return sum(
        osp.getsize(osp.join(root, name)) for root, _, names in os.walk(folder)
        for name in names)


def build_faiss(args, gallery, g_pids, g_cams) -> tuple:
    """The compressed faiss index, trained; its bytes in memory."""
    from mmreid_video.retrieval import GalleryIndex
    params = {
        key: getattr(args, key)
        for key in INDEX_PARAMS if getattr(args, key) is not None
    }
    index = GalleryIndex(args.dim, 'compressed', seed=args.seed, **params)
    index.add(gallery, g_pids, g_cams)
    index.train()
    return index, dict(bytes_per_vector=index.memory_bytes() / args.num)


def milvus_collection(args, name: str, gallery, g_pids, g_cams,
                      **params) -> tuple:
    """A Milvus collection of the gallery, flushed: what the engine
    keeps (the collection's folder of a local uri) and how fast it took
    the rows."""
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.utils.benchmark import rss_mb
    rss = rss_mb()
    index = GalleryIndex(
        args.dim, backend='milvus', uri=args.uri, collection=name, **params)
    start = time.perf_counter()
    index.add(gallery, g_pids, g_cams)
    insert_s = time.perf_counter() - start
    index.save()  # flush: segments written
    info = dict(
        insert_rows_per_s=args.num / insert_s,
        flush_s=time.perf_counter() - start - insert_s)
    # Indexed in the background: searches before would scan the rows.
    info['index_wait_s'] = index.backend.wait_for_index(24 * 3600)
    if index.backend.params['uri'] == osp.abspath(args.uri):  # embedded
        folder = osp.join(args.uri, 'collections', name)
        info['bytes_per_vector'] = folder_bytes(folder) / args.num
    info['rss_growth_mb'] = rss_mb() - rss
    return index, info


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
    temp = None
    if args.backend == 'milvus' and not args.uri:
        temp = tempfile.mkdtemp(prefix='benchmark_retrieval_')
        args.uri = osp.join(temp, 'gallery.db')
    rng = np.random.default_rng(args.seed)
    load_start = load_average()
    centres = make_centres(max(1, args.num // args.per_id), args, rng)
    gallery, g_pids, g_cams = clustered(args.num, centres, args, rng)
    query, q_pids, q_cams = clustered(args.num_query, centres, args, rng)
    start, start_cpu = time.perf_counter(), time.process_time()
    if args.backend == 'faiss':
        compressed, info = build_faiss(args, gallery, g_pids, g_cams)
    else:
        compressed, info = milvus_collection(
            args,
            'compressed',
            gallery,
            g_pids,
            g_cams,
            mode='compressed',
            index_type=args.index_type,
            **args.param)
    build_s = time.perf_counter() - start
    build_cpu_s = time.process_time() - start_cpu

    def run(index, num, rule='reid'):
        labels = dict(
            reid=(q_pids[:num], q_cams[:num]),
            camera=(None, q_cams[:num]),
            none=(None, None))[rule]
        return index.search(query[:num], 10, *labels)

    compressed.search(query[:50], 10)  # warm-up: page in what search reads
    # Median wall and CPU seconds: on a shared machine CPU time tells what
    # a run costs, wall time what it got.
    comp = time_calls(
        lambda: run(compressed, args.num_query), args.repeat, warmup=0)
    comp_s, comp_cpu = comp['median'], comp['cpu_s']['median']
    comp_idx = comp['result'][0]
    if args.backend == 'milvus':
        # Requests grouped by filter: one per camera, or one in all.
        info['qps_by_rule'] = {
            rule: args.num_query / time_calls(
                lambda: run(compressed, args.num_query, rule),
                args.repeat,
                warmup=0)['median']
            for rule in ('camera', 'none')
        }

    exact = GalleryIndex(args.dim)
    exact.add(gallery, g_pids, g_cams)
    num_exact = min(args.exact_query, args.num_query)
    ref = time_calls(lambda: run(exact, num_exact), 1, warmup=0)
    exact_s, exact_cpu = ref['median'], ref['cpu_s']['median']
    # The recall reference: faiss's exact lists.
    exact_idx = true_idx = ref['result'][0]
    num_check = min(args.check_api, num_exact)
    if args.backend == 'milvus' and not args.no_flat:
        flat, info['flat'] = milvus_collection(args, 'flat', gallery, g_pids,
                                               g_cams)
        ref = time_calls(lambda: run(flat, num_exact), 1, warmup=0)
        exact_s, exact_cpu = ref['median'], ref['cpu_s']['median']
        exact_idx = ref['result'][0]
        flat.close()
    del gallery
    recall = np.mean([
        len(set(a) & set(b)) / 10
        for a, b in zip(comp_idx[:num_exact].numpy(), true_idx.numpy())
    ])
    # One add(): the exact index holds the normalised gallery as one part.
    api_idx, _ = search(query[:num_check], exact.backend.vectors[0], 10,
                        q_pids[:num_check], q_cams[:num_check], g_pids, g_cams)
    mismatch = int(
        (api_idx.numpy() != exact_idx[:num_check].numpy()).any(axis=1).sum())
    params = dict(compressed.params)
    for key in ('vectors_dir', 'uri', 'token'):
        params.pop(key, None)
    compressed.close()
    if temp:
        shutil.rmtree(temp)
    results = dict(
        num=args.num,
        dim=args.dim,
        bytes_per_vector=info.pop('bytes_per_vector', None),
        recall_at_10=float(recall),
        qps=args.num_query / comp_s,
        build_s=build_s,
        exact_qps=num_exact / exact_s,
        qps_per_cpu_s=args.num_query / comp_cpu,
        exact_qps_per_cpu_s=num_exact / exact_cpu,
        build_cpu_s=build_cpu_s,
        exact_lists_checked=num_check,
        exact_lists_differing_from_search=mismatch,
        backend=args.backend,
        compressed_params=params,
        num_query=args.num_query,
        exact_query=num_exact,
        faiss_threads=faiss.omp_get_max_threads(),
        cpu_count=os.cpu_count(),
        loadavg_start=load_start[0] if load_start else None,
        loadavg_end=(load_average() or [None])[0],
        machine=machine_info(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **info)
    print(json.dumps(results, indent=2))
    if args.json:
        write_report(results, args.json)


if __name__ == '__main__':
    main()
