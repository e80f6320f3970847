# Copyright (c) mmreid_video contributors. All rights reserved.
"""Search a GalleryIndex with extracted query descriptors.

``python tools/search.py gallery.gidx FEATURES_DIR --out results.json
[--subset query] [--topk 10] [--rule reid|camera|none] [--metrics]``

Writes, per query, its tracklet id and the top-k gallery rows (and their
distances; -1 / inf padding); ``--gallery-features`` adds the gallery
tracklet ids. ``--metrics`` adds R1/R5/R10 and mAP@k (re-ID rule).

Queries whose provenance (checkpoint weights, model config, test pipeline)
differs from the index's are refused, naming what differs, unless
``--allow-foreign-queries``; ``--gallery-features`` must be the extraction
the index was built from.
"""
import argparse
import json

# mmreid_video.retrieval.feature_shards.SUBSETS; written out, since the
# package (torch, mm*) is imported only after --help has been answered.
SUBSETS = ('all', 'query', 'gallery')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('index', help='file written by tools/build_index.py')
    parser.add_argument(
        'features',
        help='output folder of '
        'tools/extract_features.py holding the queries')
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
    parser.add_argument(
        '--allow-foreign-queries',
        action='store_true',
        help='search with queries of another model, config or test '
        'pipeline than the index\'s (refused otherwise; a warning says what '
        'differs)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import numpy as np

    from mmreid_video.fileio import atomic_write
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import (read_provenance,
                                                       read_shards)
    from mmreid_video.utils import check_output_path
    from mmreid_video.utils.provenance import check_provenance

    # Before the index is loaded and searched.
    check_output_path(args.out, '--out', suffixes=('.json', ))
    index = GalleryIndex.load(args.index)
    foreign = index.check_queries(
        read_provenance(args.features), f'the queries {args.features}',
        args.allow_foreign_queries)
    if foreign:
        print(f'Warning (--allow-foreign-queries): {foreign}')
    if args.gallery_features:
        check_provenance(
            read_provenance(args.gallery_features),
            index.provenance,
            f'--gallery-features {args.gallery_features}',
            f'the index {args.index}',
            hint='The index was built from another extraction: its rows '
            'would be named after other tracklets. Pass the folder the '
            'index was built from.')
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
