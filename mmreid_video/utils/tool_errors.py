# Copyright (c) mmreid_video contributors. All rights reserved.
"""Errors a tool reports by their message alone."""
import sys
from types import TracebackType
from typing import Tuple, Type


def _brief_types() -> Tuple[Type[BaseException], ...]:
    # Imported here: mmreid_video.datasets imports this package.
    from mmreid_video.datasets.layout import DatasetLayoutError
    return (DatasetLayoutError, )


def report_errors_briefly() -> None:
    """Make an uncaught error whose message is complete on its own print
    only that message.

    Such errors (:class:`~mmreid_video.datasets.layout.DatasetLayoutError`:
    a dataset path that does not exist, with "Did you mean ...?" and the
    expected layout) say what to fix; a traceback of the 30 frames between
    the tool and the dataset class only buries it. The process still exits
    with status 1. Every other error keeps its traceback. A tool calls this
    once, after parsing its arguments.
    """
    if getattr(sys.excepthook, 'reports_briefly', False):
        return  # installed already (a tool's main run again in-process)
    brief = _brief_types()
    default_hook = sys.excepthook

    def hook(kind: Type[BaseException], error: BaseException,
             traceback: TracebackType) -> None:
        if issubclass(kind, brief):
            print(f'{kind.__name__}: {error}', file=sys.stderr, flush=True)
        else:
            default_hook(kind, error, traceback)

    hook.reports_briefly = True
    sys.excepthook = hook
