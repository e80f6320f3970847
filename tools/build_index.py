# Copyright (c) mmreid_video contributors. All rights reserved.
"""Build a GalleryIndex file from the shards of tools/extract_features.py.

``python tools/build_index.py FEATURES_DIR --out gallery.gidx
[--subset gallery] [--mode compressed --param nlist=4096 nprobe=256]``

Rows of the index are the selected tracklets in dataset order (the order
of ``read_shards``), with their pids and camids. ``--backend milvus --uri
gallery.db`` writes them to a Milvus collection instead (a local ``.db``:
the embedded milvus-lite; ``http://host:19530``: a server), numbered on
from the rows it holds with ``--append``. The index records the
extraction's provenance (checkpoint weights, model config, test pipeline,
data); shards of another extraction or dimension in the folder, a template
of another model and merges of indexes of different models are refused.

A compressed gallery built apart (one index per machine or extraction) is
trained once and merged without encoding again:

    # train the coarse quantizer and PQ once, on a sample: an empty template
    build_index.py SAMPLE_FEATURES --out trained.gidx --mode compressed \\
        --train-only
    # every shard encodes with it
    build_index.py FEATURES_K --out shard_K.gidx --trained trained.gidx
    # join the encoded lists (shards of different trainings are refused)
    build_index.py --merge shard_*.gidx --out gallery.gidx
"""
import argparse
import time
from typing import Optional

# mmreid_video.retrieval.feature_shards.SUBSETS; written out, since the
# package (torch, mm*) is imported only after --help has been answered.
SUBSETS = ('all', 'query', 'gallery')


