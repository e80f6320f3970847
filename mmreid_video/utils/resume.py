import os.path as osp
import re
from glob import glob
from typing import Optional


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint that ``--resume`` (without a path) continues from.

    MMEngine reads ``<work_dir>/last_checkpoint``, which it writes with a
    plain ``open`` after each save. If that write was interrupted (empty
    file) or the named file is gone, fall back to the newest complete
    ``epoch_N.pth``/``iter_N.pth`` (checkpoints themselves are written
    atomically, see :class:`AtomicLocalBackend`).

    Args:
        work_dir (str): The work directory of the run.

    Returns:
        str, optional: The checkpoint path, or None when there is none.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named

    def step(path: str) -> int:
        return int(re.search(r'_(\d+)\.pth$', path).group(1))

    candidates = [
        p for pattern in ('epoch_*.pth', 'iter_*.pth')
        for p in glob(osp.join(work_dir, pattern))
        if re.search(r'_(\d+)\.pth$', p)
    ]
    return max(candidates, key=step) if candidates else None
