# Copyright (c) mmreid_video contributors. All rights reserved.
"""tools/analysis_tools/dataset_stats.py on the shipped LS-VID and
PRID-2011 dataset configs, pointed at the fixture trees, and on a custom
JSON annotation."""
import pytest
from fixture_trees import CUSTOM_ANN, write_custom_ann
from tool_runner import REPO, load_tool

stats = load_tool('tools/analysis_tools/dataset_stats.py')


def run_stats(monkeypatch, capsys, config, root, *opts):
    monkeypatch.setattr('sys.argv', [
        'dataset_stats.py', f'{REPO}/configs/_base_/datasets/{config}',
        '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', *opts
    ])
    stats.main()
    return capsys.readouterr().out


@pytest.mark.parametrize('query_in_gallery', [False, True])
def test_lsvid_stats(lsvid_root, monkeypatch, capsys, query_in_gallery):
    out = run_stats(
        monkeypatch, capsys, 'lsvid.py', lsvid_root,
        f'test_dataloader.dataset.query_in_gallery={query_in_gallery}')
    assert out.startswith('LS-VID (')
    assert '| train | 2 | 4 | 0 | 14 | 4 | 2 | 3.5 | 5 |' in out
    assert '| test | 3 | 6 | 0 | 16 | 5 | 2 | 2.7 | 4 |' in out
    assert '| query | 2 | 2 | 0 | 6 | 2 | 3 | 3.0 | 3 |' in out
    if query_in_gallery:
        assert '| gallery | 3 | 6 | 0 | 16 | 5 | 2 | 2.7 | 4 |' in out
    else:
        assert '| gallery | 3 | 4 | 0 | 10 | 4 | 2 | 2.5 | 4 |' in out


def test_prid2011_stats(prid_root, monkeypatch, capsys):
    out = run_stats(monkeypatch, capsys, 'prid2011.py', prid_root)
    assert out.startswith('PRID-2011 (')
    # Split 0: train persons 1, 3, 5, 7; test persons 2, 4, 6, 8.
    assert '| train | 4 | 8 | 0 | 28 | 2 | 2 | 3.5 | 4 |' in out
    assert '| test | 4 | 8 | 0 | 25 | 2 | 2 | 3.1 | 4 |' in out
    assert '| query | 4 | 4 | 0 | 13 | 1 | 2 | 3.2 | 4 |' in out
    assert '| gallery | 4 | 4 | 0 | 12 | 1 | 3 | 3.0 | 3 |' in out


def test_custom_json_stats(tmp_path, capsys, monkeypatch):
    ann_file = write_custom_ann(tmp_path, CUSTOM_ANN)
    cfg = tmp_path / 'cfg.py'
    ds = (f"dict(type='CustomVideoReIDDataset', data_root='{tmp_path}', "
          f"ann_file='{ann_file}', split='{{}}', pipeline=[])")
    cfg.write_text(f"train_dataloader = dict(dataset={ds.format('train')})\n"
                   f"test_dataloader = dict(dataset={ds.format('test')})\n")
    monkeypatch.setattr('sys.argv', ['dataset_stats.py', str(cfg)])
    stats.main()
    out = capsys.readouterr().out
    assert '| train | 2 | 3 | 0 | 6 | 2 | 1 | 2.0 | 3 |' in out
    assert '| test | 3 | 4 | 0 | 9 | 3 | 1 | 2.2 | 4 |' in out
    assert '| query | 2 | 2 | 0 | 4 | 2 | 2 | 2.0 | 2 |' in out
    assert '| gallery | 3 | 3 | 0 | 7 | 2 | 1 | 2.3 | 4 |' in out
