#!/usr/bin/env python3
"""Draw the package icons (64x64 PNG) with the standard library only.

Run once when an icon changes; the PNGs are committed under
vnf-packages/<vnf>/icons/ and ns-packages/<ns>/icons/.  The output is
deterministic (no timestamps, fixed zlib level), so re-running changes nothing.

    python3 scripts/make-icons.py
"""

import math
import struct
import sys
import zlib
from pathlib import Path

SIZE = 64
ROOT = Path(__file__).resolve().parents[1]


def png(pixels):
    """RGBA rows -> PNG bytes."""
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def canvas(background):
    """A rounded tile in ``background`` on a transparent square."""
    pixels = [[(0, 0, 0, 0)] * SIZE for _ in range(SIZE)]
    radius = 10
    for y in range(SIZE):
        for x in range(SIZE):
            cx = min(max(x, radius), SIZE - 1 - radius)
            cy = min(max(y, radius), SIZE - 1 - radius)
            if (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2:
                pixels[y][x] = background + (255,)
    return pixels


def disc(pixels, cx, cy, r, colour):
    for y in range(SIZE):
        for x in range(SIZE):
            if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                pixels[y][x] = colour + (255,)


def line(pixels, x0, y0, x1, y1, width, colour):
    steps = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
    for i in range(steps + 1):
        t = i / steps
        disc(pixels, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, width / 2, colour)


def rect(pixels, x0, y0, x1, y1, colour):
    for y in range(y0, y1):
        for x in range(x0, x1):
            pixels[y][x] = colour + (255,)


WHITE = (255, 255, 255)


def epc():
    """A radio mast with waves: the mobile core."""
    p = canvas((30, 90, 160))
    line(p, 32, 20, 22, 54, 4, WHITE)
    line(p, 32, 20, 42, 54, 4, WHITE)
    line(p, 26, 40, 38, 40, 3, WHITE)
    disc(p, 32, 18, 4, WHITE)
    for r in (10, 16):
        for a in range(-50, 51, 4):
            for side in (-1, 1):
                ang = math.radians(a)
                disc(p, 32 + side * r * math.cos(ang), 18 + r * math.sin(ang), 1.3, WHITE)
    return p


def registrar():
    """A hub with spokes: the pool registrar."""
    p = canvas((40, 130, 80))
    for ang in range(0, 360, 60):
        a = math.radians(ang + 30)
        x, y = 32 + 20 * math.cos(a), 32 + 20 * math.sin(a)
        line(p, 32, 32, x, y, 3, WHITE)
        disc(p, x, y, 5, WHITE)
    disc(p, 32, 32, 9, WHITE)
    disc(p, 32, 32, 5, (40, 130, 80))
    return p


def pool_element():
    """Stacked servers: a pool element."""
    p = canvas((200, 110, 30))
    for top in (12, 27, 42):
        rect(p, 14, top, 50, top + 11, WHITE)
        disc(p, 20, top + 5.5, 2, (200, 110, 30))
        rect(p, 28, top + 4, 44, top + 7, (200, 110, 30))
    return p


def network_service():
    """Linked nodes: the network service."""
    p = canvas((110, 60, 150))
    nodes = [(18, 20), (46, 18), (32, 46), (50, 46), (14, 44)]
    for a, b in ((0, 1), (0, 2), (1, 2), (2, 3), (2, 4), (1, 3)):
        line(p, *nodes[a], *nodes[b], 2.5, WHITE)
    for x, y in nodes:
        disc(p, x, y, 6, WHITE)
    return p


ICONS = {
    "vnf-packages/oai-epc/icons/oai-epc.png": epc,
    "vnf-packages/rsp-registrar/icons/rsp-registrar.png": registrar,
    "vnf-packages/rsp-pool-element/icons/rsp-pool-element.png": pool_element,
    "ns-packages/mec-offload/icons/mec-offload.png": network_service,
}


def main():
    for relative, draw in ICONS.items():
        path = ROOT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png(draw()))
        print(relative)
    return 0


if __name__ == "__main__":
    sys.exit(main())
