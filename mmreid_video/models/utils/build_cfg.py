# Copyright (c) mmreid_video contributors. All rights reserved.
"""Models that remember the config they were built from."""
import copy
import functools
import inspect
from typing import Callable

from torch import nn


def records_build_cfg(init: Callable) -> Callable:
    """Decorate a model's ``__init__`` to keep its config as
    ``self.build_cfg``.

    ``build_cfg`` is ``dict(type=<class name>, **the arguments given)``, as
    the config that built the model reads; checkpoints carry its
    architecture (:mod:`mmreid_video.checkpoint.model_fingerprint`), and
    loading weights compares it with theirs. The class actually built
    records (a subclass's decorated ``__init__``, not the parent's that it
    calls). ``build_cfg`` is None when a sub-module was given as a module
    instead of a config.

    Args:
        init (Callable): The ``__init__`` to wrap.

    Returns:
        Callable: The wrapped ``__init__``.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is not wrapper:
            return  # a subclass's __init__ records its own arguments
        given = signature.bind(self, *args, **kwargs).arguments
        given.pop(next(iter(signature.parameters)))  # self
        if any(isinstance(v, nn.Module) for v in given.values()):
            self.build_cfg = None
        else:
            self.build_cfg = dict(
                type=type(self).__name__, **copy.deepcopy(dict(given)))

    return wrapper
