# Copyright (c) mmreid_video contributors. All rights reserved.
"""The array operations of the two ranking paths (numpy on the CPU, torch
on a device), behind one interface so the counting kernel is written once,
and the row-padding helpers it uses."""
from typing import Tuple, Union

import numpy as np
import torch

from ._rank_utils import ranges

Array = Union[np.ndarray, torch.Tensor]


class NumpyOps:
    """Array operations of the CPU path: numpy, whose row sort (SIMD on x86
    and ARM) and small ops were ~20x and ~5x faster than torch's on one
    thread."""

    @staticmethod
    def asarray(a: np.ndarray) -> np.ndarray:
        return a

    @staticmethod
    def full(shape: Tuple[int, int], fill: Union[int, float],
             dtype) -> np.ndarray:
        return np.full(shape, fill, dtype=dtype)

    @staticmethod
    def sort_rows(x: np.ndarray) -> np.ndarray:
        return np.sort(x, axis=1)

    @staticmethod
    def argsort_rows(x: np.ndarray) -> np.ndarray:
        return np.argsort(x, axis=1, kind='stable')

    @staticmethod
    def take_rows(x: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, index, axis=1)

    @staticmethod
    def inverse_rows(order: np.ndarray) -> np.ndarray:
        """Per row, the position of each column in ``order``."""
        inverse = np.empty_like(order)
        np.put_along_axis(
            inverse,
            order,
            np.broadcast_to(np.arange(order.shape[1]), order.shape),
            axis=1)
        return inverse

    @staticmethod
    def searchsorted(ordered: np.ndarray,
                     x: np.ndarray,
                     right: bool = False) -> np.ndarray:
        # numpy searches one sorted row; torch all rows at once, zero-copy.
        return torch.searchsorted(
            torch.from_numpy(ordered), torch.from_numpy(x),
            right=right).numpy()

    @staticmethod
    def nonzero(mask: np.ndarray) -> Tuple[np.ndarray, ...]:
        return mask.nonzero()


class TorchOps:
    """The same operations with torch, on ``device``."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def asarray(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(self.device)

    def full(self, shape: Tuple[int, int], fill: Union[int, float],
             dtype) -> torch.Tensor:
        return torch.full(shape, fill, dtype=dtype, device=self.device)

    @staticmethod
    def sort_rows(x: torch.Tensor) -> torch.Tensor:
        return x.sort(dim=1).values

    @staticmethod
    def argsort_rows(x: torch.Tensor) -> torch.Tensor:
        return x.argsort(dim=1, stable=True)

    @staticmethod
    def take_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.gather(1, index)

    @staticmethod
    def inverse_rows(order: torch.Tensor) -> torch.Tensor:
        """Per row, the position of each column in ``order``."""
        arange = torch.arange(order.shape[1], device=order.device)
        return torch.empty_like(order).scatter_(
            1, order,
            arange.expand_as(order).contiguous())

    @staticmethod
    def searchsorted(ordered: torch.Tensor,
                     x: torch.Tensor,
                     right: bool = False) -> torch.Tensor:
        return torch.searchsorted(ordered, x, right=right)

    @staticmethod
    def nonzero(mask: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return mask.nonzero(as_tuple=True)


Ops = Union[NumpyOps, TorchOps]


def slots(counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Row, and position in the row, of items grouped by row.

    Args:
        counts (np.ndarray): Items per row.

    Returns:
        tuple[np.ndarray]: The row and the slot of every item.
    """
    return (np.repeat(np.arange(len(counts)),
                      counts), ranges(np.zeros_like(counts), counts))


def padded(ops: Ops, rows: Array, slot: Array, items: Array,
           shape: Tuple[int, int], fill: Union[int, float]) -> Array:
    """Row-grouped ``items`` in an array of ``shape`` padded with ``fill``.

    Args:
        ops (NumpyOps | TorchOps): The array library.
        rows, slot: Row and slot of each item (see :func:`slots`).
        items: The items.
        shape (tuple[int, int]): Rows and width of the result.
        fill (int | float): Value of the padding.

    Returns:
        The padded array, of ``items``' type and dtype.
    """
    out = ops.full(shape, fill, items.dtype)
    out[rows, slot] = items
    return out
