# Copyright (c) mmreid_video contributors. All rights reserved.
"""Registries of mmreid_video.

Every registry is a child of the matching MMEngine root with the scope
``mmreid_video``. ``locations`` makes the registry import the subpackage that
holds its modules the first time something is built, so a config that sets
``default_scope = 'mmreid_video'`` needs no ``custom_imports`` for our own
components. Components of other OpenMMLab packages are reached with a scope
prefix, e.g. ``type='mmpretrain.ResNet'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'LOOPS', 'HOOKS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS'
]

_ENGINE = ['mmreid_video.engine']

# Training machinery: loops, hooks, optimizer wrappers and schedulers.
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=_ENGINE)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=_ENGINE)
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=_ENGINE)
OPTIM_WRAPPERS = Registry(
    'optimizer wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=_ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=_ENGINE)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=_ENGINE)
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmreid_video.datasets'])

# Data: datasets, samplers and transforms.
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmreid_video.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmreid_video.datasets.samplers'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmreid_video.datasets.transforms'])

# Models.
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['mmreid_video.models'])
MODEL_WRAPPERS = Registry(
    'model wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmreid_video.engine'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmreid_video.models'])

# Evaluation and visualization.
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmreid_video.evaluation'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    locations=['mmreid_video.evaluation'])
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    locations=['mmreid_video.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['mmreid_video.visualization'])
