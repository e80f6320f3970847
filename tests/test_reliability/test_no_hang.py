# Copyright (c) mmreid_video contributors. All rights reserved.
"""Issue 23 point 6: no read waits forever. The sample timeout of
``tools/test.py`` (``default_hooks.sample_timeout``) covers
``tools/extract_features.py`` and ``apis.extract_tracklet_features``: a
frame whose read blocks (a named pipe) fails, naming it."""
import time

import pytest
from _provenance_artefacts import checkpoint, extract, fifo_frame, tiny_config
from mmengine.registry import init_default_scope

TIMEOUT = 'default_hooks.sample_timeout.timeout=1'
# Each test waits out that 1 s timeout.
pytestmark = pytest.mark.slow


@pytest.fixture
def blocking_frame(tmp_path):
    """A copy of the tiny tree whose first test frame is a named pipe."""
    init_default_scope('mmreid_video')
    return fifo_frame(tmp_path)


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
    root, info = blocking_frame
    model = init_model(tiny_config(root, TIMEOUT), checkpoint('a'))
    with pytest.raises(OSError, match='took more than 1 s') as error:
        extract_tracklet_features(model, [info['frame_paths']])
    assert info['frame_paths'][0] in str(error.value)
