# Copyright (c) mmreid_video contributors. All rights reserved.
"""Config mistakes found in seconds, not after an epoch.

MMEngine builds some parts of a run only when it first needs them and
passes some arguments on unchecked: a typo in ``default_hooks.checkpoint``
(``max_keep_ckpt``) fails at the first save, a string where a number belongs
(``train_cfg.val_interval='one'``, ``checkpoint.interval='1x'``) at the end
of the first epoch, and the errors of the parts built early
(``optimizer.lr='1e-3x'``, ``randomness.seed='abc'``, a loader with
``persistent_workers=True`` and ``num_workers=0``) name a class or a numpy
routine but neither the config key nor the file.

:func:`check_config` checks every component config of a run before anything
is built: each key against the arguments of the class it configures
(hooks, optimizer wrapper, optimizer, schedulers, loops, dataloaders,
datasets, samplers, transforms, evaluators, visualizer, log processor,
``randomness``) and each value against the argument's type hint where a
string and a number cannot both be meant. All problems are reported at once,
each with its dotted key, with the config file and the keys set by
``--cfg-options`` named.
"""
import difflib
import inspect
import types
import typing
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Tuple)

import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import LOG_PROCESSORS
from mmengine.runner import set_random_seed
from mmengine.utils import import_modules_from_strings
from torch.utils.data import DataLoader

# Classes whose ``**kwargs`` accept nothing beyond their named arguments
# although no parent receives them: MMEngine's CheckpointHook passes them to
# ``Runner.save_checkpoint``, which the hook already calls with all of its
# arguments (an extra key fails there, at the first save).
_CLOSED_KWARGS = (CheckpointHook, )
# Keys MMEngine's dataloader builder takes out before ``DataLoader(**cfg)``.
_LOADER_KEYS = ('dataset', 'sampler', 'batch_sampler', 'collate_fn',
                'worker_init_fn')
# Type hints whose values are never strings (a string is a typo there).
_NOT_TEXT = (int, float, bool, complex, type(None), torch.Tensor)

Problem = Tuple[str, str]  # (dotted key, what is wrong)


