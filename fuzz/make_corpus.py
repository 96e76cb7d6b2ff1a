#!/usr/bin/python3
"""Seed corpora for pgg's fuzz harnesses (fuzz/fuzz_*.cpp): small valid inputs, and a few near-valid
ones, for each harness in OUT/<harness>/ (default build/fuzz/corpus). Needs numpy and the standard
library only; every image and DICOM file is encoded here (no Pillow, no pydicom, nothing from
../shared/data). Files are written anew each run; inputs libFuzzer added beside them are kept.

    /usr/bin/python3 fuzz/make_corpus.py [OUT]
"""
import gzip
import json
import math
import os
import pickle
import struct
import sys
import zlib

import numpy as np

RNG = np.random.default_rng(1000)


def pattern(h, w, c=1, depth=8):
    """A smooth gradient plus noise: compressible, yet every decoder path sees varied values."""
    y, x = np.mgrid[0:h, 0:w]
    top = (1 << depth) - 1
    planes = [((x * (k + 1) * 37 + y * 23 + k * 50) % (top + 1)) for k in range(c)]
    img = np.stack(planes, axis=-1).astype(np.int64)
    img = (img + RNG.integers(0, max(2, top // 16), size=img.shape)) % (top + 1)
    img = img.astype(np.uint16 if depth > 8 else np.uint8)
    return img[..., 0] if c == 1 else img  # gray: (h, w)


# ---------------------------------------------------------------- PNG

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_filter(rows, bpp, first_filter=0):
    """Filters each row with types 0-4 in turn (so stb's unfiltering meets all five)."""
    out, prev = b"", bytes(len(rows[0])) if rows else b""
    for n, row in enumerate(rows):
        ftype = (first_filter + n) % 5
        f = bytearray(len(row))
        for i, v in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            f[i] = (v - pred) & 0xFF
        out += bytes([ftype]) + bytes(f)
        prev = row
    return out


def png_rows(samples, depth):
    """samples: (h, w, c) ints -> packed scanlines (big-endian 16-bit, or 1/2/4-bit packed)."""
    rows = []
    for r in samples:
        flat = r.reshape(-1)
        if depth == 16:
            rows.append(b"".join(struct.pack(">H", int(v)) for v in flat))
        elif depth == 8:
            rows.append(bytes(int(v) for v in flat))
        else:
            bits = "".join(format(int(v), "0%db" % depth) for v in flat)
            bits += "0" * ((8 - len(bits) % 8) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(samples, color_type, depth, interlace=False, palette=None, trns=None, extra=b"", raw_deflate=False):
    h, w = samples.shape[:2]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = max(1, channels * depth // 8)
    if interlace:
        raw = b""
        for n, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = samples[y0::dy, x0::dx]
            if sub.size:
                raw += png_filter(png_rows(sub, depth), bpp, n)
    else:
        raw = png_filter(png_rows(samples, depth), bpp)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    out += extra
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += png_chunk(b"tRNS", bytes(trns))
    if raw_deflate:  # Apple's CgBI PNGs: deflate without the zlib wrapper
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        z = c.compress(raw) + c.flush()
    else:
        z = zlib.compress(raw, 9)
    out += png_chunk(b"IDAT", z[: len(z) // 2]) + png_chunk(b"IDAT", z[len(z) // 2:])  # two IDATs
    return out + png_chunk(b"IEND", b"")


# ---------------------------------------------------------------- JPEG (baseline and progressive)

ZIGZAG = sorted(((u, v) for u in range(8) for v in range(8)), key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else p[1]))
DCT = np.array([[(math.sqrt(0.5) if u == 0 else 1.0) / 2 * math.cos((2 * x + 1) * u * math.pi / 16) for x in range(8)] for u in range(8)])
QUANT = [max(2, 4 + (u + v) * 3) for (u, v) in ZIGZAG]  # in zigzag order
# Huffman tables of our own (the file carries them): DC sizes 0-11 in 4-bit codes, AC symbols in 8-bit codes.
DC_SYMBOLS = list(range(12))
AC_SYMBOLS = [0x00, 0xF0] + [(r << 4) | s for r in range(16) for s in range(1, 11)]


def huff_table(symbols, length):
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    return bytes(counts) + bytes(symbols), {s: (i, length) for i, s in enumerate(symbols)}


DC_DHT, DC_CODE = huff_table(DC_SYMBOLS, 4)
AC_DHT, AC_CODE = huff_table(AC_SYMBOLS, 8)


class Bits:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with ones
        return bytes(self.out)


def magnitude(v):
    s = int(abs(v)).bit_length()
    return s, (v if v >= 0 else v + (1 << s) - 1)


def blocks_of(plane):
    """plane (H, W) padded to multiples of 8 -> {(by, bx): quantised zigzag coefficients}."""
    h, w = plane.shape
    out = {}
    for by in range(h // 8):
        for bx in range(w // 8):
            f = plane[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8].astype(float) - 128
            F = DCT @ f @ DCT.T
            out[(by, bx)] = [int(round(F[u, v] / q)) for (u, v), q in zip(ZIGZAG, QUANT)]
    return out


def encode_dc(bits, diff):
    s, v = magnitude(diff)
    bits.put(*DC_CODE[s])
    bits.put(v, s)


def encode_ac(bits, coef):
    run = 0
    for c in coef[1:]:
        if c == 0:
            run += 1
            continue
        while run > 15:
            bits.put(*AC_CODE[0xF0])
            run -= 16
        s, v = magnitude(max(-1023, min(1023, c)))
        bits.put(*AC_CODE[(run << 4) | s])
        bits.put(v, s)
        run = 0
    if run:
        bits.put(*AC_CODE[0x00])


def segment(marker, body):
    return b"\xFF" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body


def pad_plane(p, mh, mw):
    h, w = p.shape
    return np.pad(p, ((0, (-h) % mh), (0, (-w) % mw)), mode="edge")


def jpeg(img, subsample=True, progressive=False, restart=0, comment=b""):
    """img (h, w) gray or (h, w, 3) RGB uint8 -> JPEG bytes (JFIF)."""
    h, w = img.shape[:2]
    gray = img.ndim == 2
    if gray:
        planes, factors = [img.astype(float)], [(1, 1)]
    else:
        r, g, b = [img[..., k].astype(float) for k in range(3)]
        planes = [0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                  128 + 0.5 * r - 0.418688 * g - 0.081312 * b]
        factors = [(2, 2), (1, 1), (1, 1)] if subsample else [(1, 1)] * 3
    hmax, vmax = max(f[0] for f in factors), max(f[1] for f in factors)
    mcux, mcuy = -(-w // (8 * hmax)), -(-h // (8 * vmax))
    comp_blocks = []
    for p, (hf, vf) in zip(planes, factors):
        full = pad_plane(p, 8 * vmax, 8 * hmax)
        if (hf, vf) != (hmax, vmax):  # 2x2 average
            full = full.reshape(full.shape[0] // 2, 2, full.shape[1] // 2, 2).mean(axis=(1, 3))
        comp_blocks.append(blocks_of(np.clip(np.round(full), 0, 255)))
    out = b"\xFF\xD8" + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += segment(0xFE, comment)
    out += segment(0xDB, b"\x00" + bytes(QUANT))
    ncomp = len(planes)
    sof = struct.pack(">BHHB", 8, h, w, ncomp) + b"".join(bytes([k + 1, (f[0] << 4) | f[1], 0]) for k, f in enumerate(factors))
    out += segment(0xC2 if progressive else 0xC0, sof)
    out += segment(0xC4, b"\x00" + DC_DHT) + segment(0xC4, b"\x10" + AC_DHT)
    if restart:
        out += segment(0xDD, struct.pack(">H", restart))

    def scan(components, ss, se, body):
        return segment(0xDA, bytes([len(components)]) + b"".join(bytes([k + 1, 0x00]) for k in components) + bytes([ss, se, 0])) + body

    if not progressive:
        bits, pred, mcus, rst = Bits(), [0] * ncomp, 0, 0
        data = b""
        for my in range(mcuy):
            for mx in range(mcux):
                if restart and mcus and mcus % restart == 0:
                    data += bits.flush() + b"\xFF" + bytes([0xD0 + rst % 8])
                    bits, pred, rst = Bits(), [0] * ncomp, rst + 1
                for k, (hf, vf) in enumerate(factors):
                    for v in range(vf):
                        for u in range(hf):
                            coef = comp_blocks[k][(my * vf + v, mx * hf + u)]
                            encode_dc(bits, coef[0] - pred[k])
                            pred[k] = coef[0]
                            encode_ac(bits, coef)
                mcus += 1
        out += scan(range(ncomp), 0, 63, data + bits.flush())
    else:  # gray only: a DC scan, then one AC scan (Al = 0, one end-of-band per block)
        blocks = comp_blocks[0]
        order = sorted(blocks)
        bits, pred = Bits(), 0
        for key in order:
            encode_dc(bits, blocks[key][0] - pred)
            pred = blocks[key][0]
        out += scan([0], 0, 0, bits.flush())
        bits = Bits()
        for key in order:
            encode_ac(bits, blocks[key] if any(blocks[key][1:]) else blocks[key][:1] + [0] * 63)
        out += scan([0], 1, 63, bits.flush())
    return out + b"\xFF\xD9"


# ---------------------------------------------------------------- BMP, PNM, TGA, GIF, HDR

def bmp(img, bits=24, top_down=False):
    h, w = img.shape[:2]
    palette = b""
    if bits <= 8:
        ncol = 1 << bits
        palette = b"".join(bytes([i * 255 // (ncol - 1)] * 3 + [0]) for i in range(ncol))
        idx = (img if img.ndim == 2 else img[..., 0]).astype(int) * ncol // 256
    rows = []
    for y in range(h):
        if bits == 24:
            row = b"".join(bytes([int(p[2]), int(p[1]), int(p[0])]) for p in img[y])
        elif bits == 32:
            row = b"".join(bytes([int(p[2]), int(p[1]), int(p[0]), 255]) for p in img[y])
        else:
            s = "".join(format(int(v), "0%db" % bits) for v in idx[y])
            s += "0" * ((8 - len(s) % 8) % 8)
            row = bytes(int(s[i:i + 8], 2) for i in range(0, len(s), 8))
        rows.append(row + b"\x00" * ((4 - len(row) % 4) % 4))
    pixels = b"".join(rows if top_down else rows[::-1])
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, w, -h if top_down else h, 1, bits, 0, len(pixels), 2835, 2835, len(palette) // 4, 0)
    return header + info + palette + pixels


def pnm(img, maxval=255, comment=True):
    h, w = img.shape[:2]
    magic = b"P5" if img.ndim == 2 else b"P6"
    head = magic + b"\n" + (b"# pgg fuzz seed\n" if comment else b"") + b"%d %d\n%d\n" % (w, h, maxval)
    data = img.astype(">u2").tobytes() if maxval > 255 else img.astype(np.uint8).tobytes()
    return head + data


def tga(img, rle=False):
    h, w = img.shape[:2]
    gray = img.ndim == 2
    kind = (11 if gray else 10) if rle else (3 if gray else 2)
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, kind, 0, 0, 0, 0, 0, w, h, 8 if gray else 24, 0x20)
    px = [bytes([int(v)]) if gray else bytes([int(v[2]), int(v[1]), int(v[0])]) for row in img for v in row]
    if not rle:
        return header + b"".join(px)
    out, i = b"", 0
    while i < len(px):  # runs of equal pixels, else raw packets
        j = i
        while j + 1 < len(px) and px[j + 1] == px[i] and j - i < 127:
            j += 1
        if j > i:
            out += bytes([0x80 | (j - i)]) + px[i]
            i = j + 1
        else:
            k = i
            while k + 1 < len(px) and px[k + 1] != px[k] and k - i < 127:
                k += 1
            out += bytes([k - i]) + b"".join(px[i:k + 1])
            i = k + 1
    return header + out


def gif(img):
    """8-bit gray GIF, LZW with a clear code every 250 symbols (codes stay 9 bits)."""
    h, w = img.shape
    out = b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0)
    out += b"".join(bytes([i, i, i]) for i in range(256))
    out += b"\x21\xF9\x04\x00\x00\x00\x00\x00"  # graphic control extension
    out += b"\x2C" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x08"
    codes, clear, end = [], 256, 257
    for n, v in enumerate(img.reshape(-1)):
        if n % 250 == 0:
            codes.append(clear)
        codes.append(int(v))
    codes.append(end)
    acc, nbits, data = 0, 0, bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += 9
        while nbits >= 8:
            data.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc & 0xFF)
    for i in range(0, len(data), 255):
        out += bytes([len(data[i:i + 255])]) + bytes(data[i:i + 255])
    return out + b"\x00\x3B"


def hdr(h, w):
    head = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (h, w)
    px = bytes(int(v) for v in pattern(h, w, 3).reshape(-1, 3)[:, :3].reshape(-1))
    rgbe = b"".join(px[i:i + 3] + b"\x80" for i in range(0, len(px), 3))
    return head + rgbe


def image_seeds():
    s = {}
    g8, rgb, rgba = pattern(5, 7), pattern(4, 6, 3), pattern(4, 4, 4)
    s["gray8.png"] = png(g8[..., None], 0, 8)
    s["gray16.png"] = png(pattern(4, 5, 1, 16)[..., None], 0, 16)
    s["gray1.png"] = png((pattern(3, 9) > 127).astype(np.uint8)[..., None], 0, 1)
    s["gray_alpha.png"] = png(pattern(3, 4, 2), 4, 8)
    s["rgb8.png"] = png(rgb, 2, 8)
    s["rgb16.png"] = png(pattern(3, 3, 3, 16), 2, 16)
    s["rgba8.png"] = png(rgba, 6, 8)
    s["palette4_trns.png"] = png((pattern(4, 5) % 16)[..., None], 3, 4, palette=[(i * 17) % 256 for i in range(48)], trns=[0, 128, 255])
    s["interlaced_rgb.png"] = png(pattern(9, 9, 3), 2, 8, interlace=True)
    s["gamma_chunk.png"] = png(g8[..., None], 0, 8, extra=png_chunk(b"gAMA", struct.pack(">I", 45455)))
    s["cgbi_iphone.png"] = png(rgba, 6, 8, raw_deflate=True).replace(b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n" + png_chunk(b"CgBI", b"\x50\x00\x20\x02"), 1)
    s["gray.jpg"] = jpeg(pattern(16, 16))
    s["gray_odd.jpg"] = jpeg(pattern(11, 13), comment=b"pgg fuzz seed")
    s["rgb420.jpg"] = jpeg(pattern(16, 16, 3))
    s["rgb444.jpg"] = jpeg(pattern(8, 16, 3), subsample=False)
    s["restart.jpg"] = jpeg(pattern(16, 24), restart=1)
    s["progressive.jpg"] = jpeg(pattern(16, 16), progressive=True)
    s["rgb24.bmp"] = bmp(pattern(3, 5, 3))
    s["rgb32_topdown.bmp"] = bmp(pattern(4, 3, 3), bits=32, top_down=True)
    s["pal8.bmp"] = bmp(pattern(4, 6), bits=8)
    s["pal4.bmp"] = bmp(pattern(3, 5), bits=4)
    s["mono1.bmp"] = bmp(pattern(5, 9), bits=1)
    s["gray.pgm"] = pnm(pattern(4, 6))
    s["gray16.pgm"] = pnm(pattern(3, 4, 1, 16), maxval=65535)
    s["rgb.ppm"] = pnm(pattern(3, 4, 3), comment=False)
    s["rgb.tga"] = tga(pattern(3, 4, 3))
    s["gray.tga"] = tga(pattern(3, 5))
    s["rle.tga"] = tga(np.repeat(pattern(2, 3, 3), 3, axis=1), rle=True)
    s["gray.gif"] = gif(pattern(6, 7))
    s["tiny.hdr"] = hdr(2, 3)
    return s


# ---------------------------------------------------------------- DICOM

def dicom(pixels, photometric=b"MONOCHROME2", bits_stored=8, signed=False, window=None, rescale=None,
          syntax="explicit", jpeg_bytes=None, meta=True):
    """A single-frame grayscale DICOM file. syntax: implicit, explicit, big (explicit big endian), jpeg."""
    uid = {"implicit": b"1.2.840.10008.1.2", "explicit": b"1.2.840.10008.1.2.1", "big": b"1.2.840.10008.1.2.2",
           "jpeg": b"1.2.840.10008.1.2.4.50"}[syntax]
    big, implicit = syntax == "big", syntax == "implicit"
    e16, e32 = (">H", ">I") if big else ("<H", "<I")
    long_vrs = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"}

    def elem(group, element, vr, value, explicit=not implicit, endian=(e16, e32), undefined=False):
        if len(value) % 2:
            value += b"\x00" if vr in (b"UI", b"OB") else b" "
        tag = struct.pack(endian[0], group) + struct.pack(endian[0], element)
        length = 0xFFFFFFFF if undefined else len(value)
        if not explicit:
            return tag + struct.pack(endian[1], length) + value
        if vr in long_vrs:
            return tag + vr + b"\x00\x00" + struct.pack(endian[1], length) + value
        return tag + vr + struct.pack(endian[0], length) + value

    def us(v):
        return struct.pack(e16, v)

    h, w = pixels.shape
    alloc = 8 if bits_stored <= 8 else 16
    ds = elem(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.1.1")
    ds += elem(0x0008, 0x0018, b"UI", b"1.2.826.0.1.3680043.2.1125.1.1")
    ds += elem(0x0008, 0x0060, b"CS", b"DX")
    ds += elem(0x0028, 0x0002, b"US", us(1))
    ds += elem(0x0028, 0x0004, b"CS", photometric)
    ds += elem(0x0028, 0x0010, b"US", us(h)) + elem(0x0028, 0x0011, b"US", us(w))
    ds += elem(0x0028, 0x0100, b"US", us(alloc)) + elem(0x0028, 0x0101, b"US", us(bits_stored))
    ds += elem(0x0028, 0x0102, b"US", us(bits_stored - 1)) + elem(0x0028, 0x0103, b"US", us(int(signed)))
    if window:
        ds += elem(0x0028, 0x1050, b"DS", b"%g" % window[0]) + elem(0x0028, 0x1051, b"DS", b"%g" % window[1])
    if rescale:
        ds += elem(0x0028, 0x1052, b"DS", b"%g" % rescale[0]) + elem(0x0028, 0x1053, b"DS", b"%g" % rescale[1])
    if syntax == "jpeg":
        frag = jpeg_bytes + (b"\x00" if len(jpeg_bytes) % 2 else b"")
        items = (struct.pack("<HHI", 0xFFFE, 0xE000, 0) + struct.pack("<HHI", 0xFFFE, 0xE000, len(frag)) + frag +
                 struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
        ds += elem(0x7FE0, 0x0010, b"OB", items, undefined=True)[:-len(items)] + items
    else:
        dtype = (">" if big else "<") + ("i" if signed else "u") + ("1" if alloc == 8 else "2")
        ds += elem(0x7FE0, 0x0010, b"OB" if alloc == 8 else b"OW", pixels.astype(dtype).tobytes())
    if not meta:
        return ds
    le = ("<H", "<I")
    m = elem(0x0002, 0x0001, b"OB", b"\x00\x01", True, le)
    m += elem(0x0002, 0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.1.1", True, le)
    m += elem(0x0002, 0x0003, b"UI", b"1.2.826.0.1.3680043.2.1125.1.1", True, le)
    m += elem(0x0002, 0x0010, b"UI", uid, True, le)
    m += elem(0x0002, 0x0012, b"UI", b"1.2.826.0.1.3680043.2.1125.1", True, le)
    group_len = elem(0x0002, 0x0000, b"UL", struct.pack("<I", len(m)), True, le)
    return b"\x00" * 128 + b"DICM" + group_len + m + ds


def dicom_seeds():
    g = pattern(6, 5)
    p12 = pattern(5, 4, 1, 12).astype(np.int64)
    return {
        "mono2_8bit.dcm": dicom(g),
        "mono1_8bit.dcm": dicom(g, photometric=b"MONOCHROME1"),
        "implicit_12bit_window.dcm": dicom(p12, bits_stored=12, window=(2048, 4096), syntax="implicit"),
        "signed16_rescale.dcm": dicom(p12 - 2000, bits_stored=16, signed=True, rescale=(-1024, 1.5)),
        "big_endian_16bit.dcm": dicom(pattern(4, 6, 1, 16), bits_stored=16, syntax="big"),
        "jpeg_baseline.dcm": dicom(pattern(16, 16), syntax="jpeg", jpeg_bytes=jpeg(pattern(16, 16))),
        "no_meta_implicit.dcm": dicom(g, syntax="implicit", meta=False),
        "rgb_photometric.dcm": dicom(g, photometric=b"RGB"),
    }


# ---------------------------------------------------------------- .npy, IDX

def npy_bytes(a, version=1, header_pad=0):
    buf = bytearray()
    descr = np.lib.format.dtype_to_descr(a.dtype)
    d = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, tuple(a.shape))
    d += " " * header_pad
    total = 10 + len(d) + 1
    d += " " * ((64 - total % 64) % 64) + "\n"
    if version == 1:
        buf += b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d))
    else:
        buf += b"\x93NUMPY\x02\x00" + struct.pack("<I", len(d))
    return bytes(buf) + d.encode("latin1") + a.tobytes()


def npy_seeds():
    return {
        "u8_4d.npy": npy_bytes(np.arange(2 * 1 * 4 * 4, dtype=np.uint8).reshape(2, 1, 4, 4)),
        "i32_labels.npy": npy_bytes(np.array([0, 1, 1, 0, 2], dtype=np.int32)),
        "f32_2d.npy": npy_bytes(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)),
        "scalar.npy": npy_bytes(np.array(7, dtype=np.uint8)),
        "empty.npy": npy_bytes(np.zeros((0, 3), dtype=np.float32)),
        "long_header.npy": npy_bytes(np.ones(3, dtype=np.int32), header_pad=1500),
        "big_endian.npy": npy_bytes(np.arange(3, dtype=">i4")),
        "version2.npy": npy_bytes(np.arange(4, dtype=np.uint8), version=2),
        "fortran.npy": npy_bytes(np.arange(4, dtype=np.uint8)).replace(b"'fortran_order': False", b"'fortran_order': True "),
    }


def idx_bytes(a):
    return b"\x00\x00\x08" + bytes([a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape) + a.astype(np.uint8).tobytes()


def idx_seeds():
    images, labels, table = pattern(12, 5).reshape(3, 4, 5), np.arange(10, dtype=np.uint8) % 10, pattern(3, 7)
    return {
        "images.idx": idx_bytes(images),
        "labels.idx": idx_bytes(labels),
        "table.idx": idx_bytes(table),
        "images.idx.gz": gzip.compress(idx_bytes(images), mtime=0),
        "labels.idx.gz": gzip.compress(idx_bytes(labels), mtime=0),
        "int32_type.idx": b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + b"\x00" * 8,
    }


# ---------------------------------------------------------------- safetensors, checkpoints

DTYPES = {np.float32: "F32", np.float64: "F64", np.uint8: "U8", np.int32: "I32", np.int64: "I64", np.float16: "F16",
          np.int16: "I16", np.bool_: "BOOL"}


def safetensors(tensors, metadata=None, crc=False):
    """tensors: {name: ndarray}. crc: add pgg's "pgg.crc32" checksum (safetensors.hpp) computed as documented."""
    header, data = {}, b""
    meta = dict(metadata or {})
    if crc:
        meta["pgg.crc32"] = "00000000"
    if meta:
        header["__metadata__"] = meta
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": DTYPES[a.dtype.type], "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    raw = struct.pack("<Q", len(text)) + text + data
    if crc:
        c = zlib.crc32(raw) & 0xFFFFFFFF
        raw = raw.replace(b'"pgg.crc32":"00000000', b'"pgg.crc32":"%08x' % c, 1)
    return raw


def safetensors_seeds():
    t = {"f32": np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3), "f64": np.array([1.5, -2.0]), "u8": np.arange(5, dtype=np.uint8),
         "i32": np.array([[1, -2]], dtype=np.int32), "i64": np.array([3], dtype=np.int64), "f16": np.ones(2, np.float16),
         "scalar": np.array(2.5, dtype=np.float32), "empty": np.zeros((0, 4), np.float32)}
    return {
        "mixed.safetensors": safetensors(t, {"kimg": "1440.0", "note": "pgg fuzz seed"}),
        "mixed_crc.safetensors": safetensors(t, {"kimg": "12"}, crc=True),
        "one.safetensors": safetensors({"w": np.ones((2, 2), np.float32)}),
        "no_tensors.safetensors": safetensors({}, {"a": "b"}),
        "bool.safetensors": safetensors({"mask": np.array([True, False])}),
    }


CKPT_SHAPES = {"conv.weight": (4, 1, 3, 3), "conv.bias": (4,), "fc.weight": (3, 64), "fc.bias": (3,)}


def checkpoint_tensors(prefixes=("G.", "Gs."), adam=True, shapes=CKPT_SHAPES):
    t = {}
    for p in prefixes:
        for k, s in shapes.items():
            t[p + k] = RNG.standard_normal(s).astype(np.float32)
    if adam:
        for k, s in shapes.items():
            t["adam_G.m." + k] = RNG.standard_normal(s).astype(np.float32) * 0.01
            t["adam_G.v." + k] = np.abs(RNG.standard_normal(s)).astype(np.float32) * 0.001
    return t


def checkpoint_seeds():
    wrong = dict(CKPT_SHAPES)
    wrong["fc.weight"] = (3, 80)
    return {
        "full_crc.safetensors": safetensors(checkpoint_tensors(), {"adam_G.steps": "120", "kimg": "3.5"}, crc=True),
        "full.safetensors": safetensors(checkpoint_tensors(), {"adam_G.steps": "1"}),
        "generator_only.safetensors": safetensors(checkpoint_tensors(("G.",), adam=False)),
        "wrong_shape.safetensors": safetensors(checkpoint_tensors(("G.",), adam=False, shapes=wrong)),
        "extra_tensor.safetensors": safetensors({**checkpoint_tensors(("G.",), adam=False), "G.head.bias": np.zeros(3, np.float32)}),
        "bad_steps.safetensors": safetensors(checkpoint_tensors(("G.",)), {"adam_G.steps": "12abc"}),
    }


# ---------------------------------------------------------------- dataset manifest, config, CSV

def manifest(**over):
    m = {"format": "pgg-dataset", "version": 1, "count": 2, "channels": 1, "resolution": 8, "levels": [8, 4],
         "files": {"8": "level-8.npy", "4": "level-4.npy"}, "seed": 1000, "labels": "labels.npy"}
    m.update(over)
    return (json.dumps(m, indent=2) + "\n").encode()


def dataset_seeds():
    # the files fuzz_dataset.cpp puts beside the manifest
    return {
        "full.json": manifest(),
        "no_labels.json": manifest(labels=None),
        "three_levels.json": manifest(levels=[8, 4, 2], files={"8": "level-8.npy", "4": "level-4.npy", "2": "level-2.npy"}),
        "rgb.json": manifest(channels=3, resolution=4, levels=[4], files={"4": "rgb-4.npy"}),
        "big.json": manifest(count=3, resolution=16, levels=[16], files={"16": "big-16.npy"}, labels=None),
        "short_labels.json": manifest(labels="labels-1.npy"),
        "missing_level.json": manifest(resolution=16),
        "compact.json": json.dumps(json.loads(manifest()), separators=(",", ":")).encode(),
    }


def config_seeds(root):
    s = {}
    configs = os.path.join(root, "examples", "cxr_pggan", "configs")
    for name in sorted(os.listdir(configs)):
        if name.endswith(".json"):
            with open(os.path.join(configs, name), "rb") as f:
                s[name] = f.read()
    s["empty.json"] = b"{}\n"
    s["tables.json"] = json.dumps({"_comment": "per-resolution tables", "minibatch": {"4": 64, "512": 4}, "G_lrate": {"512": 0.0015},
                                   "tick_kimg": {"8": 140.0}, "reset_opt_for_new_lod": False, "seed": 7, "desc": "t"}).encode()
    s["float_ints.json"] = b'{"minibatch_base": 8.0, "threads": 2, "adam_beta2": 0.99}'
    return s


def config_set_seeds():
    return {
        "numbers.txt": b"minibatch_base=16\nG_lrate_base=0.002\nseed=7\nthreads=1\n",
        "tables.txt": b"minibatch.512=8\nG_lrate.256=0.0015\ntick_kimg.4=10\nmax_minibatch_per_device.128=4\n",
        "strings_bools.txt": b"desc=my run\nreset_opt_for_new_lod=false\nG_smoothing=0.5\n",
        "json_values.txt": b'minibatch={"4": 32, "8": 16}\ndesc="quoted"\n',
        "bad.txt": b"no_equals\n=1\nunknown=3\nminibatch.3=1\ndesc.x=1\n",
    }


def csv_seeds():
    return {
        "file_label.csv": b"file,label\na.png,normal\nb.png,abnormal\nsub/c.png,normal\n",
        "rsna_classes.csv": b"patientId,class\n0004cfab-14fd,No Lung Opacity / Not Normal\n00313ee0-9eaa,Lung Opacity\n"
                            b"00313ee0-9eaa,Lung Opacity\n00322d4d-1c29,Normal\n",
        "rsna_labels.csv": b"patientId,x,y,width,height,Target\r\n0004cfab-14fd,,,,,0\r\n00313ee0-9eaa,264.0,152.0,213.0,379.0,1\r\n",
        "quoted.csv": b'file,label,"note, with comma"\n"x,1.png","a ""b""",""\n\ny.png,b,c\n',
        "ragged.csv": b"file,label\na.png\nb.png,x,y\n",
    }


def pickle_seeds(root):
    sys.path.insert(0, os.path.join(root, "tests", "cxr_pggan"))
    from official_pickle import official_pickle  # numpy only
    kw = {"num_channels": 1, "resolution": 8, "label_size": 0, "fmap_base": 16, "fmap_max": 4, "latent_size": 4}
    return {
        "official8.pkl": official_pickle(kw),
        "fading8_p3.pkl": official_pickle(kw, lod=0.5, protocol=3),
        "unfused_p5.pkl": official_pickle({**kw, "fused_scale": False, "use_wscale": False}, protocol=5),
        "rgb4.pkl": official_pickle({**kw, "resolution": 4, "num_channels": 3}, protocol=4),
        "labels.pkl": official_pickle({**kw, "label_size": 2}),
        "plain.pkl": pickle.dumps({"a": [1, 2.5, "x", b"y", None, True, (1 << 40, -3)], "b": np.arange(6, dtype=np.float64).reshape(2, 3)}, protocol=4),
        "fortran.pkl": pickle.dumps(np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3)), protocol=4),
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "fuzz", "corpus")
    seeds = {
        "fuzz_image": image_seeds(),
        "fuzz_dicom": dicom_seeds(),
        "fuzz_npy": npy_seeds(),
        "fuzz_idx": idx_seeds(),
        "fuzz_safetensors": safetensors_seeds(),
        "fuzz_checkpoint": checkpoint_seeds(),
        "fuzz_dataset": dataset_seeds(),
        "fuzz_config": config_seeds(root),
        "fuzz_config_set": config_set_seeds(),
        "fuzz_csv": csv_seeds(),
        "fuzz_pickle": pickle_seeds(root),
    }
    for harness, files in seeds.items():
        d = os.path.join(out, harness)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%-18s %3d seeds, %7d bytes -> %s" % (harness, len(files), sum(map(len, files.values())), d))


if __name__ == "__main__":
    main()
