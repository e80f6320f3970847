# Copyright (c) mmreid_video contributors. All rights reserved.
"""The runtime requirements install one OpenCV: the one MMEngine and mmcv
require, not a second distribution of the same ``cv2`` module."""
import os.path as osp
from importlib import metadata

from packaging.requirements import Requirement

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Distributions that install the `cv2` module.
CV2_DISTS = ('opencv-python', 'opencv-python-headless',
             'opencv-contrib-python', 'opencv-contrib-python-headless')


def _cv2_dists(requirements) -> set:
    """The cv2 providers among requirement strings (extras left out)."""
    names = set()
    for text in requirements:
        req = Requirement(text)
        if req.marker is None or 'extra' not in str(req.marker):
            names.add(req.name.lower())
    return names & set(CV2_DISTS)


def test_one_opencv():
    with open(osp.join(REPO, 'requirements', 'runtime.txt')) as f:
        ours = _cv2_dists(
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip())
    upstream = set()
    for dist in ('mmengine', 'mmcv-lite', 'mmcv'):
        try:
            upstream |= _cv2_dists(metadata.requires(dist) or [])
        except metadata.PackageNotFoundError:
            continue
    assert upstream, 'MMEngine requires an OpenCV distribution'
    assert ours | upstream == {'opencv-python'}, (ours, upstream)