def _hint_members(hint: Any) -> Optional[set]:
    """The classes a hint allows, or None when it is not a plain class or
    a Union of plain classes (then values are not checked)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = set()
        for arg in typing.get_args(hint):
            sub = _hint_members(arg)
            if sub is None:
                return None
            members |= sub
        return members
    return {hint} if inspect.isclass(hint) and hint is not typing.Any else \
        None


def _type_problem(value: Any, hint: Any) -> Optional[str]:
    """Why ``value`` cannot be meant for an argument hinted ``hint``."""
    members = _hint_members(hint)
    if not members:
        return None
    names = ' or '.join(
        sorted('None' if m is type(None) else m.__name__ for m in members))
    if isinstance(value, str) and members <= set(_NOT_TEXT):
        return f'{value!r} is a string; expected {names}'
    if (isinstance(value, (int, float)) and str in members
            and members <= {str, type(None)}):
        return f'{value!r} is a number; expected {names}'
    return None


def _own_init_params(func: Callable) -> Tuple[Dict[str, Any], bool]:
    """Keyword parameters of ``func`` with their hints, and whether it takes
    ``**kwargs``."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}, True
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 -- unresolvable hints are not checked
        hints = {}
    named = {
        name: hints.get(name)
        for name, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return named, any(p.kind is p.VAR_KEYWORD for p in params.values())


def accepted_arguments(target: Callable) -> Optional[Dict[str, Any]]:
    """The keyword arguments a class (or function) accepts, with their type
    hints; None when it takes ``**kwargs`` whose use cannot be followed.

    A class's ``**kwargs`` are taken to go to the next ``__init__`` up its
    MRO (the usual ``super().__init__(**kwargs)``).

    Args:
        target (Callable): A class or function.

    Returns:
        dict[str, Any], optional: Argument name -> type hint (None where
        there is none).
    """
    if not inspect.isclass(target):
        named, open_kwargs = _own_init_params(target)
        return None if open_kwargs else named
    accepted: Dict[str, Any] = {}
    for klass in target.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if klass is object:
            return None  # **kwargs passed on to where they are not used
        named, open_kwargs = _own_init_params(init)
        for name, hint in named.items():
            accepted.setdefault(name, hint)
        if not open_kwargs or klass in _CLOSED_KWARGS:
            break
    accepted.pop('self', None)
    return accepted


def unknown_argument(arg: str, accepted: Iterable[str]) -> str:
    """``'arg'``, with the closest accepted name as a hint.

    Args:
        arg (str): A keyword that ``accepted`` lacks.
        accepted (Iterable[str]): The accepted keywords.

    Returns:
        str: E.g. ``"'intervel' (did you mean 'interval'?)"``.
    """
    close = difflib.get_close_matches(arg, list(accepted), 1)
    return f'{arg!r} (did you mean {close[0]!r}?)' if close else repr(arg)


class _Checker:
    """Collects the problems of one config; types are looked up in the
    registries of ``scope`` (the config's ``default_scope``)."""

    def __init__(self, scope: Optional[str]) -> None:
        self.problems: List[Problem] = []
        self.scope = scope

    def component(
        self,
        key: str,
        cfg: Any,
        registry,
        default_type: Optional[str] = None,
        ignore: Tuple[str, ...] = (),
        extra: Optional[Tuple[str, ...]] = ()
    ) -> None:
        """Check the keys and values of one ``dict(type=..., ...)``;
        ``extra=None`` allows any further key."""
        if not isinstance(cfg, dict):
            return
        type_name = cfg.get('type', default_type)
        if type_name is None:
            return
        if isinstance(type_name, str):
            try:
                with registry.switch_scope_and_registry(self.scope) as found:
                    target = found.get(type_name)
            except Exception as err:  # noqa: BLE001 -- import errors too
                self.problems.append((f'{key}.type', str(err)))
                return
            if target is None:
                self.problems.append(
                    (f'{key}.type', f'{type_name!r} is not registered in '
                     f'the {found.scope}::{found.name} registry'))
                return
        else:
            target = type_name
        self.arguments(key, cfg, target, ignore, None if extra is None else
                       ('type', *extra))

    def arguments(
        self,
        key: str,
        cfg: dict,
        target: Callable,
        ignore: Tuple[str, ...] = (),
        extra: Optional[Tuple[str, ...]] = ()
    ) -> None:
        """Check ``cfg``'s keys and values against ``target``'s arguments;
        ``extra`` keys are read by others (None: any key may be)."""
        accepted = accepted_arguments(target)
        if accepted is None:
            return
        name = getattr(target, '__name__', str(target))
        for arg, value in cfg.items():
            if arg in ignore or arg in (extra or ()):
                continue
            if arg not in accepted:
                if extra is not None:
                    self.problems.append(
                        (f'{key}.{arg}', f'{name} has no argument '
                         f'{unknown_argument(arg, accepted)}; it takes '
                         f'{", ".join(sorted(accepted))}'))
                continue
            problem = _type_problem(value, accepted[arg])
            if problem:
                self.problems.append((f'{key}.{arg}', f'{name}: {problem}'))

    def dataloader(self, key: str, cfg: Any) -> None:
        """A dataloader, its dataset (pipeline, wrapped dataset) and
        sampler."""
        from mmreid_video.registry import DATA_SAMPLERS
        if not isinstance(cfg, dict):
            return
        self.arguments(key, cfg, DataLoader, extra=_LOADER_KEYS)
        if cfg.get('persistent_workers') and not cfg.get('num_workers'):
            self.problems.append(
                (f'{key}.persistent_workers',
                 'persistent_workers=True needs num_workers > 0, got '
                 f'num_workers={cfg.get("num_workers", 0)!r} (set '
                 f'{key}.persistent_workers=False with num_workers=0)'))
        self.dataset(f'{key}.dataset', cfg.get('dataset'))
        self.component(
            f'{key}.sampler',
            cfg.get('sampler'),
            DATA_SAMPLERS,
            ignore=('dataset', ))

    def dataset(self, key: str, cfg: Any) -> None:
        from mmreid_video.registry import DATASETS, TRANSFORMS
        if not isinstance(cfg, dict):
            return
        self.component(key, cfg, DATASETS)
        for i, step in enumerate(cfg.get('pipeline') or []):
            self.component(f'{key}.pipeline[{i}]', step, TRANSFORMS)
        self.dataset(f'{key}.dataset', cfg.get('dataset'))


def _listed(key: str, cfg: Any) -> Iterator[Tuple[str, Any]]:
    """``(key, item)`` of a dict-or-list config entry."""
    if isinstance(cfg, dict):
        yield key, cfg
    elif isinstance(cfg, (list, tuple)):
        for i, item in enumerate(cfg):
            yield f'{key}[{i}]', item


def _loop(cfg: Any, default: str) -> Optional[str]:
    if not isinstance(cfg, dict) or 'type' in cfg:
        return None
    if default == 'train':
        by_epoch = cfg.get('by_epoch', True)
        return 'EpochBasedTrainLoop' if by_epoch else 'IterBasedTrainLoop'
    return default


def _constructor_keys(constructor: Any) -> Optional[Tuple[str, ...]]:
    """The ``optim_wrapper`` keys its constructor reads besides the
    wrapper's arguments (its ``wrapper_keys``); None when unknown."""
    from mmreid_video.registry import OPTIM_WRAPPER_CONSTRUCTORS
    if constructor is None:
        cls = DefaultOptimWrapperConstructor
    elif isinstance(constructor, str):
        cls = OPTIM_WRAPPER_CONSTRUCTORS.get(constructor)
    else:
        cls = constructor
    if cls is DefaultOptimWrapperConstructor:
        keys = ()
    else:
        keys = getattr(cls, 'wrapper_keys', None)
    return None if keys is None else ('constructor', 'paramwise_cfg', *keys)


def config_problems(cfg: Config) -> List[Problem]:
    """Every problem :func:`check_config` reports, as (key, message)."""
    from mmreid_video.registry import (HOOKS, LOOPS, METRICS, OPTIM_WRAPPERS,
                                       OPTIMIZERS, PARAM_SCHEDULERS,
                                       VISUALIZERS)
    if cfg.get('custom_imports'):
        # As the Runner does, so that their types can be found.
        import_modules_from_strings(**cfg.custom_imports)
    check = _Checker(cfg.get('default_scope'))
    for name, hook in (cfg.get('default_hooks') or {}).items():
        check.component(f'default_hooks.{name}', hook, HOOKS)
    for key, hook in _listed('custom_hooks', cfg.get('custom_hooks')):
        check.component(key, hook, HOOKS)
    wrapper = cfg.get('optim_wrapper')
    if isinstance(wrapper, dict) and isinstance(
            wrapper.get('optimizer'), dict):
        check.component(
            'optim_wrapper',
            wrapper,
            OPTIM_WRAPPERS,
            default_type='OptimWrapper',
            ignore=('optimizer', ),
            extra=_constructor_keys(wrapper.get('constructor')))
        check.component(
            'optim_wrapper.optimizer',
            wrapper['optimizer'],
            OPTIMIZERS,
            ignore=('params', ))
    for key, scheduler in _listed('param_scheduler',
                                  cfg.get('param_scheduler')):
        check.component(
            key,
            scheduler,
            PARAM_SCHEDULERS,
            ignore=('optimizer', 'epoch_length'),
            extra=('convert_to_iter_based', ))
    loop_args = ('runner', 'dataloader', 'evaluator')
    for key, default in (('train_cfg', 'train'), ('val_cfg', 'ValLoop'),
                         ('test_cfg', 'TestLoop')):
        check.component(
            key,
            cfg.get(key),
            LOOPS,
            default_type=_loop(cfg.get(key), default),
            ignore=loop_args,
            extra=('by_epoch', ))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        check.dataloader(key, cfg.get(key))
    for section in ('val_evaluator', 'test_evaluator'):
        for key, metric in _listed(section, cfg.get(section)):
            check.component(key, metric, METRICS)
    check.component('visualizer', cfg.get('visualizer'), VISUALIZERS)
    check.component(
        'log_processor',
        cfg.get('log_processor'),
        LOG_PROCESSORS,
        default_type='LogProcessor')
    if isinstance(cfg.get('randomness'), dict):
        check.arguments('randomness', cfg.randomness, set_random_seed)
    return check.problems


def check_config(cfg: Config, cfg_options: Optional[dict] = None) -> None:
    """Check a run's config before any part of the run is built.

    Args:
        cfg (Config): The merged config.
        cfg_options (dict, optional): The ``--cfg-options`` merged into it,
            to say which keys they set. Defaults to None.

    Raises:
        ValueError: Naming the config file and, per problem, the key and
            what is wrong.
    """
    problems = config_problems(cfg)
    if not problems:
        return
    options = list(cfg_options or {})

    def source(key: str) -> str:
        by_option = any(key == opt or key.startswith((f'{opt}.', f'{opt}['))
                        for opt in options)
        return ' (set by --cfg-options)' if by_option else ''

    lines = '\n'.join(f'  {key}: {message}{source(key)}'
                      for key, message in problems)
    raise ValueError(f'Config {cfg.filename}: {len(problems)} problem(s), '
                     f'found before building the run:\n{lines}')
