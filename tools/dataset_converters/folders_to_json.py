# Copyright (c) mmreid_video contributors. All rights reserved.
"""Build a CustomVideoReIDDataset JSON file from a tracklet folder tree.

The tree is ``<root>/{train,query,gallery}/<pid>/<tracklet>/<frames>``
(``<pid>`` an integer); tracklets of unknown identity (your own footage)
sit in ``<root>/{query,gallery}/<tracklet>/<frames>`` and get ``"pid":
null``. Lists may be missing: a query set alone is ``<root>/query/...``.
Frames are ordered by the numbers in their names. Cameras are parsed with
``--cam-pattern`` (a regex whose first group is the camera number, matched
against ``<tracklet>/<first frame name>``); the camera numbers found, in
increasing order, become the 0-based ``camid`` 0, 1, ... (``C1``..``C6``
give 0..5, as the MARS loader's ``camera - 1``). Without it every tracklet
counts as its own camera (see ``CustomVideoReIDDataset``), so same-camera
matches count at evaluation and are not excluded from a search; the tool
warns. (:mod:`mmreid_video.datasets.tracklet_folders` reads the tree.)

Example:
    python tools/dataset_converters/folders_to_json.py data/my_cams \\
        --cam-pattern 'C(\\d+)'
"""
import argparse
import json
import os.path as osp
import sys


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Tracklet folder tree -> CustomVideoReIDDataset JSON')
    parser.add_argument('root', help='tree root (also the data_root)')
    parser.add_argument(
        '--out', help='output file (default: <root>/annotations.json)')
    parser.add_argument(
        '--cam-pattern',
        help=r'regex whose group 1 is the camera, e.g. "C(\d+)"; '
        'without it cameras are unknown')
    args = parser.parse_args()
    # Imported after parsing: --help answers at once.
    from mmreid_video.datasets.tracklet_folders import tree_annotations
    from mmreid_video.fileio import atomic_write
    from mmreid_video.utils import check_output_path
    if args.cam_pattern is None:
        print(
            'Warning: no --cam-pattern, so cameras are unknown and every '
            'tracklet counts as its own camera: at evaluation, tracklets of '
            "the query's person from the query's own camera count as "
            'matches (optimistic results, not comparable with published '
            'ones), and a search (tools/search.py --rule camera) leaves '
            "out none of the query camera's tracklets. Pass --cam-pattern "
            'REGEX (group 1: the camera number) '
            'to read cameras from the names.',
            file=sys.stderr)
    out = args.out or osp.join(args.root, 'annotations.json')
    if osp.isdir(args.root):
        # Before the tree is walked; the default lives in the root itself.
        check_output_path(out, '--out', suffixes=('.json', ))
    ann, numbers = tree_annotations(args.root, args.cam_pattern)
    if numbers is not None:
        print(f'camera numbers {numbers} -> camid 0..{len(numbers) - 1}')
    # Whole or not at all: an existing annotation file is never truncated.
    atomic_write(json.dumps(ann).encode(), out)
    print(f'{out}: ' + ', '.join(f'{len(v)} {k}'
                                 for k, v in ann.items()) + ' tracklets')


if __name__ == '__main__':
    main()
