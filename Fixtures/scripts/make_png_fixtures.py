#!/usr/bin/env python3
"""PNG and PPM/PGM decoder fixtures: small crops of real photographs, and what Pillow reads from them.

Why: the Swift decoders must give exactly the pixels of `PIL.Image.open(f).convert("RGB")` (colour,
palette) or `.convert("L")` (grey, grey+alpha), which is what torchvision's loader sees.

Files are written two ways:
  * by Pillow itself (`Image.save`): 1-bit, 8-bit grey, 16-bit grey (I;16), RGB, RGBA, LA, palette
    with 1/2/4/8 bits, with optimize=True and compression levels 0..9;
  * by the small PNG encoder below (`encode_png`), for what Pillow cannot write: 16-bit RGB, RGBA and
    grey+alpha, 2/4-bit grey, Adam7 interlacing, a chosen filter per row (all five types), IDAT split
    in many chunks, stored (level 0) deflate blocks, ancillary chunks to skip.
The expected pixels always come from Pillow decoding the file, never from the encoder's input.

Output (Fixtures/png/): NAME.png / NAME.ppm / NAME.pgm, NAME.pixels (raw HWC uint8 bytes of the
converted image) and manifest.json: [{file, pixels, width, height, channels, sha256, why}].
Run: python3 Fixtures/scripts/make_png_fixtures.py  (deterministic: fixed crops, fixed seed).
"""
import hashlib
import io
import json
import os
import struct
import zlib

import numpy as np
import skimage.data
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "png")
RNG = np.random.default_rng(20240611)
MANIFEST = []

