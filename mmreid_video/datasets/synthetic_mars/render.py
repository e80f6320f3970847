# Copyright (c) mmreid_video contributors. All rights reserved.
"""Rendering of the synthetic persons, cameras and tracklets.

Persons differ only in appearance (clothing colours and patterns, body
proportions, accessories); cameras differ in colour cast, brightness, blur,
noise, JPEG quality and background clutter; tracklets move (position and
scale jitter, walking legs, partial occlusion). Junk tracklets are
background crops and distractors badly cropped persons, as in MARS.
"""
from typing import Dict, List

import cv2
import numpy as np

# RGB palettes; shirts and trousers are drawn without replacement as pairs.
SHIRTS = [(200, 30, 30), (30, 150, 40), (40, 70, 200), (230, 210, 40),
          (240, 130, 20), (130, 40, 170), (40, 200, 210), (235, 90, 170),
          (235, 235, 235), (25, 25, 25), (130, 130, 130), (120, 70, 30),
          (250, 170, 170), (0, 110, 110), (170, 230, 80), (90, 30, 80)]
TROUSERS = [(20, 20, 20), (30, 40, 110), (120, 120, 120), (200, 180, 130),
            (100, 60, 25), (70, 110, 180), (230, 230, 230), (90, 110, 40),
            (170, 30, 40), (40, 140, 70), (60, 20, 90), (210, 120, 60),
            (20, 90, 90), (220, 210, 60)]
SKINS = [(240, 200, 170), (210, 160, 120), (160, 110, 70), (100, 65, 40)]
HAIRS = [(15, 15, 15), (90, 50, 20), (220, 190, 110), (170, 170, 170)]


def sample_person(rng: np.random.Generator, shirt: int, trousers: int) -> Dict:
    """Draw the appearance of one identity."""
    return dict(
        height=rng.uniform(0.80, 0.95),
        width=rng.uniform(0.44, 0.6),
        torso=rng.uniform(0.32, 0.42),
        head=rng.uniform(0.12, 0.16),
        shirt=SHIRTS[shirt],
        shirt2=SHIRTS[(shirt + rng.integers(3, 9)) % len(SHIRTS)],
        pattern=int(rng.integers(4)),  # solid, h-stripes, v-stripes, 2-tone
        short_sleeves=bool(rng.random() < 0.4),
        trousers=TROUSERS[trousers],
        shorts=bool(rng.random() < 0.25),
        skin=SKINS[rng.integers(len(SKINS))],
        hair=HAIRS[rng.integers(len(HAIRS))],
        shoes=SHIRTS[rng.integers(len(SHIRTS))],
        accessory=int(rng.integers(4)),  # none, backpack, hat, bag
        acc_color=SHIRTS[rng.integers(len(SHIRTS))])