def build_parser(
        dict_action: Optional[type] = None) -> argparse.ArgumentParser:
    """The tool's parser; ``dict_action`` parses ``--param`` (None keeps
    the raw strings, for a first parse before the package is imported)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__[__doc__.index('A compressed gallery'):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'features',
        nargs='?',
        help='output folder of tools/extract_features.py (not with --merge)')
    parser.add_argument('--out', help='index file to write (faiss)')
    parser.add_argument(
        '--backend',
        choices=['faiss', 'milvus'],
        default='faiss',
        help='search engine (milvus: a collection at --uri)')
    parser.add_argument(
        '--uri',
        help='milvus: a local path ending in .db (embedded milvus-lite) or '
        'a server URI such as http://localhost:19530')
    parser.add_argument(
        '--collection', default='gallery', help='milvus collection to create')
    parser.add_argument(
        '--append',
        action='store_true',
        help='milvus: add to the existing collection (e.g. one run per '
        'extraction folder)')
    parser.add_argument(
        '--subset',
        default='gallery',
        choices=SUBSETS,
        help='tracklets to index (gallery/query need a test split)')
    parser.add_argument(
        '--mode',
        choices=['exact', 'compressed'],
        help='index mode (default: exact; with --trained, the template\'s)')
    parser.add_argument(
        '--param',
        nargs='+',
        action=dict_action,
        default={},
        help='GalleryIndex parameters, e.g. nlist=4096 nprobe=256')
    parser.add_argument(
        '--train-only',
        action='store_true',
        help='train a compressed index on the descriptors (a sample of the '
        'gallery) and write it empty: the template of --trained')
    parser.add_argument(
        '--trained',
        metavar='FILE',
        help='encode with the training of this template (written by '
        '--train-only), so the index merges with its other shards without '
        'encoding again')
    parser.add_argument(
        '--merge',
        nargs='+',
        metavar='FILE',
        help='index files to join into --out, rows in the given order')
    parser.add_argument(
        '--retrain',
        action='store_true',
        help='with --merge: train the result afresh over all descriptors '
        '(needed for shards of different trainings)')
    return parser


def parse_args() -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args()  # --help exits here, before the imports
    if (args.features is None) == (args.merge is None):
        parser.error('give either FEATURES_DIR or --merge FILE ...')
    if args.backend == 'milvus':
        if not args.uri or args.out:
            parser.error('--backend milvus writes to --uri (not --out)')
        if args.merge or args.trained or args.train_only:
            parser.error('--merge, --trained and --train-only are faiss\'s; '
                         'milvus writers add to one collection (--append)')
        if args.append and args.mode:
            parser.error('--append takes the collection\'s mode: no --mode')
    elif not args.out or args.uri or args.append:
        parser.error('faiss writes an index file: --out (no --uri, '
                     '--append)')
    if args.merge and (args.trained or args.train_only or args.mode
                       or args.param):
        parser.error('--merge takes the shards\' settings: no --trained, '
                     '--train-only, --mode or --param')
    if args.retrain and not args.merge:
        parser.error('--retrain goes with --merge')
    if args.trained and (args.train_only or args.mode or args.param):
        parser.error('--trained takes the template\'s settings: no '
                     '--train-only, --mode or --param')
    if args.train_only and args.mode != 'compressed':
        parser.error('--train-only needs --mode compressed')
    from mmreid_video.utils import CfgOptionsAction
    return build_parser(CfgOptionsAction).parse_args()


def load_template(path: str):
    """A trained, empty compressed index to encode a shard with."""
    from mmreid_video.retrieval import GalleryIndex
    index = GalleryIndex.load(path)
    if index.mode != 'compressed' or not index.backend.is_trained or \
            index.ntotal:
        raise ValueError(
            f'--trained {path}: expected a trained, empty compressed index '
            '(written by build_index.py --train-only), got a '
            f'{"trained" if index.backend.is_trained else "untrained"} '
            f'{index.mode} index of {index.ntotal} descriptors')
    return index


def build_milvus(args: argparse.Namespace) -> None:
    """Add the tracklets to a Milvus collection (created unless
    ``--append``) and flush it."""
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import (read_provenance,
                                                       read_shards)
    from mmreid_video.utils.provenance import (DESCRIPTOR_PARTS,
                                               check_provenance)

    start = time.perf_counter()
    shards = read_shards(args.features, args.subset)
    provenance = read_provenance(args.features)
    where = dict(backend='milvus', collection=args.collection)
    if args.append:
        index = GalleryIndex.load(args.uri, **where, **args.param)
    else:
        index = GalleryIndex(
            shards['feats'].shape[1],
            args.mode or 'exact',
            uri=args.uri,
            **where,
            **args.param)
    with index:
        if args.append and index.ntotal:
            # Before a row is added: one collection, one model.
            check_provenance(
                provenance,
                index.provenance,
                args.features,
                index.backend.location,
                DESCRIPTOR_PARTS,
                hint='A collection holds the descriptors of one model: '
                'add these to another collection.')
        known = shards['pid_known'].all()  # see main()
        index.add(shards['feats'], shards['pids'] if known else None,
                  shards['camids'])
        index.provenance = provenance
        index.save()
        print(f'{index.backend.location}: {len(shards["feats"])} '
              f'{args.subset} tracklets added ({index.ntotal} in all), '
              f'{index.mode} mode ({index.params["index_type"]}), in '
              f'{time.perf_counter() - start:.1f}s')


def main() -> None:
    args = parse_args()
    from mmreid_video.retrieval import GalleryIndex
    from mmreid_video.retrieval.feature_shards import (read_provenance,
                                                       read_shards)
    from mmreid_video.utils import check_output_path
    from mmreid_video.utils.provenance import (DESCRIPTOR_PARTS,
                                               check_provenance)

    if args.backend == 'milvus':
        build_milvus(args)
        return
    # Before the shards are read and the index is trained.
    check_output_path(args.out, '--out')
    start = time.perf_counter()
    if args.merge:
        index = GalleryIndex.merge([GalleryIndex.load(p) for p in args.merge],
                                   retrain=args.retrain)
        what = f'from {len(args.merge)} index files'
    else:
        shards = read_shards(args.features, args.subset)
        provenance = read_provenance(args.features)
        if args.trained:
            index = load_template(args.trained)
            check_provenance(
                provenance,
                index.provenance,
                args.features,
                f'the template {args.trained}',
                DESCRIPTOR_PARTS,
                hint='A training on another model\'s descriptors encodes '
                'these as noise: train a template on a sample of this '
                'model\'s descriptors (--train-only).')
        else:
            index = GalleryIndex(shards['feats'].shape[1], args.mode
                                 or 'exact', **args.param)
        # Pids of unknown identities (one's own footage) are placeholders:
        # such a gallery holds no pids, so the re-ID rule is refused on it.
        known = shards['pid_known'].all()
        if args.train_only:
            index.train(shards['feats'])
        else:
            index.add(shards['feats'], shards['pids'] if known else None,
                      shards['camids'])
        index.provenance = provenance
        what = f'{args.subset} tracklets' + ('' if known else (
            f' ({(~shards["pid_known"]).sum()} of unknown identity: the '
            'index holds no pids, search it with --rule camera or none)'))
    if index.mode == 'compressed' and not index.backend.is_trained:
        index.train()
    index.save(args.out)
    took = f'in {time.perf_counter() - start:.1f}s'
    if args.train_only:
        print(f'{args.out}: a trained template (training '
              f'{index.backend.training_id}), trained on '
              f'{len(shards["feats"])} {args.subset} descriptors {took}')
        return
    print(f'{args.out}: {index.ntotal} {what}, {index.mode} mode, '
          f'{index.memory_bytes() / max(index.ntotal, 1):.0f} bytes each in '
          f'memory, built {took}')


if __name__ == '__main__':
    main()
