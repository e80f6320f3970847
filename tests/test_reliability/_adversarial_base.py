# Copyright (c) mmreid_video contributors. All rights reserved.
"""The case table machinery and the fixtures of the adversarial cases.

A table of bad inputs fed to the public surfaces, each classified.

Every case runs a callable on a fresh temporary folder and states what a
good answer is: an error whose message names the culprit (``err``) or a
correct result (``ok``). :func:`classify` sorts the outcome into the five
classes of issue 17:

- ``clear``: an error naming the culprit (all expected fragments present);
- ``handled``: no error, and the result passes the case's check;
- ``unclear``: an error whose message lacks the culprit, or an error where
  a result was expected;
- ``silent``: no error where one was expected, or a wrong result;
- ``hung``: the call ran past the time limit.

``test_adversarial.py`` asserts every case is ``clear`` or ``handled``;
``python tests/test_reliability/adversarial_cases.py`` prints the table.
"""
import json
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional, Tuple

import numpy as np
from fixture_trees import TINY_MARS
from scipy.io import savemat


class Case(NamedTuple):
    """One bad input: ``run(tmp)`` and what a good answer is."""
    surface: str
    name: str
    run: Callable[[Path], object]
    # Fragments the error must contain (``{tmp}`` is the case folder), or
    # None when the call must succeed.
    fragments: Optional[Tuple[str, ...]]
    # For ``fragments=None``: a check of the result.
    check: Optional[Callable[[object], bool]] = None
    # Runs a tool in a subprocess (or trains): in the slow tier of the tests.
    slow: bool = False


CASES: List[Case] = []


def err(surface: str, name: str, *fragments: str, slow: bool = False):
    """Register ``run`` as a case whose error must contain ``fragments``
    (``slow``: it starts a tool process or trains)."""

    def wrap(run):
        CASES.append(Case(surface, name, run, tuple(fragments), slow=slow))
        return run

    return wrap


def ok(surface: str,
       name: str,
       check: Callable[[object], bool],
       slow: bool = False):
    """Register ``run`` as a case that must succeed and pass ``check``
    (``slow``: it starts a tool process or trains)."""

    def wrap(run):
        CASES.append(Case(surface, name, run, None, check, slow=slow))
        return run

    return wrap


def classify(case: Case, timeout: int = 60) -> Tuple[str, str]:
    """Run ``case`` in a fresh folder; return (class, message)."""

    def alarm(signum, frame):
        raise TimeoutError('__adversarial_timeout__')

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(timeout)
    tmp = Path(tempfile.mkdtemp(prefix='adv_'))
    try:
        result = case.run(tmp)
    except Exception as e:  # noqa: BLE001 -- every error is classified
        msg = f'{type(e).__name__}: {e}'
        if '__adversarial_timeout__' in msg:
            return 'hung', f'ran past {timeout} s'
        if case.fragments is None:
            return 'unclear', msg
        missing = [
            f for f in case.fragments if f.format(tmp=tmp) not in str(e)
        ]
        if missing:
            return 'unclear', f'{msg} (lacks {missing})'
        return 'clear', msg
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        shutil.rmtree(tmp, ignore_errors=True)
    if case.fragments is not None:
        return 'silent', f'no error; returned {str(result)[:120]}'
    if not case.check(result):
        return 'silent', f'wrong result {str(result)[:120]}'
    return 'handled', str(result)[:120]


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
_MARS_TEMPLATE: List[Path] = []


def mars(tmp: Path) -> Path:
    """The tests' tiny synthetic MARS tree copied into ``tmp/mars``."""
    from mmreid_video.datasets import make_synthetic_mars
    if not _MARS_TEMPLATE:
        root = Path(tempfile.mkdtemp(prefix='adv_mars_')) / 'mars'
        make_synthetic_mars(str(root), **TINY_MARS)
        _MARS_TEMPLATE.append(root)
    dst = tmp / 'mars'
    shutil.copytree(_MARS_TEMPLATE[0], dst)
    return dst


def build_mars(root: Path, split: str = 'train', **kwargs):
    from mmreid_video.datasets import MARS
    return MARS(str(root), split=split, **kwargs)


DUKE_TREE = {
    ('train', '0001', '0001'): ['0001C6F0001X1.jpg', '0001C6F0002X1.jpg'],
    ('train', '0004', '0005'): ['0004C8F0001X1.jpg'],
    ('query', '0002', '0001'): ['0002C1F0010X2.jpg'],
    ('gallery', '0002', '0003'): ['0002C3F0001X5.jpg'],
}


def dukev(tmp: Path, tree=None) -> Path:
    for (sub, pid, trk), names in (tree or DUKE_TREE).items():
        folder = tmp / sub / pid / trk
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_bytes(b'')
    return tmp


def build_duke(root: Path, split='train'):
    from mmreid_video.datasets import DukeMTMCVideoReID
    return DukeMTMCVideoReID(str(root), split=split)


ILIDS_PERSONS = ['person001', 'person002', 'person005', 'person007']
ILIDS_SPLIT = np.array([[3, 1, 2, 4], [2, 4, 1, 3]], dtype=float)


def ilids(tmp: Path, ls_set=ILIDS_SPLIT) -> Path:
    for cam in ('cam1', 'cam2'):
        for person in ILIDS_PERSONS:
            folder = tmp / 'i-LIDS-VID/sequences' / cam / person
            folder.mkdir(parents=True)
            for frame in (1, 2):
                (folder / f'{cam}_{person}_{frame}.png').write_bytes(b'')
    splits = tmp / 'train-test people splits'
    splits.mkdir()
    if ls_set is not None:
        savemat(splits / 'train_test_splits_ilidsvid.mat', {'ls_set': ls_set})
    return tmp


ILIDS_MAT = 'train-test people splits/train_test_splits_ilidsvid.mat'


def build_ilids(root: Path, split='train', **kwargs):
    from mmreid_video.datasets import iLIDSVID
    return iLIDSVID(str(root), split=split, **kwargs)


def tracklet(pid, camid, n, name):
    return dict(
        pid=pid,
        camid=camid,
        tracklet_id=name,
        frame_paths=[f'{name}/{i}.jpg' for i in range(n)])


CUSTOM_ANN = dict(
    train=[tracklet(1, 0, 2, 't/1a'),
           tracklet(2, 1, 2, 't/2a')],
    query=[tracklet(3, 0, 2, 'q/3')],
    gallery=[tracklet(3, 1, 2, 'g/3'),
             tracklet(4, 0, 1, 'g/4')])


def custom(tmp: Path, ann=None, text: Optional[bytes] = None) -> Path:
    path = tmp / 'ann.json'
    if text is not None:
        path.write_bytes(text)
    else:
        path.write_text(json.dumps(CUSTOM_ANN if ann is None else ann))
    return tmp


def build_custom(root: Path, split='train'):
    from mmreid_video.datasets import CustomVideoReIDDataset
    return CustomVideoReIDDataset(
        ann_file='ann.json', data_root=str(root), split=split)


def custom_with(key: str, index: int, **changes) -> dict:
    ann = json.loads(json.dumps(CUSTOM_ANN))
    ann[key][index].update(changes)
    return ann


def custom_without(key: str, index: int, field: str) -> dict:
    ann = json.loads(json.dumps(CUSTOM_ANN))
    del ann[key][index][field]
    return ann


def lsvid(tmp: Path) -> Path:
    from fixture_trees import make_lsvid_tree
    return make_lsvid_tree(tmp)


def prid(tmp: Path) -> Path:
    from fixture_trees import make_prid_tree
    return make_prid_tree(tmp)