def sample_camera(rng: np.random.Generator, h: int, w: int) -> Dict:
    """Draw one camera: colour cast, brightness, blur and a cluttered
    background canvas larger than a frame."""
    ch, cw = 2 * h, 3 * w

    def muted(lo: float, hi: float) -> np.ndarray:
        # Greyish colours, so that clothing stands out from the scene.
        return rng.uniform(lo, hi) + rng.uniform(-25, 25, 3)

    ramp = np.linspace(0.8, 1.2, ch)[:, None, None]
    bg = np.broadcast_to(muted(70, 170) * ramp, (ch, cw, 3)).copy()
    bg[int(ch * rng.uniform(0.6, 0.8)):] = muted(50, 150)  # floor
    for _ in range(rng.integers(8, 16)):
        x0, y0 = rng.integers(0, cw), rng.integers(0, ch)
        x1 = x0 + rng.integers(2, max(3, w // 2))
        y1 = y0 + rng.integers(2, max(3, h // 2))
        bg[y0:y1, x0:x1] = muted(30, 220)
    return dict(
        bg=bg.astype(np.float32),
        gain=rng.uniform(0.85, 1.15, 3).astype(np.float32),
        offset=float(rng.uniform(-25, 25)),
        blur=float(rng.choice([0.0, 0.6, 0.9])),
        noise=float(rng.uniform(2, 6)),
        quality=int(rng.integers(75, 96)))


def _fill(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
          color) -> None:
    """Fill a clipped axis-aligned box of ``img`` in place."""
    h, w = img.shape[:2]
    x0, x1 = max(int(round(x0)), 0), min(int(round(x1)), w)
    y0, y1 = max(int(round(y0)), 0), min(int(round(y1)), h)
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1] = color


def _paint_person(img: np.ndarray, p: Dict, cx: float, top: float,
                  scale: float, phase: float) -> None:
    """Draw a person whose head top is at ``top`` and centre at ``cx``."""
    h, w = img.shape[:2]
    body = p['height'] * h * scale
    head, torso = p['head'] * body, p['torso'] * body
    half = p['width'] * w * scale / 2
    t0, t1, bottom = top + head, top + head + torso, top + body
    # Legs (swinging) with trousers or shorts, then shoes.
    leg_w, swing = half * 0.8, np.sin(phase) * half * 0.25
    for side, sgn in ((cx - half * 0.9, 1), (cx + half * 0.1, -1)):
        x0 = side + sgn * swing
        _fill(img, x0, t1, x0 + leg_w, bottom, p['skin'])
        end = t1 + (bottom - t1) * (0.4 if p['shorts'] else 0.93)
        _fill(img, x0, t1, x0 + leg_w, end, p['trousers'])
        _fill(img, x0, bottom - body * 0.04, x0 + leg_w, bottom, p['shoes'])
    if p['accessory'] == 1:  # backpack sticking out on one side
        _fill(img, cx + half * 0.6, t0 + torso * 0.1, cx + half * 1.25,
              t0 + torso * 0.8, p['acc_color'])
    # Arms, then the torso with its pattern.
    arm = half * 0.35
    for x0 in (cx - half - arm, cx + half):
        _fill(img, x0, t0, x0 + arm, t1, p['skin'])
        sleeve = t1 if not p['short_sleeves'] else t0 + torso * 0.45
        _fill(img, x0, t0, x0 + arm, sleeve, p['shirt'])
    _fill(img, cx - half, t0, cx + half, t1, p['shirt'])
    stripe = max(torso / 6, 1.0)
    if p['pattern'] == 1:
        for y in np.arange(t0 + stripe, t1, 2 * stripe):
            _fill(img, cx - half, y, cx + half, y + stripe, p['shirt2'])
    elif p['pattern'] == 2:
        for x in np.arange(cx - half + stripe / 2, cx + half, 2 * stripe):
            _fill(img, x, t0, x + stripe, t1, p['shirt2'])
    elif p['pattern'] == 3:
        _fill(img, cx - half, (t0 + t1) / 2, cx + half, t1, p['shirt2'])
    if p['accessory'] == 3:  # shoulder bag at the hip
        _fill(img, cx + half * 0.3, t1 - torso * 0.25, cx + half * 1.2,
              t1 + torso * 0.15, p['acc_color'])
    # Head, hair, hat.
    hw = head * 0.38
    _fill(img, cx - hw, top, cx + hw, t0, p['skin'])
    _fill(img, cx - hw, top, cx + hw, top + head * 0.35, p['hair'])
    if p['accessory'] == 2:
        _fill(img, cx - hw * 1.1, top - head * 0.25, cx + hw * 1.1,
              top + head * 0.25, p['acc_color'])


def render_tracklet(rng: np.random.Generator, person, cam: Dict,
                    num_frames: int, h: int, w: int,
                    kind: str) -> List[np.ndarray]:
    """Render one tracklet as BGR uint8 frames.

    ``kind`` is ``'person'``, ``'distractor'`` (badly cropped person) or
    ``'junk'`` (background only).
    """
    bg = cam['bg']
    ox, oy = rng.uniform(0, bg.shape[1] - w), rng.uniform(0, bg.shape[0] - h)
    vx = rng.uniform(-0.4, 0.4)
    cx, top = w / 2 + rng.uniform(-2, 2) * w / 32, rng.uniform(0.01, 0.06) * h
    scale = rng.uniform(0.92, 1.02)
    if kind == 'distractor':  # a crop showing only part of a person
        top -= rng.uniform(0.35, 0.55) * h
        scale *= rng.uniform(1.0, 1.4)
    occluded = rng.random() < 0.25
    occ_start = int(rng.integers(0, max(num_frames // 2, 1)))
    occ_box = (rng.uniform(0, 0.5) * w, rng.uniform(0.3, 0.6) * h,
               rng.uniform(0.5, 1.0) * w, h)
    occ_color = rng.uniform(0, 255, 3)
    phase0 = rng.uniform(0, 2 * np.pi)
    frames = []
    for t in range(num_frames):
        x = int(np.clip(ox + vx * t * 2, 0, bg.shape[1] - w))
        img = bg[int(oy):int(oy) + h, x:x + w].copy()
        if kind != 'junk':
            _paint_person(img, person, cx + vx * t + rng.normal(0, 0.02 * w),
                          top + rng.normal(0, 0.01 * h),
                          scale * rng.normal(1, 0.03), phase0 + 0.8 * t)
        if occluded and t >= occ_start:
            _fill(img, *occ_box, occ_color)
        img = img * cam['gain'] + cam['offset']
        if cam['blur'] > 0:
            img = cv2.GaussianBlur(img, (0, 0), cam['blur'])
        img += rng.normal(0, cam['noise'], img.shape).astype(np.float32)
        frames.append(np.clip(img, 0, 255).astype(np.uint8)[..., ::-1])
    return frames
