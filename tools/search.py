# Copyright (c) mmreid_video contributors. All rights reserved.
"""Search a GalleryIndex with extracted query descriptors.

``python tools/search.py gallery.gidx FEATURES_DIR [--subset query]
[--topk 10] [--rule reid|camera|none] [--gallery-features DIR] [--metrics]
[--out results.json]``
(a Milvus collection: ``search.py FEATURES_DIR --backend milvus --uri
gallery.db [--collection gallery] ...``)

Prints the protocol (distance, exclusion rule, index mode and backend) and
a table of each query's top-k gallery items (``--show`` queries);
``--out`` writes every query's record: tracklet id, pid and camid (null
when unknown), preview frames, and its ranked gallery items (index row,
distance, and with ``--gallery-features`` their tracklet ids, identities
and frames), which ``tools/visualizations/vis_ranked_list.py
--search-results`` draws. ``--metrics`` adds R1/R5/R10 and mAP@k in %
(re-ID rule). Queries of unknown identity (one's own footage) are searched
with ``--rule camera`` (or ``none``).

Queries whose provenance (checkpoint weights, model config, test pipeline)
differs from the index's are refused, naming what differs, unless
``--allow-foreign-queries``; ``--gallery-features`` must be the extraction
the index was built from.
"""
import argparse
import json
import os.path as osp

# mmreid_video.retrieval.feature_shards.SUBSETS and search_results.EXCLUSION;
# written out, since the package (torch, mm*) is imported only after --help
# has been answered.
SUBSETS = ('all', 'query', 'gallery')
RULES = ('reid', 'camera', 'none')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__[__doc__.index('Prints'):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
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
        '--uri', help='milvus: the collection\'s local .db path or server URI')
    parser.add_argument(
        '--collection', default='gallery', help='milvus collection')
    parser.add_argument(
        '--out', help='JSON file of the per-query records (optional)')
    parser.add_argument('--subset', default='query', choices=SUBSETS)
    parser.add_argument('--topk', type=int, default=10)
    parser.add_argument(
        '--rule',
        default='reid',
        choices=RULES,
        help='leave out gallery items of the query\'s pid and camera '
        '(reid; needs query pids), of its camera (camera: queries of '
        'unknown identity), or nothing (none)')
    parser.add_argument(
        '--gallery-features',
        help='extraction folder the index was built from, to name the '
        'results (tracklet ids, identities, frames for figures)')
    parser.add_argument(
        '--gallery-subset',
        default='gallery',
        choices=SUBSETS,
        help='subset the index was built from')
    parser.add_argument(
        '--metrics',
        action='store_true',
        help='also compute R-n and mAP@k in %% (needs query pids)')
    parser.add_argument(
        '--show',
        type=int,
        default=20,
        help='queries printed in the table (default 20; --out holds all)')
    parser.add_argument(
        '--allow-foreign-queries',
        action='store_true',
        help='search with queries of another model, config or test '
        'pipeline than the index\'s (refused otherwise; a warning says what '
        'differs)')
    args = parser.parse_args()
    if args.show < 0:
        parser.error('--show must be >= 0')
    if args.backend == 'milvus' and args.uri and args.features is None:
        args.index, args.features = None, args.index  # FEATURES_DIR only
    if args.features is None or (args.backend == 'milvus') != bool(
            args.uri) or (args.uri and args.index):
        parser.error('give INDEX FEATURES_DIR (faiss), or FEATURES_DIR '
                     '--backend milvus --uri URI')
    return args


def main() -> None:
    args = parse_args()
    from mmreid_video.fileio import atomic_write
    from mmreid_video.retrieval import GalleryIndex, search_results
    from mmreid_video.retrieval.feature_shards import (read_provenance,
                                                       read_shards)
    from mmreid_video.utils import check_output_path
    from mmreid_video.utils.provenance import check_provenance

    # Before the index is loaded and searched.
    if args.out:
        check_output_path(args.out, '--out', suffixes=('.json', ))
    if args.uri is None:
        index, source = GalleryIndex.load(args.index), osp.abspath(args.index)
    else:
        index = GalleryIndex.load(
            args.uri, 'milvus', collection=args.collection)
        source = index.backend.location
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
            f'the index {source}',
            hint='The index was built from another extraction: its rows '
            'would be named after other tracklets. Pass the folder the '
            'index was built from.')
    query = read_shards(args.features, args.subset)
    where = f'{args.features} ({args.subset})'
    labels = search_results.rule_labels(args.rule, query, where)
    if args.metrics:
        search_results.rule_labels('reid', query,
                                   where)  # R-n and mAP need identities
    gallery = None
    if args.gallery_features:
        gallery = search_results.read_gallery(args.gallery_features,
                                              args.gallery_subset,
                                              index.ntotal)
    indices, dists = index.search(query['feats'], args.topk, *labels)
    protocol, text = search_results.search_protocol(index, args.rule,
                                                    args.topk, query,
                                                    args.metrics)
    records = search_results.query_records(query, indices.numpy(),
                                           dists.numpy(), index, gallery)
    results = dict(
        protocol=protocol,
        protocol_text=text,
        index=source,
        query_features=osp.abspath(args.features),
        query_subset=args.subset,
        gallery_features=osp.abspath(args.gallery_features)
        if args.gallery_features else None,
        gallery_subset=args.gallery_subset if args.gallery_features else None,
        topk=args.topk,
        queries=records)
    print(f'{len(records)} queries of {where} searched in {source} '
          f'({index.ntotal} gallery items)\nProtocol: {text}')
    print(search_results.results_table(records, args.show))
    if args.show < len(records):
        print(f'({args.show} of {len(records)} queries shown' +
              (f'; all in {args.out})' if args.out else '; --show N for '
               'more, --out FILE for every record)'))
    if args.metrics:
        results['metrics'] = search_results.percent_metrics(
            index.evaluate(query['feats'], query['pids'], query['camids'],
                           args.topk))
        print('Metrics (%): ' +
              ', '.join(f'{k} {v:.2f}' for k, v in results['metrics'].items()
                        if not k.startswith('num_')) +
              f' ({results["metrics"]["num_valid_queries"]} queries with a '
              'match)')
    if args.out:
        atomic_write(json.dumps(results, indent=1).encode(), args.out)
        print(f'{args.out}: the records of {len(records)} queries')


if __name__ == '__main__':
    main()
