# Copyright (c) mmreid_video contributors. All rights reserved.
"""Time another version of the evaluator next to this one, in one run.

Used by ``benchmark_eval.py --baseline REF``. REF is a path holding a copy
of the package (a checkout, ``site-packages``, or the ``mmreid_video``
folder itself) or a git ref of this repository, whose ``mmreid_video/`` is
extracted with ``git archive`` into a temporary folder. Each version, this
one included, runs in its own worker process (with ``PYTHONPATH`` set to
that version), on the same data passed as ``.npy`` files; the workers are
asked for one timed round at a time, in turn, so load from other jobs hits
every version alike.

The worker is ``_eval_worker.py``.
"""
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from _eval_worker import DATA_FILES  # noqa: I100 (script dir)

import mmreid_video
from mmreid_video.utils.benchmark import summarize_times

WORKER = str(Path(__file__).with_name('_eval_worker.py'))
REPO = Path(__file__).resolve().parents[2]
# A version to time: (folder holding mmreid_video/, '') or (None, commit).
Version = Tuple[Optional[Path], str]


def resolve(ref: str, repo: Path = REPO) -> Version:
    """Where version ``ref`` is: a folder, or a commit of ``repo``.

    Called before any timing, so that a wrong ``--baseline`` fails at once.

    Args:
        ref (str): A path (a folder holding ``mmreid_video/``, or the
            package folder itself) or a git ref of ``repo``.
        repo (Path): The git repository refs are resolved in. Defaults to
            this checkout.

    Returns:
        tuple: ``(folder holding mmreid_video/, '')`` for a path, or
        ``(None, commit)`` for a git ref.
    """
    path = Path(ref).expanduser()
    if path.name == 'mmreid_video' and (path / '__init__.py').is_file():
        return path.resolve().parent, ''
    if (path / 'mmreid_video' / '__init__.py').is_file():
        return path.resolve(), ''
    if path.exists():
        raise SystemExit(f'--baseline {ref}: the folder holds no '
                         'mmreid_video/__init__.py (expected a checkout, '
                         'site-packages or the package folder)')
    git = ['git', '-C', str(repo), 'rev-parse', '--verify', '--quiet']
    found = subprocess.run(
        git + [f'{ref}^{{commit}}'], capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f'--baseline {ref}: neither a folder holding '
                         f'mmreid_video/ nor a commit of the git repository '
                         f'{repo}')
    return None, found.stdout.strip()


def extract(commit: str, scratch: Path, repo: Path = REPO) -> Path:
    """``mmreid_video/`` of ``commit``, extracted into the new folder
    ``scratch`` (returned) with ``git archive``."""
    git = ['git', '-C', str(repo), 'archive', '--format=tar']
    archive = subprocess.run(
        git + [commit, 'mmreid_video'], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f'git archive of {commit} failed: '
                         f'{archive.stderr.decode(errors="replace").strip()}')
    scratch.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(scratch, filter='data')
    return scratch


class Worker:
    """One version of the package, timing rounds on request.

    The process starts (imports, loads the data, warms up) in the
    background; :meth:`wait_ready` waits for it.

    Args:
        root (Path): Folder holding that version's ``mmreid_video/``.
        data (Path): Folder of the ``DATA_FILES``.
        ap_mode (str): Passed to the evaluators.
    """

    def __init__(self, root: Path, data: Path, ap_mode: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(root))
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, WORKER,
             str(data), ap_mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env)
        self.info: Dict = {}

    def wait_ready(self) -> None:
        """Wait for the worker's first reply: what it imported, and digests
        of its results."""
        self.info = self._reply()
        imported = Path(self.info['package']).resolve().parent
        if imported.parent != self.root.resolve():
            raise SystemExit(f'The worker for {self.root} imported '
                             f'mmreid_video from {imported}: another copy '
                             'shadows PYTHONPATH (e.g. an editable install)')

    def _reply(self) -> Dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f'The worker for {self.root} exited (code '
                             f'{self.proc.wait()}); see its error above')
        return json.loads(line)

    def time_round(self) -> Dict:
        """One timed call of each evaluator: ``{name: [wall_s, cpu_s]}``."""
        self.proc.stdin.write('round\n')
        self.proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def interleaved_rounds(workers: List[Worker], rounds: int) -> List[List[Dict]]:
    """``rounds`` timed rounds of every worker, taking turns; the first to
    go rotates so that no version always runs right after another."""
    times = [[] for _ in workers]
    for i in range(rounds):
        for j in range(len(workers)):
            k = (i + j) % len(workers)
            times[k].append(workers[k].time_round())
    return times


def run_baselines(refs: Sequence[str], versions: Sequence[Version],
                  rounds: int, ap_mode: str, query_feats: np.ndarray,
                  gallery_feats: np.ndarray, distmat: np.ndarray,
                  labels: Sequence[np.ndarray]) -> List[Dict]:
    """Time this version and each of ``refs`` on the same data.

    Args:
        refs (Sequence[str]): The ``--baseline`` values (paths or git refs).
        versions (Sequence[tuple]): :func:`resolve` of each ref.
        rounds (int): Timed rounds per version.
        ap_mode (str): Passed to the evaluators.
        query_feats, gallery_feats (np.ndarray): Features (fused timing).
        distmat (np.ndarray): Their distances (rank-only timing).
        labels (Sequence[np.ndarray]): q_pids, g_pids, q_camids, g_camids.

    Returns:
        list[dict]: Per ref: ``ref``, ``package`` (the folder imported),
        ``commit`` (for a git ref), ``identical_results`` (the same mAP,
        mINP, CMC and per-query AP as this version) and, for ``rank_only``
        and ``fused``, both versions' times (min/median/max) and ``ratio``,
        the median over rounds of ours/baseline.
    """
    data = dict(
        zip(('q_pids', 'g_pids', 'q_camids', 'g_camids'), labels),
        distmat=distmat,
        query_feats=query_feats,
        gallery_feats=gallery_feats)
    workers, reports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in DATA_FILES:
            np.save(tmp / f'{name}.npy', data[name])
        roots = [Path(mmreid_video.__file__).resolve().parents[1]] + [
            root or extract(commit, tmp / f'baseline_{i}')
            for i, (root, commit) in enumerate(versions)
        ]
        try:
            for root in roots:  # started together, warmed up in parallel
                workers.append(Worker(root, tmp, ap_mode))
            for worker in workers:
                worker.wait_ready()
            times = interleaved_rounds(workers, rounds)
        finally:
            for worker in workers:
                worker.close()
    for ref, (root, commit), worker, base in zip(refs, versions, workers[1:],
                                                 times[1:]):
        entry = dict(
            ref=ref,
            package=str(root or ''),
            commit=commit,
            identical_results=worker.info['results'] ==
            workers[0].info['results'])
        for name in ('rank_only', 'fused'):
            entry[name] = dict(
                ours_s=summarize_times([r[name][0] for r in times[0]]),
                baseline_s=summarize_times([r[name][0] for r in base]),
                ratio=float(
                    np.median([
                        a[name][0] / b[name][0]
                        for a, b in zip(times[0], base)
                    ])))
        reports.append(entry)
    return reports
