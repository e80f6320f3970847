"""A tiny MARS-layout dataset for end-to-end tool runs."""
import pytest

from mmreid_video.datasets import make_synthetic_mars


@pytest.fixture(scope='session')
def tiny_mars_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('tiny_mars'))
    make_synthetic_mars(
        root,
        seed=1,
        num_train_ids=8,
        num_test_ids=6,
        tracklets_per_id=(2, 3),
        frames_per_tracklet=(4, 8),
        num_distractors=2,
        num_junk=2)
    return root

