from .checkpoint import (mmengine_checkpoint_globals,
                         register_checkpoint_safe_globals)
from .distributed import (ReIDDistributedDataParallel, init_cpu_distributed,
                          setup_distributed)

__all__ = [
    'mmengine_checkpoint_globals', 'register_checkpoint_safe_globals',
    'ReIDDistributedDataParallel', 'init_cpu_distributed', 'setup_distributed'
]
