# Copyright (c) mmreid_video contributors. All rights reserved.
"""Distributed training on CPU-only machines through MMEngine's launchers.

MMEngine's ``pytorch``/``slurm`` launchers call ``torch.cuda.set_device`` and
wrap the model in DDP with ``device_ids``; both fail without a GPU. We
initialise the process group with gloo ourselves (MMEngine then skips its own
``init_dist``) and select :class:`ReIDDistributedDataParallel`
(``mmreid_video/engine/model_wrappers``), which drops ``device_ids`` on CPU.
"""
import argparse
import datetime
import os
from typing import List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from .cfg_options import parse_cfg_options


def parse_launcher_args(
        parser: argparse.ArgumentParser,
        args: Optional[List[str]] = None) -> argparse.Namespace:
    """Add ``--launcher`` and ``--local-rank`` to a tool's parser and parse.

    ``torch.distributed.launch`` passes ``--local-rank``; torchrun sets
    ``LOCAL_RANK``, which is kept (else it is set from the flag).

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        args (list[str], optional): The arguments. Defaults to
            ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parsed = parser.parse_args(args)
    os.environ.setdefault('LOCAL_RANK', str(parsed.local_rank))
    return parsed


def finish_tool_args(parser: argparse.ArgumentParser,
                     args: argparse.Namespace) -> argparse.Namespace:
    """Complete the arguments of a tool that parsed them before importing
    the package (so that ``--help`` answers at once).

    ``cfg_options`` (raw ``KEY=VALUE`` items) become a dict as with
    :class:`CfgOptionsAction`; a ``local_rank`` argument sets
    ``LOCAL_RANK`` as :func:`parse_launcher_args` does.

    Args:
        parser (argparse.ArgumentParser): The tool's parser (for errors).
        args (argparse.Namespace): Its parsed arguments.

    Returns:
        argparse.Namespace: ``args``, completed in place.
    """
    if hasattr(args, 'cfg_options'):
        args.cfg_options = parse_cfg_options(args.cfg_options, parser)
    if hasattr(args, 'local_rank'):
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def init_cpu_distributed(launcher: str, timeout_s: int = 1800) -> None:
    """Initialise a gloo process group from the launcher's environment.

    Args:
        launcher (str): ``'pytorch'`` (torchrun sets RANK, WORLD_SIZE,
            MASTER_ADDR, MASTER_PORT) or ``'slurm'`` (SLURM_* variables).
        timeout_s (int): Collective timeout in seconds. Defaults to 1800.
    """
    if torch_dist.is_initialized():
        return
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise RuntimeError(
                'CPU slurm training needs MASTER_ADDR set to the first node.')
    elif launcher != 'pytorch':
        raise ValueError(
            f'launcher must be "pytorch" or "slurm" on CPU, got {launcher!r}')
    torch_dist.init_process_group(
        backend='gloo', timeout=datetime.timedelta(seconds=timeout_s))


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` (and, on CPU, the process group) for a launcher.

    On GPUs nothing changes: MMEngine initialises nccl and wraps the model
    with ``device_ids``. Without CUDA the process group is initialised with
    gloo here and the model wrapper is :class:`ReIDDistributedDataParallel`.

    Args:
        cfg (Config): The config, modified in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    # Set through attribute access: ``setdefault`` on a missing key returns
    # a converted copy, not the dict stored in the config.
    cfg.setdefault('env_cfg', {})
    cfg.env_cfg.setdefault('dist_cfg', {})
    dist_cfg = cfg.env_cfg.dist_cfg
    dist_cfg['backend'] = 'gloo'
    init_cpu_distributed(launcher, dist_cfg.get('timeout', 1800))
    wrapper_cfg = cfg.get('model_wrapper_cfg') or {}
    if wrapper_cfg.get(
            'type',
            'MMDistributedDataParallel') in ('MMDistributedDataParallel',
                                             'ReIDDistributedDataParallel'):
        wrapper_cfg['type'] = 'mmreid_video.ReIDDistributedDataParallel'
        # The Runner's own defaults when it builds the wrapper itself.
        wrapper_cfg.setdefault('broadcast_buffers', False)
        wrapper_cfg.setdefault('find_unused_parameters',
                               cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper_cfg


def teardown_distributed() -> None:
    """Wait for every rank, then destroy the process group.

    Without it each rank tears down its process group at interpreter exit.
    Ranks finish at different times (rank 0 still writes checkpoints and
    logs), and a rank exiting early with gloo's threads alive can abort
    ("terminate called without an active exception"), after which torchrun
    kills the others and the whole job fails after training succeeded.
    Call it only after a successful run: a barrier waits for every rank.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
