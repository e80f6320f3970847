from .atomic_backend import AtomicLocalBackend
from .checkpoint import (mmengine_checkpoint_globals,
                         register_checkpoint_safe_globals)
from .checkpoint_loading import load_from_local
from .distributed import (ReIDDistributedDataParallel, init_cpu_distributed,
                          setup_distributed, teardown_distributed)
from .resume import find_resume_checkpoint

__all__ = [
    'AtomicLocalBackend', 'mmengine_checkpoint_globals',
    'register_checkpoint_safe_globals', 'load_from_local',
    'ReIDDistributedDataParallel', 'init_cpu_distributed', 'setup_distributed',
    'teardown_distributed', 'find_resume_checkpoint'
]
