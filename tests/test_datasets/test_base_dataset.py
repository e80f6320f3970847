# Copyright (c) mmreid_video contributors. All rights reserved.
"""BaseVideoReIDDataset, through the example of docs/extending.md (run as
written: adding a dataset is one short file)."""
import re
from pathlib import Path

import pytest

from mmreid_video.datasets import BaseVideoReIDDataset
from mmreid_video.registry import DATASETS

DOC = Path(__file__).parents[2] / 'docs' / 'extending.md'


@pytest.fixture(scope='module')
def my_cams():
    """The MyCams class of the docs, registered once."""
    text = DOC.read_text().split('**With code: a dataset in its own layout')
    code = re.search(r'```python\n(.*?)```', text[1], re.S).group(1)
    namespace = {}
    exec(compile(code, str(DOC), 'exec'), namespace)
    yield namespace['MyCams']
    DATASETS.module_dict.pop('MyCams')


def make_tree(root):
    for sub, pid, cam, frames in [('train', '0007', 'cam0', 3),
                                  ('train', '0003', 'cam1', 2),
                                  ('train', '0007', 'cam1', 1),
                                  ('query', '0010', 'cam0', 2),
                                  ('gallery', '0010', 'cam1', 2),
                                  ('gallery', '0011', 'cam0', 1)]:
        folder = root / sub / pid / cam
        folder.mkdir(parents=True)
        for i in range(frames):
            (folder / f'{i:03d}.jpg').write_bytes(b'')


def test_docs_example(tmp_path, my_cams):
    make_tree(tmp_path)
    train = DATASETS.build(dict(type='MyCams', data_root=str(tmp_path)))
    assert isinstance(train, BaseVideoReIDDataset)
    got = [(d['pid'], d['ori_pid'], d['camid'], len(d['frame_paths']))
           for d in (train.get_data_info(i) for i in range(len(train)))]
    assert got == [(0, 3, 1, 2), (1, 7, 0, 3), (1, 7, 1, 1)]
    assert train.metainfo['num_ids'] == 2
    assert train.metainfo['camera_names'] == ('gate', 'hall')
    test = my_cams(str(tmp_path), split='test', lazy_init=True)
    assert len(test.data_list) == 0  # nothing loaded yet
    test.full_init()
    got = [(d['tracklet_id'], d['is_query'], d['is_gallery'])
           for d in (test.get_data_info(i) for i in range(len(test)))]
    assert got == [('query/0010/cam0', True, False),
                   ('gallery/0010/cam1', False, True),
                   ('gallery/0011/cam0', False, True)]
    assert test.metainfo == dict(
        dataset_name='MyCams',
        camera_names=('gate', 'hall'),
        split='test',
        num_ids=2)


def test_base_checks(tmp_path, my_cams):
    with pytest.raises(
            ValueError,
            match=r"MyCams: split must be one of "
            r"\('train', 'test'\), got 'val'"):
        my_cams(str(tmp_path), split='val')
    with pytest.raises(
            FileNotFoundError,
            match=r'(?s)MyCams: ".*query" '
            r'does not exist.*<pid>/cam<k>'):
        (tmp_path / 'train').mkdir()
        my_cams(str(tmp_path), split='test')
    with pytest.raises(
            ValueError,
            match=r"MyCams: the 'train' split of data_root "
            r'".*" has no tracklets'):
        my_cams(str(tmp_path))
    with pytest.raises(TypeError, match='abstract'):
        BaseVideoReIDDataset(str(tmp_path))
