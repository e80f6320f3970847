# Copyright (c) mmreid_video contributors. All rights reserved.
"""Process set-up for the tools: ``--cfg-options`` parsing, distributed
launch, the work_dir lock, output path checks, config reading and checking,
mixed precision."""
from .amp import set_amp
from .cfg_options import CfgOptionsAction, parse_cfg_options
from .config_check import check_config
from .config_file import load_config
from .distributed import (finish_tool_args, init_cpu_distributed,
                          parse_launcher_args, setup_distributed,
                          teardown_distributed)
from .output_path import check_output_path
from .progress import Progress
from .tool_errors import report_errors_briefly
from .work_dir_lock import lock_work_dir

__all__ = [
    'CfgOptionsAction', 'init_cpu_distributed', 'parse_launcher_args',
    'setup_distributed', 'teardown_distributed', 'check_output_path',
    'lock_work_dir', 'load_config', 'set_amp', 'parse_cfg_options',
    'finish_tool_args', 'check_config', 'Progress', 'report_errors_briefly'
]
