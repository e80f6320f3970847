# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/dataset_converters/make_synthetic_mars.py: one definition of the
synthetic data, and no write into a folder holding other files."""
import inspect
import json
import runpy
from pathlib import Path

import pytest

from mmreid_video.datasets import make_synthetic_mars

TOOL = str(
    Path(__file__).parents[2] / 'tools/dataset_converters/'
    'make_synthetic_mars.py')
SMALL = [
    '--num-train-ids', '3', '--num-test-ids', '3', '--num-cameras', '2',
    '--tracklets-per-id', '2', '2', '--frames-per-tracklet', '2', '3',
    '--num-distractors', '1', '--num-junk', '1'
]


def run(monkeypatch, *argv):
    monkeypatch.setattr('sys.argv', [TOOL, *argv])
    runpy.run_path(TOOL, run_name='__main__')


def test_defaults_are_the_generator_defaults(monkeypatch):
    monkeypatch.setattr('sys.argv', [TOOL, 'out'])
    args = vars(runpy.run_path(TOOL)['parse_args']())
    params = inspect.signature(make_synthetic_mars).parameters
    assert args.pop('out_dir') == 'out'
    assert set(args) == set(params) - {'root'}
    for name, value in args.items():
        assert tuple(value) == params[name].default if isinstance(
            value, list) else value == params[name].default, name
    # The demo data: 150 train ids, as the demo configs' num_classes.
    assert args['num_train_ids'] == 150 and args['num_test_ids'] == 40


def test_refuses_non_empty_folder_unless_overwrite(tmp_path, monkeypatch,
                                                   capsys):
    out = tmp_path / 'out'
    run(monkeypatch, str(out), *SMALL)
    assert 'Wrote 6 train and 8 test tracklets' in capsys.readouterr().out
    marker = (out / 'synthetic_mars.json').read_text()
    with pytest.raises(SystemExit, match=f'"{out}" is not empty'):
        run(monkeypatch, str(out), '--seed', '1', *SMALL)
    assert (out / 'synthetic_mars.json').read_text() == marker
    run(monkeypatch, str(out), '--seed', '1', '--overwrite', *SMALL)
    assert json.loads((out / 'synthetic_mars.json').read_text())['seed'] == 1
    (out / 'mine.txt').write_text('keep')
    with pytest.raises(SystemExit, match='did not write'):
        run(monkeypatch, str(out), '--overwrite', *SMALL)
    assert (out / 'mine.txt').read_text() == 'keep'
    assert json.loads((out / 'synthetic_mars.json').read_text())['seed'] == 1
