# Copyright (c) mmreid_video contributors. All rights reserved.
"""Adversarial cases of the command-line tools, run in this process (their
``main`` under a patched ``sys.argv``) so that each costs no interpreter
start; every case fails before a Runner trains or tests."""
import contextlib

import torch
from _adversarial_base import err, mars, ok
from _adversarial_models import tiny_model
from tool_runner import DEMO_CONFIG
from tool_runner import run_tool_main as run_main


def _ckpt(tmp):
    path = tmp / 'model.pth'
    torch.save(dict(state_dict=tiny_model().state_dict()), path)
    return str(path)


@err('tools', 'train.py: missing config', '{tmp}/none.py')
def _(tmp):
    run_main('tools/train.py', str(tmp / 'none.py'))


@err('tools', 'train.py: config syntax error', '{tmp}/bad.py')
def _(tmp):
    (tmp / 'bad.py').write_text("_base_ = ['x.py']\nmodel = dict(\n")
    run_main('tools/train.py', str(tmp / 'bad.py'))


@err('tools', 'train.py: _base_ file missing', 'nope.py')
def _(tmp):
    (tmp / 'c.py').write_text("_base_ = ['nope.py']\n")
    run_main('tools/train.py', str(tmp / 'c.py'))


@err('tools', 'train.py: --cfg-options without =', 'max_epochs')
def _(tmp):
    run_main('tools/train.py', DEMO_CONFIG, '--cfg-options', 'max_epochs')


@err('tools', 'train.py: --cfg-options bad dict(...)', 'dict(a=')
def _(tmp):
    run_main('tools/train.py', DEMO_CONFIG, '--cfg-options', 'x=dict(a=')


@err('tools', 'train.py: --resume missing file', '{tmp}/x.pth')
def _(tmp):
    run_main('tools/train.py', DEMO_CONFIG, '--work-dir', str(tmp), '--resume',
             str(tmp / 'x.pth'))


@err('tools', 'test.py: --out with a wrong suffix', '.pkl')
def _(tmp):
    run_main('tools/test.py', DEMO_CONFIG, _ckpt(tmp), '--out',
             str(tmp / 'r.txt'))


@err('tools', 'test.py: --out is a folder', '{tmp}')
def _(tmp):
    (tmp / 'd.pkl').mkdir()
    run_main('tools/test.py', DEMO_CONFIG, _ckpt(tmp), '--out',
             str(tmp / 'd.pkl'))


@err('tools', 'make_synthetic_mars.py: --overwrite of a MARS copy',
     'synthetic')
def _(tmp):
    root = mars(tmp)
    (root / 'info/extra.txt').write_text('mine')
    run_main('tools/dataset_converters/make_synthetic_mars.py', str(root),
             '--overwrite')


@err('tools', 'folders_to_json.py: missing root', '{tmp}/none')
def _(tmp):
    run_main('tools/dataset_converters/folders_to_json.py', str(tmp / 'none'))


@err('tools', 'folders_to_json.py: empty tree', '{tmp}')
def _(tmp):
    run_main('tools/dataset_converters/folders_to_json.py', str(tmp))


def _tree(tmp):
    for sub in ('train', 'query', 'gallery'):
        (tmp / sub / '0001/t1').mkdir(parents=True)
        (tmp / sub / '0001/t1/0.jpg').write_bytes(b'')


@err('tools', 'folders_to_json.py: --out under a file', '{tmp}/f/a.json')
def _(tmp):
    _tree(tmp)
    (tmp / 'f').write_text('x')
    run_main('tools/dataset_converters/folders_to_json.py', str(tmp), '--out',
             str(tmp / 'f/a.json'))


@ok('tools', 'folders_to_json.py: old file kept when the tree is bad',
    lambda text: text == 'old')
def _(tmp):
    _tree(tmp)
    (tmp / 'a.json').write_text('old')
    (tmp / 'train/x').mkdir()  # not an integer pid
    with contextlib.suppress(Exception):
        run_main('tools/dataset_converters/folders_to_json.py', str(tmp),
                 '--out', str(tmp / 'a.json'))
    return (tmp / 'a.json').read_text()


@err('tools', 'export_onnx.py: missing checkpoint', '{tmp}/none.pth')
def _(tmp):
    run_main('tools/deployment/export_onnx.py', DEMO_CONFIG,
             str(tmp / 'none.pth'), '--out', str(tmp / 'm.onnx'))


@err('tools', 'export_onnx.py: --out wrong suffix', '.onnx')
def _(tmp):
    run_main('tools/deployment/export_onnx.py', DEMO_CONFIG, _ckpt(tmp),
             '--out', str(tmp / 'm.txt'))


@err('tools', 'dataset_stats.py: missing data_root', '{tmp}/none')
def _(tmp):
    run_main('tools/analysis_tools/dataset_stats.py', DEMO_CONFIG,
             '--cfg-options', f'train_dataloader.dataset.data_root={tmp}/none',
             'train_dataloader.dataset.type=MARS')


@err('tools', 'build_index.py: --out under a file', '{tmp}/f/g.gidx')
def _(tmp):
    (tmp / 'f').write_text('x')
    run_main('tools/build_index.py', str(tmp), '--out', str(tmp / 'f/g.gidx'))


@err('tools', 'build_index.py: features folder without meta', '{tmp}')
def _(tmp):
    run_main('tools/build_index.py', str(tmp), '--out', str(tmp / 'g.gidx'))


@err('tools', 'build_index.py: --param without =', 'nlist')
def _(tmp):
    run_main('tools/build_index.py', str(tmp), '--out', str(tmp / 'g.gidx'),
             '--param', 'nlist')


@err('tools', 'search.py: --out with a wrong suffix', '.json')
def _(tmp):
    run_main('tools/search.py', str(tmp / 'g.gidx'), str(tmp), '--out',
             str(tmp / 'r.txt'))


@err('tools', 'search.py: missing index file', '{tmp}/g.gidx')
def _(tmp):
    run_main('tools/search.py', str(tmp / 'g.gidx'), str(tmp), '--out',
             str(tmp / 'r.json'))
