"""Regenerate the sample images and video from scikit-image's astronaut photo (NASA, public domain).

Needs scikit-image only here (`pip install scikit-image`); it is not a dependency of fer-edge.
Run from the repository root: `python examples/make_examples.py`.
"""
from pathlib import Path

import cv2
import numpy as np
from skimage import data

HERE = Path(__file__).resolve().parent


def main() -> None:
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # 512 x 512
    cv2.imwrite(str(HERE / "astronaut.jpg"), astronaut, [cv2.IMWRITE_JPEG_QUALITY, 85])

    # Several faces: the astronaut at three sizes on one plain canvas.
    group = np.full((320, 800, 3), 90, np.uint8)
    for size, (x, y), flip in ((300, (0, 10), False), (260, (300, 30), True), (230, (570, 60), False)):
        tile = cv2.resize(astronaut, (size, size), interpolation=cv2.INTER_AREA)
        group[y : y + size, x : x + size] = tile[:, ::-1] if flip else tile
    cv2.imwrite(str(HERE / "group.jpg"), group, [cv2.IMWRITE_JPEG_QUALITY, 85])

    # A short clip: a 260 px window drifting over the face, 60 frames at 15 FPS, so tracking has motion.
    writer = cv2.VideoWriter(str(HERE / "astronaut.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (320, 320))
    for i in range(60):
        dx, dy = int(30 * np.sin(i / 60 * 2 * np.pi)), int(i / 4)
        window = astronaut[dy : 260 + dy, 100 + dx : 360 + dx]
        writer.write(cv2.resize(window, (320, 320), interpolation=cv2.INTER_AREA))
    writer.release()


if __name__ == "__main__":
    main()
