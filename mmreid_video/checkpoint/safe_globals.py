# Copyright (c) mmreid_video contributors. All rights reserved.
"""Loading MMEngine checkpoints with torch's weights-only unpickler.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``, which
refuses every global that is not explicitly allowed. MMEngine 0.10.7 calls
``torch.load`` without that argument, so resuming or ``load_from`` fails on
the few non-tensor objects its checkpoints hold. Instead of switching
weights-only loading off (which would execute arbitrary pickled code), we
allow-list exactly those objects.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
from mmengine.logging import HistoryBuffer

# ``HistoryBuffer`` pickles its statistics methods as
# ``getattr(HistoryBuffer, 'min')`` & co. Plain ``getattr`` would let a
# crafted file reach any attribute of any allowed object, so the name is bound
# to a getattr that resolves only those methods.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Resolve ``getattr(HistoryBuffer, name)`` for a statistics method.

    Args:
        obj (Any): The object whose attribute the pickle asks for.
        name (str): The attribute name.

    Returns:
        Callable: The statistics method of :class:`HistoryBuffer`.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refused getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'weights-only loading only resolves the statistics methods of '
        'mmengine HistoryBuffer.')


def mmengine_checkpoint_globals(
) -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals that MMEngine checkpoints (and ours) contain.

    ``message_hub`` holds :class:`HistoryBuffer` objects with numpy arrays
    and scalars; everything else is tensors and builtin containers, which
    torch allows already.

    Returns:
        list: Entries for :func:`torch.serialization.add_safe_globals`.
    """
    multiarray = np._core.multiarray
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        # numpy >= 1.25 pickles dtypes of arrays/scalars as these classes.
        *[type(np.dtype(code)) for code in 'bBhHiIlLqQefdgFD?'],
        (multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy._core.multiarray.scalar'),
        # Checkpoints written under numpy 1.x name the old module.
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
