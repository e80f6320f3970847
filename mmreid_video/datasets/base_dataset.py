# Copyright (c) mmreid_video contributors. All rights reserved.
"""The abstract base of every video re-ID dataset.

It owns what all datasets share: the constructor, the split check, the
layout check (with "did you mean" for a root one level off), id
relabelling of the train split and ``num_ids``. A dataset
class then says only what is its own: its ``LAYOUT``, the files each split
needs and how its tracklets are listed (see ``docs/extending.md``).
"""
from abc import ABCMeta, abstractmethod
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from .layout import check_layout


def relabel_pids(data_list: List[dict]) -> int:
    """Relabel train pids to 0..N-1 in sorted order of the original pids.

    The original pid is kept as ``ori_pid``.

    Args:
        data_list (list[dict]): Train data infos, changed in place.

    Returns:
        int: N, the number of distinct ids.
    """
    pids = sorted({info['pid'] for info in data_list})
    label = {pid: i for i, pid in enumerate(pids)}
    for info in data_list:
        info['ori_pid'] = info['pid']
        info['pid'] = label[info['pid']]
    return len(pids)


class BaseVideoReIDDataset(BaseDataset, metaclass=ABCMeta):
    """Base class of video re-ID datasets: one data info per tracklet.

    ``split='train'`` yields the train tracklets with ``pid`` relabelled to
    0..N-1 (``ori_pid`` keeps the original); ``split='test'`` yields the
    query and gallery tracklets with their original pids and the flags
    ``is_query`` / ``is_gallery`` (a tracklet may carry both). A dataset
    with a validation split adds it to ``SPLITS`` (LS-VID: ``'val'``); every
    split but ``'train'`` is read like ``'test'``. Every data
    info holds ``frame_paths``, ``pid``, ``camid`` (a 0-based camera index;
    ``METAINFO['camera_names']`` holds its display labels where the dataset
    defines them) and ``tracklet_id``. ``metainfo`` holds ``split`` and
    ``num_ids`` (the number of train ids, for either split).

    Subclasses set ``METAINFO`` and ``LAYOUT`` and implement
    :meth:`required_paths`, :meth:`load_train`, :meth:`load_test` and
    :meth:`num_train_ids`; extra constructor arguments (e.g. ``split_id``)
    are set before calling this constructor, as it may load the data.
    Before loading, the paths of :meth:`required_paths` must exist; when
    one does not, the error names it and, if a folder one level off holds
    the layout (or the missing path), says "Did you mean <path>?".

    Args:
        data_root (str): The dataset folder (see the class's ``LAYOUT``).
            Defaults to ''.
        split (str): ``'train'`` or ``'test'`` (query and gallery), or
            another entry of ``SPLITS``. Defaults to ``'train'``.
        pipeline (Sequence[dict | Callable]): Transforms. Defaults to ().
        metainfo (dict, optional): Extra meta information. Defaults to None.
        indices (int | Sequence[int], optional): Use a subset of the
            tracklets (see :class:`mmengine.dataset.BaseDataset`).
            Defaults to None.
        serialize_data (bool): Serialize the data list to share it between
            workers. Defaults to True.
        lazy_init (bool): Defer loading until ``full_init()``.
            Defaults to False.
        max_refetch (int): See :class:`mmengine.dataset.BaseDataset`.
            Defaults to 1000.
    """

    METAINFO: dict = dict()
    SPLITS = ('train', 'test')
    LAYOUT = ''
    #: Whether a test split may hold queries alone or gallery tracklets
    #: alone (tracklets to describe and search, e.g. one's own footage);
    #: a benchmark's test split needs both.
    PARTIAL_TEST_SPLIT = False

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{self.SPLITS}, got {split!r}')
        self.split = split
        super().__init__(
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(),
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=split != 'train',
            lazy_init=lazy_init,
            max_refetch=max_refetch)
        self._metainfo['split'] = split

    @abstractmethod
    def required_paths(self) -> Sequence[str]:
        """Files and folders that ``self.split`` reads, relative to
        ``data_root``; checked before loading."""

    def alternative_required_paths(self) -> List[Sequence[str]]:
        """The paths this split would read in each other layout the dataset
        accepts (e.g. LS-VID's ``info/`` variant), for the "did you mean"
        search. Defaults to none."""
        return []

    @abstractmethod
    def load_train(self) -> List[dict]:
        """Data infos of the train split, with the original pids."""

    @abstractmethod
    def load_test(self) -> List[dict]:
        """Data infos of the test split, with ``is_query``/``is_gallery``."""

    @abstractmethod
    def num_train_ids(self) -> int:
        """The number of train ids (read cheaply for the test split)."""

    def load_data_list(self) -> List[dict]:
        """Check the layout, then load and label the tracklets of the split.

        Returns:
            list[dict]: One data info per tracklet.
        """
        name = type(self).__name__
        check_layout(self.data_root, self.required_paths(), self.LAYOUT, name,
                     self.alternative_required_paths())
        if self.split == 'train':
            data_list = self.load_train()
            self._check_not_empty(data_list, 'tracklets')
            self._metainfo['num_ids'] = relabel_pids(data_list)
            return data_list
        self._metainfo['num_ids'] = self.num_train_ids()
        data_list = self.load_test()
        if self.PARTIAL_TEST_SPLIT:
            self._check_not_empty(data_list, 'query or gallery tracklets')
            return data_list
        for flag in ('is_query', 'is_gallery'):
            self._check_not_empty([i for i in data_list if i[flag]],
                                  flag[3:] + ' tracklets')
        return data_list

    def _check_not_empty(self, data_list: List[dict], what: str) -> None:
        """An empty split is an error naming the dataset, the split and the
        files it was read from."""
        if not data_list:
            raise ValueError(
                f'{type(self).__name__}: the {self.split!r} split of '
                f'data_root "{self.data_root}" has no {what} (read from '
                f'{", ".join(self.required_paths())}). Expected '
                f'layout:\n{self.LAYOUT}')

    def _check_indices(self, indices: Union[int, Sequence[int]],
                       num: int) -> None:
        """``indices`` must select tracklets that exist: MMEngine would
        raise a bare IndexError, or silently keep fewer than asked."""
        where = (f'{type(self).__name__}({self.split!r}): indices={indices!r} '
                 f'do not fit the split of {num} tracklets;')
        if isinstance(indices, bool) or not isinstance(indices,
                                                       (int, Sequence)):
            raise TypeError(f'{where} expected an int (the first n, or the '
                            'last -n) or a sequence of ints')
        if isinstance(indices, int):
            if not 0 < abs(indices) <= num:
                raise ValueError(f'{where} an int must be in 1..{num} (the '
                                 f'first n) or -{num}..-1 (the last n)')
            return
        bad = [
            i for i in indices if isinstance(i, bool)
            or not isinstance(i, int) or not -num <= i < num
        ]
        if bad or not len(indices):
            raise ValueError(f'{where} expected a non-empty sequence of ints '
                             f'in [-{num}, {num}); bad: {bad[:5]}')

    def _get_unserialized_subset(
            self, indices: Union[int, Sequence[int]]) -> List[dict]:
        """MMEngine's subset of the data list, ``indices`` checked first."""
        self._check_indices(indices, len(self.data_list))
        return super()._get_unserialized_subset(indices)

    def _get_serialized_subset(self, indices: Union[int, Sequence[int]]):
        """MMEngine's subset of the serialized data, ``indices`` checked
        first."""
        self._check_indices(indices, len(self.data_address))
        return super()._get_serialized_subset(indices)
