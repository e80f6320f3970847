"""Process set-up for the tools: ``--cfg-options`` parsing, distributed
launch, the work_dir lock and output path checks."""
from .cfg_options import CfgOptionsAction
from .distributed import (init_cpu_distributed, setup_distributed,
                          teardown_distributed)
from .output_path import check_output_path
from .work_dir_lock import lock_work_dir

__all__ = [
    'CfgOptionsAction', 'init_cpu_distributed', 'setup_distributed',
    'teardown_distributed', 'check_output_path', 'lock_work_dir'
]
