"""Base class of video re-ID datasets and custom tracklets from JSON."""
import json
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmreid_video.registry import DATASETS


def format_error(file: str, row: Union[int, str], msg: str) -> ValueError:
    """Build the error raised for malformed metadata.

    Args:
        file (str): The metadata file that is malformed.
        row (int | str): The row (1-based for tables) or key path at fault.
        msg (str): What is wrong and what was expected.

    Returns:
        ValueError: The error to raise.
    """
    return ValueError(f'{file}, row {row}: {msg}')


def check_layout(data_root: str, required: Sequence[str], layout: str,
                 dataset: str) -> None:
    """Check that the files and folders a dataset reads exist.

    Only the given paths are checked (never every frame), so the check is
    cheap even for MARS.

    Args:
        data_root (str): The dataset root.
        required (Sequence[str]): Paths relative to ``data_root``.
        layout (str): The expected tree, shown in the error.
        dataset (str): Dataset name, shown in the error.

    Raises:
        FileNotFoundError: Naming the first missing path and the layout.
    """
    for rel in ('', *required):
        path = osp.join(data_root, rel)
        if not osp.exists(path):
            raise FileNotFoundError(
                f'{dataset}: "{path}" does not exist (data_root='
                f'"{data_root}"). Expected layout:\n{layout}\n'
                'See docs/dataset_prepare.md.')


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


@DATASETS.register_module()
class VideoReIDDataset(BaseDataset):
    """Video re-ID dataset of custom tracklets listed in a JSON file.

    The annotation file maps ``"train"``, ``"query"`` and ``"gallery"`` to
    lists of tracklets::

        {"train": [{"tracklet_id": "0001/000", "pid": 1, "camid": 0,
                    "frame_paths": ["train/0001/000/00.jpg", ...]}, ...],
         "query": [...], "gallery": [...]}

    ``frame_paths`` are in temporal order, relative to ``data_root`` unless
    absolute. ``tracklet_id`` is optional (defaults to ``"<list>/<index>"``).
    ``camid`` may be missing or ``null`` when cameras are unknown: such a
    tracklet counts as its own camera (it gets a unique negative id). At
    evaluation the same-id-same-camera exclusion then removes only the query
    itself, so same-id tracklets of the query's real camera count as correct
    matches and the results are optimistic compared with a cross-camera
    protocol. A tracklet listed in both ``query`` and ``gallery`` (same
    ``tracklet_id``) appears once with both flags set.
    ``tools/dataset_converters/folders_to_json.py`` writes this file from a
    ``{train,query,gallery}/<pid>/<tracklet>/`` tree.

    Every data info holds ``frame_paths``, ``pid``, ``camid`` and
    ``tracklet_id``; train infos add ``ori_pid`` (``pid`` is relabelled to
    0..N-1), test infos add ``is_query`` and ``is_gallery``. ``metainfo``
    holds ``split`` and ``num_ids`` (the number of train ids, for any split).

    Args:
        data_root (str): Root that relative paths are joined with.
            Defaults to ''.
        ann_file (str): The JSON annotation file. Defaults to ''.
        split (str): ``'train'`` or ``'test'`` (query and gallery).
            Defaults to ``'train'``.
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

    METAINFO: dict = dict(dataset_name='custom')
    SPLITS = ('train', 'test')
    LAYOUT = ('<data_root>/\n'
              '  <ann_file>.json   {"train": [...], "query": [...], '
              '"gallery": [...]}\n'
              '  <frames listed in it, relative to data_root>')

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
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
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(),
            indices=indices,
            serialize_data=serialize_data,
            pipeline=list(pipeline),
            test_mode=split == 'test',
            lazy_init=lazy_init,
            max_refetch=max_refetch)
        self._metainfo['split'] = split

    def _set_num_ids(self, num_ids: int) -> None:
        self._metainfo['num_ids'] = num_ids

    def load_data_list(self) -> List[dict]:
        """Load the tracklets of ``self.split`` from the JSON file.

        Returns:
            list[dict]: One data info per tracklet.
        """
        if not self.ann_file:
            raise ValueError(f'{type(self).__name__} needs `ann_file`, a '
                             'JSON annotation file')
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{type(self).__name__}: annotation file "{self.ann_file}" '
                f'does not exist. Expected layout:\n{self.LAYOUT}')
        with open(self.ann_file) as f:
            try:
                ann = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{self.ann_file}: not valid JSON ({e})')
        needed = ('train', ) if self.split == 'train' else ('query', 'gallery')
        for key in ('train', *needed):
            if not isinstance(ann, dict) or not isinstance(ann.get(key), list):
                raise ValueError(f'{self.ann_file}: expected a list under key '
                                 f'"{key}"')
        unknown_cam = [0]
        train = [
            self._parse_tracklet(t, 'train', i, unknown_cam)
            for i, t in enumerate(ann['train'])
        ]
        self._set_num_ids(len({t['pid'] for t in train}))
        if self.split == 'train':
            relabel_pids(train)
            return train
        return self._merge_query_gallery(ann, unknown_cam)

    def _merge_query_gallery(self, ann: dict,
                             unknown_cam: List[int]) -> List[dict]:
        """Test infos: query then gallery, a shared tracklet only once."""
        data_list, by_id = [], {}
        for key in ('query', 'gallery'):
            for i, t in enumerate(ann[key]):
                info = self._parse_tracklet(t, key, i, unknown_cam)
                old = by_id.get(info['tracklet_id'])
                if old is None:
                    info.update(
                        is_query=key == 'query', is_gallery=key == 'gallery')
                    by_id[info['tracklet_id']] = info
                    data_list.append(info)
                    continue
                if key == 'query' or old['is_gallery'] or any(
                        old[k] != info[k] for k in ('pid', 'frame_paths')):
                    raise format_error(
                        self.ann_file, f'{key}[{i}]',
                        f'tracklet_id "{info["tracklet_id"]}" is listed '
                        'twice; an id may appear once in query and once in '
                        'gallery, with the same pid and frames')
                # Keep the query's camera (it may be a unique unknown one).
                old['is_gallery'] = True
        return data_list

    def _parse_tracklet(self, t: dict, key: str, index: int,
                        unknown_cam: List[int]) -> dict:
        """Check one JSON tracklet and turn it into a data info."""
        row = f'{key}[{index}]'
        if not isinstance(t, dict):
            raise format_error(self.ann_file, row, 'expected an object')
        pid, camid = t.get('pid'), t.get('camid')
        frames = t.get('frame_paths')
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise format_error(self.ann_file, row,
                               f'"pid" must be an integer, got {pid!r}')
        if camid is None:
            unknown_cam[0] -= 1
            camid = unknown_cam[0]
        elif not isinstance(camid, int) or isinstance(camid, bool) or \
                camid < 0:
            # Negative ids are reserved for unknown cameras.
            raise format_error(
                self.ann_file, row,
                f'"camid" must be an integer >= 0 or null, got {camid!r}')
        if not isinstance(frames, list) or not frames or not all(
                isinstance(p, str) for p in frames):
            raise format_error(
                self.ann_file, row,
                '"frame_paths" must be a non-empty list of strings')
        return dict(
            frame_paths=[osp.join(self.data_root, p) for p in frames],
            pid=pid,
            camid=camid,
            tracklet_id=str(t.get('tracklet_id', f'{key}/{index}')))
