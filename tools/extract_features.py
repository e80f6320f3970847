# Copyright (c) mmreid_video contributors. All rights reserved.
"""Extract tracklet descriptors in resumable shards.

``python tools/extract_features.py CONFIG CHECKPOINT --data test --out DIR``

Every tracklet of the data (a split of the config's test dataset, or a
custom tracklet JSON) goes through the config's test pipeline and the
model; blocks of ``--shard-size`` tracklets become ``DIR/shard_*.npz``
files (see :mod:`mmreid_video.retrieval.feature_shards`), each written
atomically. Under torchrun (``python -m torch.distributed.run
--nproc_per_node N tools/extract_features.py ... --launcher pytorch``, as
``tools/dist_test.sh`` runs tools/test.py) rank r of W writes shards r,
r + W, ...; a restarted run (with any W) skips the shards already
complete. The folder's ``meta.json`` and every shard record the
provenance of the descriptors (checkpoint weights, model config, test
pipeline, data); a run resumes a folder only with the same provenance. A
frame whose read takes longer than the config's
``default_hooks.sample_timeout.timeout`` fails, naming it. Then
``tools/build_index.py`` turns the shards into a GalleryIndex.
"""
import argparse
import os
import os.path as osp
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from mmengine.config import Config

# The dataset class of custom tracklet JSON files.
JSON_DATASET = 'CustomVideoReIDDataset'


def build_parser(
        dict_action: Optional[type] = None) -> argparse.ArgumentParser:
    """The tool's parser; ``dict_action`` parses ``--cfg-options`` (None
    keeps the raw strings, for a first parse before the package is
    imported)."""
    parser = argparse.ArgumentParser(
        description='Extract descriptors into resumable shards',
        epilog='Under torchrun also --launcher {none,pytorch,slurm,mpi} and '
        '--local-rank.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--data',
        required=True,
        help='"test" or "train" (that split of the config\'s test dataset, '
        'with the test pipeline) or a custom tracklet JSON file')
    parser.add_argument(
        '--split',
        default='test',
        choices=['train', 'test'],
        help='split of a JSON file (test = query + gallery)')
    parser.add_argument(
        '--data-root',
        help='root of the JSON file\'s relative frame paths (default: its '
        'folder)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--shard-size', type=int, default=1000, help='tracklets per shard')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='tracklets per step (default: the '
        'config\'s test batch size)')
    parser.add_argument(
        '--num-workers',
        type=int,
        help='data workers (default: the '
        'config\'s test loader\'s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=dict_action,
        help='override config settings')
    return parser


def parse_args() -> argparse.Namespace:
    # --help is answered here, before torch and the mm* packages load.
    build_parser().parse_known_args()
    from mmreid_video.utils import CfgOptionsAction, parse_launcher_args
    parser = build_parser(CfgOptionsAction)
    args = parse_launcher_args(parser)
    if args.shard_size < 1:
        parser.error('--shard-size must be >= 1')
    return args


def dataset_cfg(cfg: 'Config', args: argparse.Namespace) -> dict:
    """The dataset to extract, with the config's test pipeline."""
    test = cfg.test_dataloader.dataset
    if args.data in ('train', 'test'):
        return dict(test, split=args.data)
    if not args.data.endswith('.json'):
        raise ValueError(f'--data must be "train", "test" or a .json file, '
                         f'got {args.data!r}')
    if not osp.isfile(args.data):
        raise FileNotFoundError(f'--data {args.data}: no such file')
    return dict(
        type=JSON_DATASET,
        ann_file=osp.abspath(args.data),
        data_root=args.data_root or osp.dirname(osp.abspath(args.data)),
        split=args.split,
        pipeline=test.pipeline)


def shard_complete(path: str, rows: range, meta: dict) -> bool:
    """Whether a shard file exists and holds exactly its tracklets; one of
    another extraction is refused (ProvenanceError), not overwritten."""
    from mmreid_video.retrieval.feature_shards import read_shard
    from mmreid_video.utils.provenance import ProvenanceError
    if not osp.exists(path):
        return False
    try:
        read_shard(path, rows, meta)
    except ProvenanceError:
        raise
    except ValueError as err:
        print(f'Recomputing {path}: {err}')
        return False
    return True


def main() -> None:
    args = parse_args()
    import torch
    import torch.distributed as torch_dist
    from mmengine.dist import get_dist_info, init_dist
    from mmengine.registry import init_default_scope

    from mmreid_video.apis import init_model
    from mmreid_video.engine.hooks.sample_timeout_hook import (sample_timeout,
                                                               watch_dataset)
    from mmreid_video.registry import DATASETS
    from mmreid_video.retrieval.feature_shards import (num_shards,
                                                       shard_arrays,
                                                       shard_path, shard_rows,
                                                       write_meta, write_shard)
    from mmreid_video.utils import (Progress, load_config,
                                    report_errors_briefly, setup_distributed,
                                    teardown_distributed)
    from mmreid_video.utils.provenance import descriptor_provenance
    report_errors_briefly()

    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.launcher != 'none':
        setup_distributed(cfg, args.launcher)
        if not torch_dist.is_initialized():  # GPUs: nccl through MMEngine
            init_dist(args.launcher)
    rank, world = get_dist_info()
    init_default_scope(cfg.get('default_scope', 'mmreid_video'))
    data_cfg = dataset_cfg(cfg, args)
    dataset = DATASETS.build(data_cfg)
    timeout = sample_timeout(cfg)
    if timeout is not None:
        watch_dataset(dataset, timeout, f'--data {args.data}')
    device = f'cuda:{os.environ.get("LOCAL_RANK", 0)}' \
        if torch.cuda.is_available() else 'cpu'
    model = init_model(cfg, args.checkpoint, device=device)
    meta = dict(
        config=osp.abspath(args.config),
        checkpoint=osp.abspath(args.checkpoint),
        data=args.data if args.data in ('train',
                                        'test') else osp.abspath(args.data),
        num_tracklets=len(dataset),
        shard_size=args.shard_size,
        provenance=descriptor_provenance(model, cfg, data_cfg['pipeline'],
                                         dataset))
    if rank == 0:
        write_meta(args.out, meta)
    if world > 1:
        torch_dist.barrier()
    if rank != 0:
        write_meta(args.out, meta)  # checks this rank sees the same data

    mine = range(rank, num_shards(meta), world)
    todo = [
        s for s in mine if
        not shard_complete(shard_path(args.out, s), shard_rows(meta, s), meta)
    ]
    if rank == 0:
        print(f'{len(dataset)} tracklets in {num_shards(meta)} shards; rank 0 '
              f'has {len(mine)}, skipping {len(mine) - len(todo)} complete')
    test_loader = cfg.test_dataloader
    loader_kwargs = dict(
        batch_size=args.batch_size or test_loader.get('batch_size', 1),
        num_workers=test_loader.get('num_workers', 0)
        if args.num_workers is None else args.num_workers)
    progress = Progress(
        sum(len(shard_rows(meta, s)) for s in todo),
        'tracklets',
        show=rank == 0)
    for shard in todo:
        rows = shard_rows(meta, shard)
        write_shard(
            shard_path(args.out, shard),
            shard_arrays(model, dataset, rows, loader_kwargs, progress),
            meta['provenance'])
    progress.close()
    if rank == 0:
        print(f'Done: {args.out} ({len(dataset)} tracklets)')
    teardown_distributed()


if __name__ == '__main__':
    main()
