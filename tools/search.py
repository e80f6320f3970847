# Copyright (c) mmreid_video contributors. All rights reserved.
"""Search a GalleryIndex with extracted query descriptors.

``python tools/search.py gallery.gidx FEATURES_DIR --out results.json
[--subset query] [--topk 10] [--rule reid|camera|none] [--metrics]``
(a Milvus collection: ``search.py FEATURES_DIR --backend milvus --uri
gallery.db [--collection gallery] --out ...``)

Writes, per query, its tracklet id and the top-k gallery rows (and their
distances; -1 / inf padding); ``--gallery-features`` adds the gallery
tracklet ids. ``--metrics`` adds R1/R5/R10 and mAP@k (re-ID rule).
"""
import argparse
import json

# mmreid_video.retrieval.feature_shards.SUBSETS; written out, since the
# package (torch, mm*) is imported only after --help has been answered.
SUBSETS = ('all', 'query', 'gallery')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'index',
        nargs='?',
        help='file written by tools/build_index.py (faiss)')
    parser.add_argument(
        'features',
        nargs='?',
        help='output folder of '
        'tools/extract_features.py holding the queries')
    parser.add_argument(
        '--backend',
        choices=['faiss', 'milvus'],
        default='faiss',
        help='search engine of the gallery (milvus: a collection at --uri)')
    parser.add_argument(
        '--uri',
        help='milvus: the collection\'s local .db path or server URI')
    parser.add_argument(
        '--collection', default='gallery', help='milvus collection')
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--subset', default='query', choices=SUBSETS)
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument(
        '--rule',
        default='reid',
        choices=['reid', 'camera', 'none'],
        help='leave out gallery items of the query\'s pid and camera '
        '(reid), of its camera (camera), or nothing (none)')
    parser.add_argument(
        '--gallery-features',
        help='extraction folder the index was built from (its gallery '
        'subset), to name the results')
    parser.add_argument(
        '--gallery-subset',
        default='gallery',
        choices=SUBSETS,
        help='subset the index was built from')
    parser.add_argument(
        '--metrics', action='store_true', help='also compute R-n, mAP@k')
    args = parser.parse_args()
    if args.backend == 'milvus' and args.uri and args.features is None:
        args.index, args.features = None, args.index  # FEATURES_DIR only
    if args.features is None or (args.backend == 'milvus') != bool(
            args.uri) or (args.uri and args.index):
        parser.error('give INDEX FEATURES_DIR (faiss), or FEATURES_DIR '
                     '--backend milvus --uri URI')
    return args


def main() -> None:
    args = parse_args()
    import numpy as np

    from mmreid_video.fileio import atomic_write
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import read_shards
    from mmreid_video.utils import check_output_path

    # Before the index is loaded and searched.
    check_output_path(args.out, '--out', suffixes=('.json', ))
    index = GalleryIndex.load(args.index) if args.uri is None else \
        GalleryIndex.load(args.uri, 'milvus', collection=args.collection)
    query = read_shards(args.features, args.subset)
    labels = dict(
        reid=(query['pids'], query['camids']),
        camera=(None, query['camids']),
        none=(None, None))[args.rule]
    indices, dists = index.search(query['feats'], args.topk, *labels)
    results = dict(
        query_tracklet_ids=query['tracklet_ids'].tolist(),
        indices=indices.tolist(),
        distances=np.where(np.isinf(dists.numpy()), None,
                           dists.numpy()).tolist())
    if args.gallery_features:
        names = read_shards(args.gallery_features,
                            args.gallery_subset)['tracklet_ids']
        if len(names) != index.ntotal:
            raise ValueError(f'{args.gallery_features} has {len(names)} '
                             f'gallery tracklets, the index {index.ntotal}')
        results['gallery_tracklet_ids'] = [[
            names[i] if i >= 0 else None for i in row
        ] for row in indices.tolist()]
    if args.metrics:
        results['metrics'] = index.evaluate(query['feats'], query['pids'],
                                            query['camids'], args.topk)
        print(json.dumps(results['metrics']))
    # Written whole, then renamed: an earlier result is never half-lost.
    atomic_write(json.dumps(results).encode(), args.out)
    print(f'{args.out}: top-{args.topk} of {len(indices)} queries')


if __name__ == '__main__':
    main()
