# Copyright (c) mmreid_video contributors. All rights reserved.
"""load_config: errors name the config file."""
import pytest

from mmreid_video.utils import load_config


def _child(tmp_path, line):
    (tmp_path / 'base.py').write_text('lr = 1e-3\n')
    (tmp_path / 'child.py').write_text(f"_base_ = ['./base.py']\n{line}\n")
    return tmp_path / 'child.py'


def test_base_variables_are_read(tmp_path):
    assert load_config(_child(tmp_path, 'a = {{_base_.lr}}')).a == 1e-3


def test_missing_base_variable_names_the_file(tmp_path):
    path = _child(tmp_path, 'a = dict(lr={{_base_.lrr}})')
    with pytest.raises(
            KeyError,
            match=f'{path}: {{{{_base_.lrr}}}} names '
            'a variable that none of its _base_ files defines'):
        load_config(path)
    path = _child(tmp_path, 'a = dict(lr=_base_.lrr)')
    with pytest.raises(AttributeError, match=f'{path}, line 2: .*lrr'):
        load_config(path)


def test_missing_variable_of_a_base_file_names_that_file(tmp_path):
    (tmp_path / 'root.py').write_text('x = 1\n')
    (tmp_path /
     'mid.py').write_text("_base_ = ['./root.py']\ny = {{_base_.z}}\n")
    (tmp_path / 'top.py').write_text("_base_ = ['./mid.py']\n")
    with pytest.raises(KeyError, match=f"{tmp_path / 'mid.py'}: "):
        load_config(tmp_path / 'top.py')
