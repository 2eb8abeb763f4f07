#!/usr/bin/env python3
"""Writes the metrics-only faces that tau-plot embeds in the browser build.

In the browser (wasm32) the page's own fonts draw the SVG text, so tau-plot
needs the bundled faces only to measure text (advance widths and the legacy
`kern` pairs that ab_glyph reads). This keeps exactly the tables that
measurement reads (head, hhea, maxp, OS/2, cmap, hmtx, kern), byte for byte,
and drops the outlines, hinting, OpenType layout and names: about 18 KB per
face instead of 410 KB. `font.rs`'s test checks that every character measures
the same in both.

Run from the repository root (plain Python 3, no packages):
    python3 crates/tau-plot/assets/fonts/metrics/make_metrics_only.py
"""
import struct
from pathlib import Path

KEEP = [b"OS/2", b"cmap", b"head", b"hhea", b"hmtx", b"kern", b"maxp"]
HERE = Path(__file__).resolve().parent


def checksum(data):
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def metrics_only(font):
    count = struct.unpack(">H", font[4:6])[0]
    tables = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i])
        if tag in KEEP:
            tables[tag] = font[offset:offset + length]
    missing = [t for t in KEEP if t not in tables]
    assert not missing, f"the font lacks {missing}"
    n = len(KEEP)
    power = 1 << (n.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, n, power * 16, power.bit_length() - 1, n * 16 - power * 16)
    offset = 12 + 16 * n
    directory, body = b"", b""
    for tag in KEEP:  # sorted by tag, as the format requires
        data = tables[tag]
        if tag == b"head":  # checkSumAdjustment is recomputed below
            data = data[:8] + b"\0\0\0\0" + data[12:]
        directory += struct.pack(">4sIII", tag, checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    out = bytearray(header + directory + body)
    head = offset + sum(len(tables[t]) + (-len(tables[t]) % 4) for t in KEEP[:KEEP.index(b"head")])
    struct.pack_into(">I", out, head + 8, (0xB1B0AFBA - checksum(bytes(out))) & 0xFFFFFFFF)
    return bytes(out)


for face in ["Regular", "Bold"]:
    source = HERE.parent / f"LiberationSans-{face}.ttf"
    target = HERE / f"LiberationSans-{face}-metrics.ttf"
    target.write_bytes(metrics_only(source.read_bytes()))
    print(f"{target.name}: {target.stat().st_size} bytes")
