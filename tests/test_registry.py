# Copyright (c) mmreid_video contributors. All rights reserved.
import pytest
from mmengine.registry import DefaultScope, init_default_scope

from mmreid_video import registry


@pytest.mark.parametrize('name', registry.__all__)
def test_registries_are_children_of_mmengine_roots(name):
    reg = getattr(registry, name)
    assert reg.scope == 'mmreid_video'
    assert reg.parent is not None and reg.parent.scope == 'mmengine'


def test_default_scope_reaches_mmpretrain_components():
    init_default_scope('mmreid_video')
    assert DefaultScope.get_current_instance().scope_name == 'mmreid_video'
    resnet = registry.MODELS.build(
        dict(type='mmpretrain.ResNet', depth=18, out_indices=(3, )))
    assert type(resnet).__module__.startswith('mmpretrain')
    wrapper = registry.OPTIM_WRAPPERS.get('CPUAmpOptimWrapper')
    assert wrapper.__module__.startswith('mmreid_video')
