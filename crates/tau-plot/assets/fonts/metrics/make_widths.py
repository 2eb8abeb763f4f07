#!/usr/bin/env python3
"""Writes the width tables that tau-plot embeds in the browser build.

In the browser (wasm32) the page's own fonts draw the SVG text, so tau-plot
only needs to measure text as the bundled faces do: each character's glyph
and advance width (cmap, hmtx) and the kerning of glyph pairs (the legacy
`kern` table, the one ab_glyph reads). This writes them, read from
Liberation Sans, as a small table that `src/font/widths.rs` reads (its test
checks every character and kerning pair against the full face):

    b"TAUW", units_per_em: u16, notdef_advance: u16,
    n: u32, n x (char: u32, glyph: u16, advance: u16)  sorted by char,
    m: u32, m x (left: u16, right: u16, value: i16)     sorted by (left, right),

little-endian. About 20 KB a face instead of 410 KB, and no font parser.

Run from the repository root (plain Python 3, no packages):
    python3 crates/tau-plot/assets/fonts/metrics/make_widths.py
"""
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tables(font):
    count = struct.unpack(">H", font[4:6])[0]
    out = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i])
        out[tag] = font[offset:offset + length]
    return out


def cmap_format4(cmap):
    """The (3, 1) Unicode BMP subtable, format 4: char -> glyph."""
    _, count = struct.unpack(">HH", cmap[:4])
    for i in range(count):
        platform, encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
        if (platform, encoding) == (3, 1):
            break
    else:
        raise SystemExit("no (3, 1) cmap subtable")
    sub = cmap[offset:]
    assert struct.unpack(">H", sub[:2])[0] == 4
    segments = struct.unpack(">H", sub[6:8])[0] // 2
    at = 14
    ends = struct.unpack(f">{segments}H", sub[at:at + 2 * segments])
    at += 2 * segments + 2
    starts = struct.unpack(f">{segments}H", sub[at:at + 2 * segments])
    at += 2 * segments
    deltas = struct.unpack(f">{segments}h", sub[at:at + 2 * segments])
    at += 2 * segments
    range_at = at
    ranges = struct.unpack(f">{segments}H", sub[at:at + 2 * segments])
    glyphs = {}
    for s in range(segments):
        for c in range(starts[s], ends[s] + 1):
            if c == 0xFFFF:
                continue
            if ranges[s] == 0:
                glyph = (c + deltas[s]) & 0xFFFF
            else:
                where = range_at + 2 * s + ranges[s] + 2 * (c - starts[s])
                glyph = struct.unpack(">H", sub[where:where + 2])[0]
                if glyph:
                    glyph = (glyph + deltas[s]) & 0xFFFF
            if glyph:
                glyphs[c] = glyph
    return glyphs


def advances(t):
    metrics = struct.unpack(">H", t[b"hhea"][34:36])[0]
    hmtx = t[b"hmtx"]
    widths = [struct.unpack(">H", hmtx[4 * i:4 * i + 2])[0] for i in range(metrics)]
    return lambda glyph: widths[min(glyph, metrics - 1)]


def kerning(kern):
    version, count = struct.unpack(">HH", kern[:4])
    assert version == 0 and count == 1, "one kern subtable"
    _, _, coverage = struct.unpack(">HHH", kern[4:10])
    assert coverage == 1, "horizontal format-0 kerning"
    pairs = struct.unpack(">H", kern[10:12])[0]
    return sorted(struct.unpack(">HHh", kern[18 + 6 * i:24 + 6 * i]) for i in range(pairs))


def widths(font):
    t = tables(font)
    units = struct.unpack(">H", t[b"head"][18:20])[0]
    advance = advances(t)
    glyphs = cmap_format4(t[b"cmap"])
    out = b"TAUW" + struct.pack("<HHI", units, advance(0), len(glyphs))
    for c in sorted(glyphs):
        out += struct.pack("<IHH", c, glyphs[c], advance(glyphs[c]))
    pairs = kerning(t[b"kern"])
    out += struct.pack("<I", len(pairs))
    for left, right, value in pairs:
        out += struct.pack("<HHh", left, right, value)
    return out


for face in ["Regular", "Bold"]:
    source = HERE.parent / f"LiberationSans-{face}.ttf"
    target = HERE / f"LiberationSans-{face}.widths"
    target.write_bytes(widths(source.read_bytes()))
    print(f"{target.name}: {target.stat().st_size} bytes")
