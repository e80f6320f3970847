# Copyright (c) mmreid_video contributors. All rights reserved.
"""Plot training curves from an MMEngine work dir.

``python tools/analysis_tools/plot_curves.py WORK_DIR [--out FILE]`` reads the
scalar logs that ``LocalVisBackend`` writes (``WORK_DIR/<timestamp>/vis_data/
scalars.json``, one JSON object per line; several runs of one work dir, e.g.
a resumed training, are read in timestamp order) and draws three panels: the
loss terms and the learning rate against the iteration, the evaluation
metrics against the epoch (or iteration for iteration-based training).
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Tuple

Records = List[Dict[str, float]]


def find_scalar_logs(work_dir: str) -> List[str]:
    """Return the ``scalars.json`` files of a work dir, oldest run first.

    Args:
        work_dir (str): A runner work dir, or one of its timestamp folders.

    Returns:
        list[str]: Paths of the scalar logs.
    """
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    files += glob.glob(osp.join(work_dir, 'vis_data', 'scalars.json'))
    if not files:
        raise FileNotFoundError(
            f'No */vis_data/scalars.json under {work_dir!r}: is it a work '
            'dir of a run with LocalVisBackend?')
    return files


def load_scalars(files: List[str]) -> Tuple[Records, Records]:
    """Split scalar log lines into training and evaluation records.

    Training lines carry ``iter`` (the logger's train tag); evaluation lines
    carry metric keys with a prefix such as ``reid/mAP``.

    Args:
        files (list[str]): Scalar logs, in run order.

    Returns:
        tuple[list[dict], list[dict]]: Training and evaluation records.
    """
    train, val = [], []
    for file in files:
        with open(file) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(
                        f'{file}:{lineno} is not a JSON object') from err
                if 'iter' in record:
                    train.append(record)
                elif any('/' in key for key in record):
                    val.append(record)
    return train, val


def _is_lr(key: str) -> bool:
    return key == 'lr' or key.endswith('.lr') or key.endswith('_lr')


def _series(records: Records, x_key: str,
            keep) -> Dict[str, Tuple[List[float], List[float]]]:
    series: Dict[str, Tuple[List[float], List[float]]] = {}
    for record in records:
        for key, value in record.items():
            if keep(key) and isinstance(value, (int, float)):
                xs, ys = series.setdefault(key, ([], []))
                xs.append(record[x_key])
                ys.append(value)
    return series


def plot_curves(train: Records, val: Records, out_file: str) -> List[str]:
    """Draw the loss, learning-rate and metric panels to a PNG file.

    Args:
        train (list[dict]): Training records (need ``step``).
        val (list[dict]): Evaluation records (need ``step``).
        out_file (str): Output image path.

    Returns:
        list[str]: Titles of the panels drawn.
    """
    panels = [
        ('loss', 'iteration', _series(train, 'step', lambda k: 'loss' in k)),
        ('learning rate', 'iteration', _series(train, 'step', _is_lr)),
    ]
    if val:
        by_epoch = any('epoch' in r for r in train)
        panels.append(('evaluation', 'epoch' if by_epoch else 'iteration',
                       _series(val, 'step', lambda k: '/' in k)))
    panels = [p for p in panels if p[2]]
    if not panels:
        raise ValueError('The logs hold no loss, lr or metric values')
    import matplotlib
    matplotlib.use('Agg')  # files only; no display needed
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (title, xlabel, series) in zip(axes[0], panels):
        for key, (xs, ys) in series.items():
            ax.plot(xs, ys, label=key, marker='o' if len(xs) < 20 else None)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    fig.tight_layout()
    from mmreid_video.fileio import atomic_write
    fmt = osp.splitext(out_file)[1][1:] or 'png'
    atomic_write(lambda f: fig.savefig(f, dpi=100, format=fmt), out_file)
    plt.close(fig)
    return [p[0] for p in panels]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot losses, learning rate and metrics of a run')
    parser.add_argument('work_dir', help='the runner work dir')
    parser.add_argument(
        '--out', help='output PNG (default: WORK_DIR/curves.png)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = args.out or osp.join(args.work_dir, 'curves.png')
    train, val = load_scalars(find_scalar_logs(args.work_dir))
    panels = plot_curves(train, val, out)
    print(f'Wrote {out} ({", ".join(panels)}; {len(train)} train and '
          f'{len(val)} eval records)')


if __name__ == '__main__':
    main()
