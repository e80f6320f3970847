# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rank gallery tracklets for query tracklets and draw the ranked list.

A tracklet is a folder of frame images (ordered by the numbers in their
names). ``--query`` and ``--gallery`` each take tracklet folders or trees
of them, e.g. the ``<pid>/<tracklet>/<frames>`` lists of the tree that
``tools/dataset_converters/folders_to_json.py`` reads::

    python demo/video_reid_demo.py CONFIG CHECKPOINT \\
        --query data/my_cams/query --gallery data/my_cams/gallery \\
        --pid-regex '^(\\d+)/' --cam-pattern 'C(\\d+)' --out ranked.png

``--pid-regex``: group 1 is the identity, searched in each tracklet's path
relative to the folder given (its own name when a tracklet folder is given):
``'^(\\d+)/'`` reads the ``<pid>`` folder of that tree, ``'^(\\d+)_'`` a
name like ``0012_cam1``. Without it identities are unknown and the gallery
cells grey; with it green marks the query's identity, red another.
``--cam-pattern``: group 1 is the camera number, searched in ``<tracklet
folder name>/<first frame name>`` (as the converter does); with cameras
known, gallery tracklets of the query's camera are left out, as a
cross-camera search does. Labels show the tracklet, its identity and camera.
"""
import argparse
import os
import os.path as osp
import re
from typing import List, Optional, Tuple


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog=__doc__[__doc__.index('``--pid-regex``'):],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--query',
        nargs='+',
        required=True,
        help='query tracklet folders, or trees of them')
    parser.add_argument(
        '--gallery',
        nargs='+',
        required=True,
        help='gallery tracklet folders, or trees of them')
    parser.add_argument('--out', default='ranked_list.png', help='PNG file')
    parser.add_argument('--topk', type=int, default=5, help='results shown')
    parser.add_argument(
        '--frames', type=int, default=4, help='frames shown per tracklet')
    parser.add_argument(
        '--pid-regex',
        help='regex whose group 1 is the identity, searched in the path '
        'relative to the folder given')
    parser.add_argument(
        '--cam-pattern',
        help='regex whose group 1 is the camera number, searched in '
        '"<tracklet>/<first frame name>"; leaves out same-camera gallery '
        'items')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def collect_tracklets(paths: List[str]) -> List[Tuple[str, str]]:
    """Every tracklet folder under the given paths, with its path relative
    to the one given (its name when a tracklet folder is given)."""
    from mmreid_video.datasets.tracklet_folders import find_tracklets
    found = []
    for root in paths:
        for folder in find_tracklets(root):
            rel = osp.relpath(folder, root)
            found.append(
                (folder,
                 osp.basename(osp.abspath(folder)) if rel == '.' else rel))
    return found


def parse_pid(rel: str, pattern: Optional[str]) -> Optional[str]:
    """Identity from a tracklet's relative path (the regex's group 1)."""
    if pattern is None:
        return None
    match = re.search(pattern, rel.replace(os.sep, '/'))
    if match is None or not match.groups():
        raise ValueError(f'--pid-regex {pattern!r} has no group matching '
                         f'the tracklet path {rel!r}')
    return match.group(1)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    # Imported after parsing: --help answers at once.
    import cv2

    from mmreid_video.apis import extract_tracklet_features, init_model, search
    from mmreid_video.datasets.tracklet_folders import camera_ids, list_frames
    from mmreid_video.visualization import (draw_ranked_list, gallery_panel,
                                            load_frames, query_panel,
                                            sample_indices)
    queries = collect_tracklets(args.query)
    tracklets = queries + collect_tracklets(args.gallery)
    num_q = len(queries)
    frames = [[osp.join(f, name) for name in list_frames(f)]
              for f, _ in tracklets]
    names = [rel for _, rel in tracklets]
    pids = [parse_pid(rel, args.pid_regex) for rel in names]
    camids, cameras = [None] * len(tracklets), ()
    if args.cam_pattern is not None:
        camids, numbers = camera_ids([
            f'{osp.basename(osp.abspath(f))}/{osp.basename(paths[0])}'
            for (f, _), paths in zip(tracklets, frames)
        ], args.cam_pattern, names)
        cameras = [f'cam {n}' for n in numbers]  # labels: the names' numbers

    model = init_model(args.config, args.checkpoint, args.device)
    feats = extract_tracklet_features(
        model, frames, batch_size=args.batch_size)
    known_cams = args.cam_pattern is not None
    indices, dists = search(
        feats[:num_q],
        feats[num_q:],
        topk=args.topk,
        query_camids=camids[:num_q] if known_cams else None,
        gallery_camids=camids[num_q:] if known_cams else None)
    print('excluded: ' + ('same camera as the query' if known_cams else
                          'nothing (no --cam-pattern: cameras unknown)'))

    def shown(paths):
        return load_frames(
            [paths[i] for i in sample_indices(len(paths), args.frames)])

    def label(i):
        return dict(camid=camids[i], pid=pids[i], name=osp.basename(names[i]))

    rows = []
    for q in range(num_q):
        panels = []
        for rank, (g, dist) in enumerate(
                zip(indices[q].tolist(), dists[q].tolist()), start=1):
            if g < 0:  # fewer gallery items left than --topk
                break
            g += num_q
            match = None if pids[q] is None else pids[g] == pids[q]
            panels.append(
                gallery_panel(
                    shown(frames[g]),
                    rank,
                    dist,
                    match=match,
                    camera_names=cameras,
                    **label(g)))
            print(f'query {names[q]}: #{rank} {names[g]} d={dist:.4f}')
        rows.append(
            (query_panel(shown(frames[q]), camera_names=cameras,
                         **label(q)), panels))
    image = draw_ranked_list(
        rows,
        num_gallery=min(args.topk,
                        len(tracklets) - num_q),
        frames_per_tracklet=args.frames)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if not cv2.imwrite(args.out, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f'Cannot write {args.out}')
    print(f'Wrote {args.out} ({len(rows)} queries x top-{args.topk})')
    return image


if __name__ == '__main__':
    main()
