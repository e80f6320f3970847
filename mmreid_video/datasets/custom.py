# Copyright (c) mmreid_video contributors. All rights reserved.
"""Custom tracklets listed in a JSON annotation file."""
import json
import os.path as osp
from typing import Dict, List

from mmreid_video.registry import DATASETS
from .base_dataset import BaseVideoReIDDataset
from .readers import format_error, read_text

LISTS = ('train', 'query', 'gallery')


@DATASETS.register_module()
class CustomVideoReIDDataset(BaseVideoReIDDataset):
    """Video re-ID dataset of custom tracklets listed in a JSON file.

    The annotation file maps ``"train"``, ``"query"`` and ``"gallery"`` to
    lists of tracklets::

        {"train": [{"tracklet_id": "0001/000", "pid": 1, "camid": 0,
                    "frame_paths": ["train/0001/000/00.jpg", ...]}, ...],
         "query": [...], "gallery": [...]}

    ``frame_paths`` are in temporal order, relative to ``data_root`` unless
    absolute. ``tracklet_id`` is optional (defaults to ``"<list>/<index>"``).
    The train split needs the ``"train"`` list; the test split needs
    ``"query"`` or ``"gallery"`` or both (a query set alone is tracklets to
    describe and search, e.g. with ``tools/extract_features.py``, not to
    evaluate). ``pid`` may be missing or ``null`` in ``query`` and
    ``gallery`` when the identity is unknown (one's own footage): such a
    tracklet gets a pid of its own (negative, below every given pid), so it
    matches no other at evaluation, and ``pid_known=False``, which search
    tools read to refuse the re-ID rule for it.
    ``camid`` may be missing or ``null`` when cameras are unknown: such a
    tracklet counts as its own camera (it gets a unique negative id). At
    evaluation the same-id-same-camera exclusion then removes only the query
    itself, so same-id tracklets of the query's real camera count as correct
    matches and the results are optimistic compared with a cross-camera
    protocol. A tracklet listed in both ``query`` and ``gallery`` (same
    ``tracklet_id``) appears once with both flags set; a frame in two test
    tracklets of different ids is an error. The dataset has no
    ``camera_names``: figures show ``cam <camid>``.
    ``tools/dataset_converters/folders_to_json.py`` writes this file from a
    ``{train,query,gallery}/<pid>/<tracklet>/`` tree.

    Args:
        ann_file (str): The JSON annotation file, relative to ``data_root``
            unless absolute.
        **kwargs: ``data_root``, ``split`` and the other arguments of
            :class:`BaseVideoReIDDataset`.
    """

    METAINFO: dict = dict(dataset_name='custom')
    LAYOUT = ('<data_root>/\n'
              '  <ann_file>.json   {"train": [...], "query": [...], '
              '"gallery": [...]}\n'
              '  <frames listed in it, relative to data_root>')
    PARTIAL_TEST_SPLIT = True

    def __init__(self, ann_file: str = '', **kwargs) -> None:
        if not ann_file:
            raise ValueError(f'{type(self).__name__} needs `ann_file`, a '
                             'JSON annotation file')
        self.json_file = ann_file
        super().__init__(**kwargs)
        self.ann_file = self._json_path()

    def _json_path(self) -> str:
        return osp.join(self.data_root, self.json_file)

    def required_paths(self) -> List[str]:
        return [self.json_file]

    def _load(self) -> Dict[str, List[dict]]:
        """Every tracklet of every list in the JSON file, checked.

        The train split needs the ``"train"`` list, the test split
        ``"query"`` or ``"gallery"``; every list present is checked,
        whatever the split.
        """
        path = self._json_path()
        try:
            ann = json.loads(read_text(path))
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from None
        if not isinstance(ann, dict):
            raise ValueError(f'{path}: expected an object with the lists '
                             f'{list(LISTS)}, got {type(ann).__name__}')
        needed = ('train', ) if self.split == 'train' else ('query', 'gallery')
        if not any(key in ann for key in needed):
            raise ValueError(f'{path}: the {self.split} split needs a list '
                             'under key ' + ' or '.join(f'"{k}"'
                                                        for k in needed))
        lists, unknown_cam = {}, [0]
        for key in LISTS:
            if key not in ann:
                continue
            if not isinstance(ann[key], list):
                raise ValueError(f'{path}: expected a list under key "{key}"')
            lists[key] = [
                self._parse_tracklet(t, key, i, unknown_cam)
                for i, t in enumerate(ann[key])
            ]
            seen = {}
            for i, info in enumerate(lists[key]):
                first = seen.setdefault(info['tracklet_id'], i)
                if first != i:
                    raise format_error(
                        path, f'{key}[{i}]', f'tracklet_id '
                        f'"{info["tracklet_id"]}" is listed twice in '
                        f'"{key}" (also {key}[{first}])')
        return lists

    def load_train(self) -> List[dict]:
        return self._load()['train']

    def num_train_ids(self) -> int:
        return len({info['pid'] for info in self._load().get('train', [])})

    def load_test(self) -> List[dict]:
        """Test infos: query then gallery, a shared tracklet only once;
        unknown identities get pids of their own."""
        lists = self._load()
        data_list, by_id = [], {}
        for key in ('query', 'gallery'):
            for i, info in enumerate(lists.get(key, [])):
                old = by_id.get(info['tracklet_id'])
                if old is None:
                    info.update(
                        is_query=key == 'query', is_gallery=key == 'gallery')
                    by_id[info['tracklet_id']] = info
                    data_list.append(info)
                    continue
                if any(old[k] != info[k] for k in ('pid', 'frame_paths')):
                    raise format_error(
                        self._json_path(), f'{key}[{i}]',
                        f'tracklet_id "{info["tracklet_id"]}" is listed '
                        'twice; an id may appear once in query and once in '
                        'gallery, with the same pid and frames')
                # Keep the query's camera (it may be a unique unknown one).
                old['is_gallery'] = True
        given = [i['pid'] for i in data_list if i['pid'] is not None]
        next_unknown = min(given + [0]) - 1
        for info in data_list:
            info['pid_known'] = info['pid'] is not None
            if not info['pid_known']:
                info['pid'], next_unknown = next_unknown, next_unknown - 1
        self._check_frames_owned_once(data_list)
        return data_list

    def _check_frames_owned_once(self, data_list: List[dict]) -> None:
        """Two test tracklets sharing a frame match each other perfectly (a
        query finds a copy of itself in the gallery): refuse them."""
        owner = {}
        for info in data_list:
            for frame in info['frame_paths']:
                first = owner.setdefault(frame, info['tracklet_id'])
                if first != info['tracklet_id']:
                    raise ValueError(
                        f'{self._json_path()}: frame "{frame}" belongs to '
                        f'tracklet "{first}" and to tracklet '
                        f'"{info["tracklet_id"]}"; a query and a gallery '
                        'tracklet of the same frames would match each other '
                        'perfectly. List such a tracklet once under one '
                        'tracklet_id in both "query" and "gallery".')

    def _parse_tracklet(self, t: dict, key: str, index: int,
                        unknown_cam: List[int]) -> dict:
        """Check one JSON tracklet and turn it into a data info."""
        path, row = self._json_path(), f'{key}[{index}]'
        if not isinstance(t, dict):
            raise format_error(path, row, 'expected an object')
        pid, camid = t.get('pid'), t.get('camid')
        frames = t.get('frame_paths')
        if pid is None and key != 'train':
            pass  # identity unknown: a pid of its own, given by load_test
        elif not isinstance(pid, int) or isinstance(pid, bool):
            raise format_error(
                path, row, f'"pid" must be an integer, got {pid!r}' +
                ('' if key == 'train' else ' (or null: identity unknown)'))
        if camid is None:
            unknown_cam[0] -= 1
            camid = unknown_cam[0]
        elif not isinstance(camid, int) or isinstance(camid, bool) or \
                camid < 0:
            # Negative ids are reserved for unknown cameras.
            raise format_error(
                path, row,
                f'"camid" must be an integer >= 0 or null, got {camid!r}')
        if not isinstance(frames, list) or not frames or not all(
                isinstance(p, str) for p in frames):
            raise format_error(
                path, row, '"frame_paths" must be a non-empty list of strings')
        return dict(
            frame_paths=[osp.join(self.data_root, p) for p in frames],
            pid=pid,
            camid=camid,
            tracklet_id=str(t.get('tracklet_id', f'{key}/{index}')))
