# Copyright (c) mmreid_video contributors. All rights reserved.
"""Issue 23 point 6: no read waits forever. The sample timeout of
``tools/test.py`` (``default_hooks.sample_timeout``) covers
``tools/extract_features.py`` and ``apis.extract_tracklet_features``: a
frame whose read blocks (a named pipe) fails, naming it."""
import os
import shutil
import time

import pytest
from _adversarial_provenance import checkpoint, data_root, extract, options
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tool_runner import DEMO_CONFIG

from mmreid_video.datasets import MARS

TIMEOUT = 'default_hooks.sample_timeout.timeout=1'


@pytest.fixture
def blocking_frame(tmp_path):
    """A copy of the tiny tree whose first test frame is a named pipe."""
    init_default_scope('mmreid_video')
    root = tmp_path / 'mars'
    shutil.copytree(data_root(), root)
    info = MARS(str(root), split='test').get_data_info(0)
    os.remove(info['frame_paths'][0])
    os.mkfifo(info['frame_paths'][0])
    return root, info


@pytest.mark.timeout(60)
def test_extract_features_names_a_blocking_frame(tmp_path, blocking_frame):
    root, info = blocking_frame
    start = time.monotonic()
    with pytest.raises(OSError) as error:
        extract(checkpoint('a'), tmp_path / 'out', root, TIMEOUT)
    assert time.monotonic() - start < 60
    assert 'took more than 1 s' in str(error.value)
    assert info['frame_paths'][0] in str(error.value)
    assert info['tracklet_id'] in str(error.value)


@pytest.mark.timeout(60)
def test_extract_tracklet_features_names_a_blocking_frame(blocking_frame):
    from mmreid_video.apis import extract_tracklet_features, init_model
    from mmreid_video.utils import parse_cfg_options
    root, info = blocking_frame
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(parse_cfg_options(options(root, TIMEOUT)))
    model = init_model(cfg, checkpoint('a'))
    with pytest.raises(OSError, match='took more than 1 s') as error:
        extract_tracklet_features(model, [info['frame_paths']])
    assert info['frame_paths'][0] in str(error.value)
