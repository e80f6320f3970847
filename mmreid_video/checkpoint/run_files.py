# Copyright (c) mmreid_video contributors. All rights reserved.
"""A training never takes over the checkpoints of another run.

MMEngine writes ``epoch_N.pth`` / ``iter_N.pth``, ``best_*.pth`` and the
``last_checkpoint`` pointer into the work_dir and replaces whatever is there:
a second training started into the same work_dir (the default work_dir is
named after the config) silently overwrites the first one's checkpoints, or
leaves a mix of both runs where ``--resume`` later picks the wrong one.
:func:`claim_work_dir` lets a training write into a work_dir only when the
checkpoints there are its own: none at all, or those of the run it resumes.
``--overwrite`` deletes another run's checkpoints first, so nothing of it
mixes with the new run.
"""
import os
import os.path as osp
from glob import escape, glob
from typing import List, Optional

# What a run writes into its work_dir besides its timestamped log folders.
RUN_FILE_PATTERNS = ('epoch_*.pth', 'iter_*.pth', 'best_*.pth',
                     'last_checkpoint')


def run_files(work_dir: str) -> List[str]:
    """The checkpoint files a training left in ``work_dir``.

    Args:
        work_dir (str): The work directory (may be missing).

    Returns:
        list[str]: Their names, sorted.
    """
    return sorted({
        osp.basename(path)
        for pattern in RUN_FILE_PATTERNS
        for path in glob(osp.join(escape(work_dir), pattern))
    })


def _inside(path: str, folder: str) -> bool:
    return osp.dirname(osp.realpath(path)) == osp.realpath(folder)


def claim_work_dir(work_dir: str,
                   resume_from: Optional[str] = None,
                   overwrite: bool = False) -> List[str]:
    """Check that a training may write its checkpoints into ``work_dir``.

    A new training (``resume_from`` None), and a resume from a checkpoint
    outside ``work_dir``, may only start where no other run left
    checkpoints; a resume from a checkpoint of ``work_dir`` continues the
    run that wrote them. Call it holding the work_dir lock
    (:func:`mmreid_video.utils.lock_work_dir`).

    Args:
        work_dir (str): The work directory of the new training.
        resume_from (str, optional): The checkpoint a resume continues from.
            Defaults to None (a new run).
        overwrite (bool): Delete another run's checkpoints instead of
            refusing. Defaults to False.

    Returns:
        list[str]: The files deleted by ``overwrite``.

    Raises:
        ValueError: ``overwrite`` with a resume from ``work_dir`` itself:
            that would delete the checkpoint the resume continues from.
        FileExistsError: ``work_dir`` holds another run's checkpoints; the
            message names them and the ways out.
    """
    resumes_here = resume_from is not None and _inside(resume_from, work_dir)
    if resumes_here:
        if overwrite:
            raise ValueError(
                f'--overwrite deletes the checkpoints of {work_dir}, among '
                f'them {resume_from}, which --resume continues from. Pass '
                'one of the two.')
        return []
    found = run_files(work_dir)
    if not found:
        return []
    if overwrite:
        for name in found:
            os.remove(osp.join(work_dir, name))
        return [osp.join(work_dir, name) for name in found]
    what = ('A new training' if resume_from is None else
            f'Resuming from {resume_from}, a checkpoint of another folder,')
    raise FileExistsError(
        f'work_dir {work_dir} holds the checkpoints of another run: '
        f'{", ".join(found)}. {what} would replace them. Continue that run '
        'with --resume, train into a new --work-dir, or pass --overwrite to '
        'delete them first.')