# --------------------------------------------------------------------------------------------------
# A minimal PNG encoder (independent of the Swift decoder; Pillow is the judge of what it wrote).

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(row: np.ndarray, bit_depth: int) -> bytes:
    """row: (w, c) integer samples -> packed bytes of one scanline (no filter byte)."""
    flat = row.reshape(-1).astype(np.int64)
    if bit_depth == 16:
        return flat.astype(">u2").tobytes()
    if bit_depth == 8:
        return flat.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    out = bytearray((len(flat) + per_byte - 1) // per_byte)
    for i, v in enumerate(flat):
        out[i // per_byte] |= int(v) << (8 - bit_depth * (i % per_byte + 1))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind: int, raw: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray(len(raw))
    for i in range(len(raw)):
        a = raw[i - bpp] if i >= bpp else 0
        b = prev[i] if prev else 0
        c = prev[i - bpp] if prev and i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (raw[i] - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def encode_image_data(samples, bit_depth, bpp, filters, row_counter):
    h = samples.shape[0]
    data = bytearray()
    prev = b""
    for y in range(h):
        raw = pack_row(samples[y], bit_depth)
        kind = filters(row_counter[0]) if callable(filters) else filters
        row_counter[0] += 1
        data += filter_row(kind, raw, prev, bpp)
        prev = raw
    return bytes(data)


def encode_png(samples, color_type, bit_depth, palette=None, trns=None, interlace=False,
               filters=lambda i: i % 5, level=6, idat_chunk=None, extra=(), zlib_stream=None):
    """samples: (h, w, c) ints. filters: a filter type or a function of the row counter."""
    h, w = samples.shape[:2]
    c = CHANNELS[color_type]
    bpp = max(1, c * bit_depth // 8)
    counter = [0]
    if interlace:
        raw = bytearray()
        for (x0, y0, dx, dy) in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            raw += encode_image_data(sub, bit_depth, bpp, filters, counter)
        raw = bytes(raw)
    else:
        raw = encode_image_data(samples, bit_depth, bpp, filters, counter)
    z = zlib_stream(raw) if zlib_stream else zlib.compress(raw, level)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    for e in extra:
        out += e
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = idat_chunk or len(z) or 1
    for i in range(0, max(len(z), 1), step):
        out += chunk(b"IDAT", z[i:i + step])
    out += chunk(b"IEND", b"")
    return out


# --------------------------------------------------------------------------------------------------
# Sources: crops of skimage's photographs, resized with Pillow.

def photo(name, size, box=None):
    a = getattr(skimage.data, name)()
    im = Image.fromarray(a)
    if box:
        im = im.crop(box)
    return np.asarray(im.resize(size, Image.BILINEAR))


def record(name, data, why, grey=None):
    """Writes the file, decodes it with Pillow, stores the converted pixels and the manifest row.
    grey: convert("L") rather than "RGB"; by default from Pillow's mode. A 16-bit grey+alpha PNG
    opens as RGBA in Pillow, but it is a grey image (its R = G = B, so "L" is exact): pass grey=True."""
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    im = Image.open(path)
    im.load()
    if grey is None:
        grey = im.mode in ("1", "L", "LA", "I", "I;16")
    conv = im.convert("L" if grey else "RGB")
    px = conv.tobytes()
    stem = os.path.splitext(name)[0] + "." + os.path.splitext(name)[1][1:] + ".pixels"
    with open(os.path.join(OUT, stem), "wb") as f:
        f.write(px)
    MANIFEST.append({
        "file": name, "pixels": stem, "width": conv.width, "height": conv.height,
        "channels": 1 if grey else 3, "sha256": hashlib.sha256(px).hexdigest(),
        "pillowMode": im.mode, "why": why,
    })


def pillow_png(im, **kw):
    b = io.BytesIO()
    im.save(b, format="PNG", **kw)
    return b.getvalue()


def quantize(rgb, colors):
    im = Image.fromarray(rgb).quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    idx = np.asarray(im)
    pal = np.asarray(im.getpalette()[:3 * colors], dtype=np.uint8).reshape(-1, 3)
    return idx, pal


# --------------------------------------------------------------------------------------------------
# Files that must be refused, and raw zlib streams (good and bad) for ZlibInflater.

class BitWriter:
    """DEFLATE bit order: values least significant bit first; Huffman codes most significant first."""

    def __init__(self):
        self.bits = []

    def value(self, v, n):
        self.bits += [(v >> i) & 1 for i in range(n)]

    def code(self, c, n):
        self.bits += [(c >> (n - 1 - i)) & 1 for i in range(n)]

    def bytes(self):
        b = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(sum(b[i + k] << k for k in range(8)) for i in range(0, len(b), 8))


def zlib_wrap(deflate: bytes, adler_of: bytes = b"") -> bytes:
    return b"\x78\x01" + deflate + struct.pack(">I", zlib.adler32(adler_of))


CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def dynamic_header(w, hlit, hdist, cl_lengths):
    """Writes BFINAL=1, BTYPE=2, counts and the code-length code lengths (dict symbol -> length)."""
    hclen = max(CL_ORDER.index(s) for s in cl_lengths) + 1
    w.value(1, 1); w.value(2, 2)
    w.value(hlit - 257, 5); w.value(hdist - 1, 5); w.value(hclen - 4, 4)
    for s in CL_ORDER[:hclen]:
        w.value(cl_lengths.get(s, 0), 3)


def oversubscribed_stream():
    """A code-length code {1: '0', 2: '1'} then 258 lengths of 1: 258 one-bit codes."""
    w = BitWriter()
    dynamic_header(w, 257, 1, {1: 1, 2: 1})
    for _ in range(258):
        w.code(0, 1)
    return w.bytes() + b"\x00" * 8


def incomplete_stream():
    """Only two literal/length codes of 2 bits (symbols 0 and 256): half the code space is a hole."""
    w = BitWriter()
    dynamic_header(w, 257, 1, {0: 1, 2: 1})
    for i in range(258):
        w.code(1 if i in (0, 256) else 0, 1)
    w.code(0, 2); w.code(0, 2); w.code(1, 2)  # literal 0 twice, then the hole (if it were reached)
    return w.bytes() + b"\x00" * 8


def oversubscribed_code_length_stream():
    w = BitWriter()
    dynamic_header(w, 257, 1, {s: 1 for s in CL_ORDER})
    return w.bytes() + b"\x00" * 8


def distance_too_far_stream():
    """Fixed Huffman: a length-3 match at distance 1 as the very first symbol."""
    w = BitWriter()
    w.value(1, 1); w.value(1, 2)
    w.code(1, 7)   # symbol 257: length 3
    w.code(0, 5)   # distance symbol 0: distance 1
    w.code(0, 7)   # end of block
    return w.bytes()


def endless_literal_stream():
    """Fixed Huffman literals forever (well past any buffer): must stop at the size limit."""
    w = BitWriter()
    w.value(1, 1); w.value(1, 2)
    for _ in range(20000):
        w.code(0x30, 8)  # literal 0
    return w.bytes()


def make_bad_fixtures(cat, camera):
    bad = []

    def add(name, data, kind, contains, why):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        bad.append({"file": name, "kind": kind, "contains": contains, "why": why})

    grey = camera[:4, :4, None]
    raw_grey = b"".join(b"\x00" + bytes(grey[y].reshape(-1)) for y in range(4))

    def png(ihdr, idat_stream, extra_before=b"", palette=None):
        out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra_before
        if palette is not None:
            out += chunk(b"PLTE", palette)
        return out + chunk(b"IDAT", idat_stream) + chunk(b"IEND", b"")

    grey4 = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    add("bad_huge_100000x100000.png", png(struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0), zlib.compress(b"\0" * 100)),
        "tooLarge", "--max-pixels", "declared size refused before any allocation")
    add("bad_claims_10000x10000.png", png(struct.pack(">IIBBBBB", 10000, 10000, 8, 0, 0, 0, 0), zlib.compress(b"\0" * 1000)),
        "corrupt", "cannot inflate", "within the pixel limit, but a tiny IDAT cannot fill it: refused before allocating 100 MB")
    add("bad_bomb.png", png(grey4, zlib.compress(b"\0" * 5_000_000, 9)), "corrupt", "exceeds",
        "a 4x4 image whose IDAT inflates to 5 MB: stops at the 20 bytes IHDR implies")
    add("bad_short_data.png", png(grey4, zlib.compress(raw_grey[:-3])), "truncated", "inflated to",
        "IDAT inflates to fewer bytes than IHDR implies")
    good = zlib.compress(raw_grey)
    add("bad_adler.png", png(grey4, good[:-4] + bytes(b ^ 0xFF for b in good[-4:])), "corrupt", "adler",
        "wrong Adler-32 (chunk CRC recomputed, so only the zlib trailer is wrong)")
    valid = png(grey4, good)
    broken_crc = bytearray(valid)
    idat_at = valid.index(b"IDAT")
    broken_crc[idat_at + 4 + len(good)] ^= 0x01
    add("bad_crc_idat.png", bytes(broken_crc), "corrupt", "IDAT", "wrong CRC on IDAT: the message names the chunk")
    add("bad_oversubscribed.png", png(grey4, zlib_wrap(oversubscribed_stream())), "corrupt", "over-subscribed",
        "dynamic Huffman code with more codes than code space")
    add("bad_incomplete.png", png(grey4, zlib_wrap(incomplete_stream())), "corrupt", "incomplete",
        "dynamic Huffman code with a hole (zlib refuses it too)")
    add("bad_code_length_oversubscribed.png", png(grey4, zlib_wrap(oversubscribed_code_length_stream())), "corrupt",
        "over-subscribed", "over-subscribed code-length code")
    add("bad_distance.png", png(grey4, zlib_wrap(distance_too_far_stream())), "corrupt", "distance",
        "a match reaching before the start of the output")
    add("bad_block_type3.png", png(grey4, b"\x78\x01\x07\x00\x00\x00\x00\x00\x00\x00"), "corrupt", "reserved",
        "deflate block type 3")
    add("bad_stored_length.png", png(grey4, b"\x78\x01\x01\x05\x00\x34\x12" + b"\x00" * 9), "corrupt", "complement",
        "stored block whose NLEN is not the complement of LEN")
    add("bad_filter_type.png", png(grey4, zlib.compress(b"\x05" + raw_grey[1:])), "corrupt", "filter type",
        "scanline filter type 5")
    add("bad_unknown_critical.png", png(grey4, good, extra_before=chunk(b"ABCD", b"x")), "unsupported", "ABCD",
        "unknown critical chunk")
    add("bad_no_iend.png", valid[:-12], "truncated", "IEND", "file ends after IDAT")
    add("bad_palette_missing.png", png(struct.pack(">IIBBBBB", 4, 4, 8, 3, 0, 0, 0), good), "corrupt", "PLTE",
        "colour type 3 without PLTE")
    add("bad_bit_depth.png", png(struct.pack(">IIBBBBB", 4, 4, 4, 2, 0, 0, 0), good), "corrupt", "bit depth",
        "RGB with bit depth 4")
    add("bad_zero_width.png", png(struct.pack(">IIBBBBB", 0, 4, 8, 0, 0, 0, 0), good), "corrupt", "dimensions",
        "zero width")
    add("bad_endless_literals.png", png(grey4, zlib_wrap(endless_literal_stream())), "corrupt", "exceeds",
        "literals far past the declared size")
    add("bad_signature.png", b"GIF89a" + valid[6:], "corrupt", "signature", "not a PNG")
    add("bad_ihdr_not_first.png", valid[:8] + chunk(b"tEXt", b"a\x00b") + valid[8:], "corrupt", "IHDR",
        "a chunk before IHDR")
    add("bad_ppm_truncated.ppm", b"P6\n37 29\n255\n" + cat.tobytes()[:-1], "truncated", "raster", "P6 one byte short")
    add("bad_ppm_huge.ppm", b"P6\n100000 100000\n255\n" + b"\0" * 10, "tooLarge", "--max-pixels", "declared size refused")
    add("bad_ppm_maxval.pgm", b"P5\n2 2\n70000\n" + b"\0" * 16, "corrupt", "maxval", "maxval above 65535")
    add("bad_ppm_plain_over_maxval.pgm", b"P2\n2 1\n15\n3 16\n", "corrupt", "exceeds maxval",
        "plain sample above maxval (Pillow refuses it too)")
    add("bad_ppm_float.pfm", b"PF\n1 1\n-1.0\n" + b"\0" * 12, "unsupported", "PFM", "floating-point PFM")
    bad.sort(key=lambda m: m["file"])
    with open(os.path.join(OUT, "bad_manifest.json"), "w") as f:
        json.dump(bad, f, indent=1, sort_keys=True)
        f.write("\n")


def make_zlib_fixtures():
    """Raw zlib streams with their inflated bytes, for ZlibInflater: zlib.compress is the reference."""
    rows = []
    rng = np.random.default_rng(7)
    words = b"deflate huffman literal length distance window block stored fixed dynamic adler png chunk".split()
    text = b" ".join(words[i] for i in rng.integers(0, len(words), 4000))
    cases = {
        "empty": b"",
        "text_level9": text,
        "random_level6": rng.integers(0, 256, 3000).astype(np.uint8).tobytes(),
        "runs_level1": b"".join(bytes([i % 7]) * (i % 300) for i in range(400)),
        "long_distance": bytes(rng.integers(0, 256, 20000).astype(np.uint8)) * 3,
    }
    for name, data in cases.items():
        level = 9 if "9" in name else 1 if "1" in name else 6
        z = zlib.compress(data, level)
        with open(os.path.join(OUT, f"zlib_{name}.zz"), "wb") as f:
            f.write(z)
        with open(os.path.join(OUT, f"zlib_{name}.raw"), "wb") as f:
            f.write(data)
        rows.append({"file": f"zlib_{name}.zz", "raw": f"zlib_{name}.raw", "size": len(data)})
    with open(os.path.join(OUT, "zlib_manifest.json"), "w") as f:
        json.dump(rows, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    cat = photo("chelsea", (37, 29), (60, 20, 400, 290))
    coffee = photo("coffee", (64, 48))
    astro = photo("astronaut", (7, 3), (150, 60, 360, 150))
    camera = photo("camera", (37, 29), (100, 40, 420, 300))
    cam64 = photo("camera", (64, 48))
    one = photo("astronaut", (1, 1), (200, 100, 230, 130))
    noise16 = RNG.integers(0, 256, size=(29, 37, 4))

    # ---- written by Pillow
    record("pil_rgb_37x29.png", pillow_png(Image.fromarray(cat)), "pillow rgb 8-bit, default level")
    record("pil_rgb_64x48_optimize.png", pillow_png(Image.fromarray(coffee), optimize=True), "optimize=True")
    for lvl in (0, 1, 9):
        record(f"pil_rgb_7x3_level{lvl}.png", pillow_png(Image.fromarray(astro), compress_level=lvl),
               f"compress_level={lvl} (0 = stored deflate blocks)")
    record("pil_rgb_1x1.png", pillow_png(Image.fromarray(one)), "a single pixel")
    record("pil_grey8_37x29.png", pillow_png(Image.fromarray(camera)), "pillow L")
    record("pil_grey8_64x48_level0.png", pillow_png(Image.fromarray(cam64), compress_level=0), "stored blocks, grey")
    record("pil_bilevel_37x29.png", pillow_png(Image.fromarray(camera).convert("1")), "pillow mode 1 (1-bit grey, dithered)")
    record("pil_grey16_37x29.png",
           pillow_png(Image.frombytes("I;16", (37, 29), (camera.astype("<u2") * 257).tobytes())),
           "I;16 full range: Pillow's convert('L') clips at 255")
    record("pil_grey16_small_values.png",
           pillow_png(Image.frombytes("I;16", (37, 29), (camera.astype("<u2") // 3 + 40).tobytes())),
           "I;16 with values 40..125 and a few above 255: clipping visible only at the top")
    rgba = np.dstack([cat, noise16[..., 0].astype(np.uint8)])
    record("pil_rgba_37x29.png", pillow_png(Image.fromarray(rgba, "RGBA")), "alpha dropped, not composited")
    la = np.dstack([camera, noise16[..., 1].astype(np.uint8)])
    record("pil_la_37x29.png", pillow_png(Image.fromarray(la, "LA")), "grey+alpha 8: grey kept, alpha dropped")
    for colors, bits in ((2, 1), (4, 2), (16, 4), (200, 8)):
        idx, pal = quantize(cat, colors)
        p = Image.fromarray(idx.astype(np.uint8), "P")
        p.putpalette(pal.reshape(-1).tolist())
        record(f"pil_palette{bits}_37x29.png", pillow_png(p, bits=bits) if bits < 8 else pillow_png(p),
               f"pillow palette, {colors} colours, {bits}-bit indices")
    idx, pal = quantize(coffee, 16)
    p = Image.fromarray(idx.astype(np.uint8), "P")
    p.putpalette(pal.reshape(-1).tolist())
    p.info["transparency"] = bytes([0, 128, 255])
    record("pil_palette_trns_64x48.png", pillow_png(p, transparency=bytes([0, 128, 255])), "palette with tRNS")

    # ---- written by encode_png
    def cycle(i):
        return i % 5

    cases = []
    for inter in (False, True):
        tag = "_adam7" if inter else ""
        cases += [
            (f"enc_rgb8_37x29{tag}.png", cat, 2, 8, {}, "rgb 8, filters cycle 0..4"),
            (f"enc_rgb16_37x29{tag}.png", cat.astype(np.int64) * 256 + noise16[..., :3], 2, 16, {},
             "rgb 16: Pillow keeps the high byte"),
            (f"enc_rgba8_37x29{tag}.png", np.dstack([cat, noise16[..., 3]]), 6, 8, {}, "rgba 8"),
            (f"enc_rgba16_37x29{tag}.png", np.dstack([cat, noise16[..., 3]]).astype(np.int64) * 256 + noise16,
             6, 16, {}, "rgba 16"),
            (f"enc_la8_37x29{tag}.png", np.dstack([camera, noise16[..., 0]]), 4, 8, {}, "grey+alpha 8"),
            (f"enc_la16_37x29{tag}.png", np.dstack([camera, noise16[..., 0]]).astype(np.int64) * 256
             + noise16[..., :2], 4, 16, {}, "grey+alpha 16: Pillow opens it as RGBA with the high bytes"),
            (f"enc_grey1_37x29{tag}.png", (camera[..., None] >> 7), 0, 1, {}, "grey 1-bit"),
            (f"enc_grey2_37x29{tag}.png", (camera[..., None] >> 6), 0, 2, {}, "grey 2-bit: v * 85"),
            (f"enc_grey4_37x29{tag}.png", (camera[..., None] >> 4), 0, 4, {}, "grey 4-bit: v * 17"),
            (f"enc_grey8_37x29{tag}.png", camera[..., None], 0, 8, {}, "grey 8"),
            (f"enc_grey16_37x29{tag}.png", camera[..., None].astype(np.int64) * 3 + noise16[..., :1], 0, 16, {},
             "grey 16: Pillow clips at 255"),
        ]
        for colors, bits in ((2, 1), (4, 2), (16, 4), (256, 8)):
            idx, pal = quantize(cat, colors)
            cases.append((f"enc_palette{bits}_37x29{tag}.png", idx[..., None], 3, bits, {"palette": pal},
                          f"palette {bits}-bit"))
            trns = bytes(RNG.integers(0, 256, size=min(colors, 5)).astype(np.uint8))
            cases.append((f"enc_palette{bits}_trns_37x29{tag}.png", idx[..., None], 3, bits,
                          {"palette": pal, "trns": trns}, f"palette {bits}-bit with tRNS (alpha dropped)"))
    for name, s, ct, bd, kw, why in cases:
        record(name, encode_png(np.asarray(s), ct, bd, interlace="adam7" in name, filters=cycle, **kw), why,
               grey=ct in (0, 4))

    # Odd sizes that leave Adam7 passes empty, and every single filter type on its own.
    for (w, h) in ((1, 1), (7, 3), (2, 9), (9, 2), (3, 1)):
        s = photo("coffee", (w, h))
        record(f"enc_rgb8_{w}x{h}_adam7.png", encode_png(s, 2, 8, interlace=True), "adam7 with empty passes")
        g = photo("camera", (w, h))[..., None] >> 6
        record(f"enc_grey2_{w}x{h}_adam7.png", encode_png(g, 0, 2, interlace=True), "sub-byte adam7 with empty passes")
    for f in range(5):
        record(f"enc_rgb16_64x48_filter{f}.png", encode_png(coffee.astype(np.int64) * 257, 2, 16, filters=f),
               f"filter type {f} on every row, bpp 6")
        record(f"enc_grey4_37x29_filter{f}.png", encode_png(camera[..., None] >> 4, 0, 4, filters=f),
               f"filter type {f} on every row, sub-byte (bpp 1)")
    record("enc_rgb8_64x48_idat_split7.png", encode_png(coffee, 2, 8, idat_chunk=7),
           "IDAT split in chunks of 7 bytes")
    record("enc_rgb8_64x8_idat_split1_level0.png", encode_png(coffee[:8], 2, 8, idat_chunk=1, level=0),
           "stored deflate blocks, IDAT split in 1-byte chunks")

    def many_blocks(raw):
        c = zlib.compressobj(6)
        out = b""
        for i in range(0, len(raw), 97):
            out += c.compress(raw[i:i + 97]) + c.flush(zlib.Z_FULL_FLUSH)
        return out + c.flush()

    record("enc_rgb8_64x48_fullflush.png", encode_png(coffee, 2, 8, zlib_stream=many_blocks),
           "many deflate blocks with empty stored blocks between them (Z_FULL_FLUSH)")

    def fixed_huffman(raw):
        c = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
        return c.compress(raw) + c.flush()

    record("enc_rgb8_64x48_fixed.png", encode_png(coffee, 2, 8, zlib_stream=fixed_huffman),
           "fixed Huffman blocks only (Z_FIXED)")
    extra = (chunk(b"tEXt", b"Comment\x00fixture"), chunk(b"gAMA", struct.pack(">I", 45455)),
             chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)), chunk(b"zzZz", b"private ancillary"))
    record("enc_rgb8_37x29_ancillary.png", encode_png(cat, 2, 8, extra=extra), "ancillary chunks are skipped")
    idx, pal = quantize(cat, 16)
    record("enc_palette4_short_plte_37x29.png", encode_png(idx[..., None], 3, 4, palette=pal[:9]),
           "indices past the end of a 9-entry PLTE: Pillow gives black")
    record("enc_grey8_37x29_trns.png", encode_png(camera[..., None], 0, 8, trns=struct.pack(">H", 77)),
           "grey with tRNS: ignored")
    record("enc_rgb8_37x29_trns.png", encode_png(cat, 2, 8, trns=struct.pack(">HHH", 1, 2, 3)),
           "rgb with tRNS: ignored")

    # ---- two larger photographs (speed and realism)
    big = photo("chelsea", (500, 400), (0, 0, 451, 300))
    record("photo_chelsea_500x400.png", pillow_png(Image.fromarray(big)), "larger photo, Pillow default")
    big2 = photo("astronaut", (500, 400))
    record("photo_astronaut_500x400_adam7.png", encode_png(big2, 2, 8, interlace=True, filters=4, level=6),
           "larger photo, interlaced, Paeth")

    # ---- PPM / PGM
    def ppm(magic, w, h, maxval, body, comment=b""):
        return magic + b"\n" + comment + b"%d %d\n%d\n" % (w, h, maxval) + body

    b = io.BytesIO(); Image.fromarray(cat).save(b, format="PPM")
    record("pil_rgb_37x29.ppm", b.getvalue(), "pillow P6 maxval 255")
    b = io.BytesIO(); Image.fromarray(camera).save(b, format="PPM")
    record("pil_grey_37x29.pgm", b.getvalue(), "pillow P5 maxval 255")
    b = io.BytesIO(); Image.frombytes("I;16", (37, 29), (camera.astype("<u2") + 100).tobytes()).save(b, format="PPM")
    record("pil_grey16_37x29.pgm", b.getvalue(), "pillow P5 maxval 65535: mode I, convert('L') clips")
    record("p6_comments_7x3.ppm",
           b"P6\n# a comment\n7 # width\n3\n# maxval next\n255\n" + astro.tobytes(), "comments in the header")
    record("p6_maxval100_37x29.ppm", ppm(b"P6", 37, 29, 100, (cat.astype(np.int64) * 100 // 255).astype(np.uint8).tobytes()),
           "maxval 100: round(v / 100 * 255), half to even")
    record("p5_maxval15_37x29.pgm", ppm(b"P5", 37, 29, 15, (camera >> 4).astype(np.uint8).tobytes()),
           "maxval 15")
    over = (camera >> 3).astype(np.uint8)
    record("p5_maxval15_overrange_37x29.pgm", ppm(b"P5", 37, 29, 15, over.tobytes()),
           "samples above maxval: clipped to 255 as Pillow's ppm decoder does")
    record("p6_maxval1000_37x29.ppm",
           ppm(b"P6", 37, 29, 1000, (cat.astype(np.int64) * 1000 // 255).astype(">u2").tobytes()),
           "16-bit samples, maxval 1000")
    record("p6_maxval65535_7x3.ppm",
           ppm(b"P6", 7, 3, 65535, (astro.astype(np.int64) * 257 + 100).clip(0, 65535).astype(">u2").tobytes()),
           "16-bit samples, maxval 65535")
    record("p5_maxval1000_37x29.pgm",
           ppm(b"P5", 37, 29, 1000, (camera.astype(np.int64) * 2).astype(">u2").tobytes()),
           "16-bit grey maxval 1000: mode I = round(v/1000*65535), then clipped at 255")
    record("p3_ascii_7x3.ppm",
           b"P3\n7 3\n255\n" + b"\n".join(b" ".join(b"%d" % v for v in row.reshape(-1)) for row in astro) + b"\n",
           "ascii P3")
    record("p2_ascii_maxval15_7x3.pgm",
           b"P2\n# c\n7 3\n15\n" + b" ".join(b"%d" % v for v in (photo("camera", (7, 3)) >> 4).reshape(-1)) + b"\n",
           "ascii P2, maxval 15")

    b = io.BytesIO(); Image.fromarray(camera).convert("1").save(b, format="PPM")
    record("pil_bilevel_37x29.pbm", b.getvalue(), "pillow P4 (raw bitmap, rows padded to bytes)")
    bits = (photo("camera", (7, 3)) > 128).astype(np.uint8)
    record("p1_plain_7x3.pbm", b"P1\n7 3\n" + b"".join(b"".join(b"%d" % v for v in row) + b"\n" for row in bits),
           "plain P1, no separators between pixels")

    make_bad_fixtures(cat, camera)
    make_zlib_fixtures()

    MANIFEST.sort(key=lambda m: m["file"])
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(MANIFEST)} fixtures, {total / 1e6:.2f} MB")
    for m in MANIFEST:
        print(m["file"], m["pillowMode"], m["width"], m["height"], m["channels"])


if __name__ == "__main__":
    main()
