# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rank gallery tracklets for query tracklets and draw the ranked list.

Each tracklet is a folder of frame images (sorted by file name)::

    python demo/video_reid_demo.py CONFIG CHECKPOINT \\
        --query q/person_a q/person_b --gallery gallery_root --out ranked.png

``--gallery`` is a folder whose sub-folders are the gallery tracklets (or
several tracklet folders). Borders are grey unless ``--pid-regex`` extracts
an identity from the folder names, e.g. ``--pid-regex '^(\\d+)'`` for
``0012_cam1``; then green marks the query's identity and red another.
"""
import argparse
import os
import os.path as osp
import re
from typing import List, Optional

import cv2
import numpy as np

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def list_frames(folder: str) -> List[str]:
    """Image files of a tracklet folder, sorted by name."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'Tracklet folder {folder!r} does not exist')
    frames = sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.lower().endswith(IMG_EXTS))
    if not frames:
        raise ValueError(f'Tracklet folder {folder!r} has no {IMG_EXTS} '
                         'images')
    return frames


def gallery_folders(paths: List[str]) -> List[str]:
    """Expand a single gallery root into its tracklet sub-folders."""
    if len(paths) == 1:
        subdirs = sorted(
            osp.join(paths[0], d) for d in os.listdir(paths[0])
            if osp.isdir(osp.join(paths[0], d)))
        if subdirs:
            return subdirs
    return paths


def parse_pid(folder: str, pattern: Optional[str]) -> Optional[str]:
    """Identity from the folder name with the regex's first group."""
    if pattern is None:
        return None
    match = re.search(pattern, osp.basename(osp.normpath(folder)))
    if match is None or not match.groups():
        raise ValueError(f'--pid-regex {pattern!r} has no group matching '
                         f'folder {folder!r}')
    return match.group(1)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--query', nargs='+', required=True, help='query tracklet folders')
    parser.add_argument(
        '--gallery',
        nargs='+',
        required=True,
        help='a folder of gallery tracklet folders, or tracklet folders')
    parser.add_argument('--out', default='ranked_list.png', help='PNG file')
    parser.add_argument('--topk', type=int, default=5, help='results shown')
    parser.add_argument(
        '--frames', type=int, default=4, help='frames shown per tracklet')
    parser.add_argument(
        '--pid-regex', help='regex whose first group is the identity')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    # Imported after parsing: --help answers at once.
    from mmreid_video.apis import (extract_tracklet_features, init_model,
                                   search)
    from mmreid_video.visualization import (draw_ranked_list, gallery_panel,
                                            load_frames, query_panel,
                                            sample_indices)
    queries = args.query
    gallery = gallery_folders(args.gallery)
    q_frames = [list_frames(f) for f in queries]
    g_frames = [list_frames(f) for f in gallery]
    q_pids = [parse_pid(f, args.pid_regex) for f in queries]
    g_pids = [parse_pid(f, args.pid_regex) for f in gallery]

    model = init_model(args.config, args.checkpoint, args.device)
    q_feats = extract_tracklet_features(
        model, q_frames, batch_size=args.batch_size)
    g_feats = extract_tracklet_features(
        model, g_frames, batch_size=args.batch_size)
    indices, dists = search(q_feats, g_feats, topk=args.topk)

    def shown(paths):
        return load_frames(
            [paths[i] for i in sample_indices(len(paths), args.frames)])

    rows = []
    for q, folder in enumerate(queries):
        panels = []
        for rank, (g, dist) in enumerate(
                zip(indices[q].tolist(), dists[q].tolist()), start=1):
            match = None if q_pids[q] is None else g_pids[g] == q_pids[q]
            panels.append(
                gallery_panel(
                    shown(g_frames[g]),
                    rank,
                    dist,
                    match=match,
                    name=osp.basename(osp.normpath(gallery[g]))))
            print(f'query {folder}: #{rank} {gallery[g]} d={dist:.4f}')
        rows.append((query_panel(
            shown(q_frames[q]),
            name=osp.basename(osp.normpath(folder))), panels))
    image = draw_ranked_list(rows, frames_per_tracklet=args.frames)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f'Wrote {args.out} ({len(rows)} queries x top-{args.topk})')
    return image


if __name__ == '__main__':
    main()
