#!/usr/bin/env python3
"""Generates Fixtures/jpeg/: JPEG files and the pixels Pillow decodes from them.

Why: JPEGDecoder promises the pixels of `PIL.Image.open(f).convert("RGB")` (or `"L"` for
greyscale), which is libjpeg-turbo's default decompression (islow IDCT, fancy upsampling,
integer YCbCr->RGB). The reference here is Pillow itself, never our decoder.

Each case says why it exists. Output:
  Fixtures/jpeg/<name>.jpg           the encoded file
  Fixtures/jpeg/<name>.raw           expected pixels, HWC uint8 (Pillow's decode)
  Fixtures/jpeg/manifest.json        {"decode": [{file, expected, width, height, channels,
                                      sampling, progressive}], "unsupported": [{file, message}]}

Needs: Pillow, scikit-image (sample photographs), numpy, and cjpeg from Debian's
libjpeg-turbo-progs (4:4:0, 4:1:1, multi-scan sequential and arithmetic-coded files).
Run from anywhere: python3 Fixtures/scripts/make_jpeg_fixtures.py
"""
import io
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import PIL
import PIL.features
from PIL import Image
import skimage.data

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jpeg")
OUT = os.path.normpath(OUT)

decode_cases = []
unsupported_cases = []


def crop(photo, width, height, left=0, top=0):
    a = getattr(skimage.data, photo)()
    a = a[top:top + height, left:left + width]
    assert a.shape[0] == height and a.shape[1] == width, (photo, a.shape)
    return Image.fromarray(a)


def record(name, data, why, sampling):
    """Saves `data` as <name>.jpg and Pillow's decode of it as <name>.raw."""
    path = os.path.join(OUT, name + ".jpg")
    with open(path, "wb") as f:
        f.write(data)
    im = Image.open(io.BytesIO(data))
    grey = im.mode == "L"
    progressive = bool(im.info.get("progressive", 0) or im.info.get("progression", 0))
    pixels = im.convert("L" if grey else "RGB")
    raw = np.asarray(pixels, dtype=np.uint8)
    with open(os.path.join(OUT, name + ".raw"), "wb") as f:
        f.write(raw.tobytes())
    decode_cases.append({
        "file": name + ".jpg", "expected": name + ".raw",
        "width": pixels.width, "height": pixels.height, "channels": 1 if grey else 3,
        "sampling": sampling, "progressive": progressive, "why": why,
    })


def pillow_jpeg(image, **options):
    b = io.BytesIO()
    image.save(b, "JPEG", **options)
    return b.getvalue()


def cjpeg(image, *arguments):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.ppm" if image.mode == "RGB" else "in.pgm")
        image.save(src)
        dst = os.path.join(d, "out.jpg")
        subprocess.run(["cjpeg", *arguments, "-outfile", dst, src], check=True)
        with open(dst, "rb") as f:
            return f.read()


SAMPLING = {0: "444", 1: "422", 2: "420"}


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    # The quality x subsampling x mode grid at an odd size (partial MCUs on both edges).
    small = crop("chelsea", 61, 43, left=180, top=90)
    for progressive in (False, True):
        for quality in (50, 75, 90, 95):
            for subsampling in (0, 1, 2):
                tag = "p" if progressive else "b"
                record(f"chelsea61x43_{tag}_q{quality}_{SAMPLING[subsampling]}",
                       pillow_jpeg(small, quality=quality, subsampling=subsampling,
                                   progressive=progressive),
                       "quality/subsampling/progression grid on an odd size", SAMPLING[subsampling])

    # Tiny sizes: chroma planes of 1 or 2 samples take libjpeg's box-filter path, 1x1 is one MCU.
    for (w, h, photo) in ((17, 9, "astronaut"), (1, 1, "coffee"), (3, 5, "rocket"), (4, 4, "coffee"),
                          (2, 7, "astronaut"), (9, 2, "chelsea")):
        image = crop(photo, w, h, left=200, top=150)
        for progressive in (False, True):
            for subsampling in (0, 1, 2):
                tag = "p" if progressive else "b"
                record(f"{photo}{w}x{h}_{tag}_q90_{SAMPLING[subsampling]}",
                       pillow_jpeg(image, quality=90, subsampling=subsampling, progressive=progressive),
                       "tiny image: edge replication, box filter for chroma widths <= 2",
                       SAMPLING[subsampling])

    # Medium photographs.
    medium = crop("astronaut", 300, 200, left=100, top=40)
    record("astronaut300x200_b_q75_420", pillow_jpeg(medium, quality=75, subsampling=2),
           "typical photo, Pillow's default settings", "420")
    record("astronaut300x200_p_q95_444", pillow_jpeg(medium, quality=95, subsampling=0, progressive=True),
           "high quality progressive 4:4:4", "444")
    record("astronaut300x200_b_q90_422_optimized",
           pillow_jpeg(medium, quality=90, subsampling=1, optimize=True),
           "optimised Huffman tables", "422")
    rocket = crop("rocket", 300, 200, left=200, top=100)
    record("rocket300x200_p_q50_420", pillow_jpeg(rocket, quality=50, subsampling=2, progressive=True),
           "low quality progressive 4:2:0 (large coefficients, long EOB runs)", "420")

    # ~500x400 photographs (the size users feed by the thousand).
    coffee = crop("coffee", 500, 400, left=50)
    record("coffee500x400_b_q75_420", pillow_jpeg(coffee, quality=75, subsampling=2),
           "full-size photo, baseline 4:2:0", "420")
    astronaut = crop("astronaut", 497, 403, left=7, top=5)
    record("astronaut497x403_p_q90_422", pillow_jpeg(astronaut, quality=90, subsampling=1, progressive=True),
           "full-size photo, progressive 4:2:2, odd size", "422")

    # Greyscale (Pillow mode L, one channel out).
    camera = crop("camera", 61, 43, left=200, top=100)
    for progressive in (False, True):
        for quality in (50, 90):
            tag = "p" if progressive else "b"
            record(f"camera61x43_{tag}_q{quality}_grey", pillow_jpeg(camera, quality=quality, progressive=progressive),
                   "greyscale, one component, non-interleaved scans", "grey")
    record("camera300x200_b_q75_grey", pillow_jpeg(crop("camera", 300, 200, left=100, top=100), quality=75),
           "greyscale medium", "grey")

    # Restart intervals.
    record("chelsea61x43_b_q75_420_restart_blocks1", pillow_jpeg(small, quality=75, subsampling=2,
                                                                 restart_marker_blocks=1),
           "restart marker after every MCU", "420")
    record("chelsea61x43_p_q75_422_restart_rows1", pillow_jpeg(small, quality=75, subsampling=1,
                                                               restart_marker_rows=1, progressive=True),
           "restart markers in progressive scans (EOB runs reset)", "422")
    record("camera61x43_b_q75_grey_restart3", cjpeg(camera, "-quality", "75", "-restart", "3B"),
           "restart interval of 3 MCUs, greyscale (cjpeg)", "grey")
    record("medium300x200_b_q90_444_restart_rows2", pillow_jpeg(medium, quality=90, subsampling=0,
                                                                restart_marker_rows=2),
           "restart markers every two MCU rows", "444")

    # 4:4:0, 4:1:1 and multi-scan sequential files (cjpeg).
    record("chelsea61x43_b_q90_440", cjpeg(small, "-quality", "90", "-sample", "1x2"),
           "4:4:0: libjpeg-turbo's h1v2 fancy upsampling", "440")
    record("chelsea61x43_p_q90_440", cjpeg(small, "-quality", "90", "-sample", "1x2", "-progressive"),
           "4:4:0 progressive", "440")
    record("astronaut300x200_b_q85_440", cjpeg(medium, "-quality", "85", "-sample", "1x2"),
           "4:4:0 medium", "440")
    record("chelsea61x43_b_q90_411", cjpeg(small, "-quality", "90", "-sample", "4x1"),
           "4:1:1: libjpeg's integral box upsampling", "411")
    with tempfile.TemporaryDirectory() as d:
        scans = os.path.join(d, "scans.txt")
        with open(scans, "w") as f:
            f.write("0;\n1;\n2;\n")
        record("chelsea61x43_s_q90_420_scans", cjpeg(small, "-quality", "90", "-scans", scans),
               "sequential file with one scan per component (non-interleaved chroma)", "420")

    # EXIF segment (APP1) ahead of the frame; the decoder skips it and does not rotate.
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "WeakSpot fixture"
    record("chelsea61x43_b_q90_420_exif", pillow_jpeg(small, quality=90, subsampling=2, exif=exif.tobytes()),
           "EXIF APP1 segment with an orientation tag (not applied, as Pillow's open does not)", "420")

    # Unsupported kinds: each must give .unsupported with a message naming the kind.
    def unsupported(name, data, message, why):
        with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
            f.write(data)
        unsupported_cases.append({"file": name + ".jpg", "message": message, "why": why})

    unsupported("arithmetic", cjpeg(small, "-quality", "75", "-arithmetic"),
                "arithmetic-coded jpeg is not supported", "arithmetic coding (cjpeg -arithmetic)")
    cmyk = small.convert("CMYK")
    unsupported("cmyk", pillow_jpeg(cmyk, quality=75), "4-component (cmyk/ycck) jpeg is not supported",
                "CMYK saved by Pillow")
    # No tool at hand writes 12-bit or lossless files; patch a baseline header instead
    # (the decoder must refuse at the frame header, before any entropy data).
    base = bytearray(pillow_jpeg(small, quality=75))
    sof = base.index(b"\xff\xc0")
    twelve = bytearray(base)
    twelve[sof + 1] = 0xC1
    twelve[sof + 4] = 12
    unsupported("precision12_header", bytes(twelve), "12-bit jpeg is not supported",
                "SOF1 with 12-bit precision (patched header)")
    lossless = bytearray(base)
    lossless[sof + 1] = 0xC3
    unsupported("lossless_header", bytes(lossless), "lossless jpeg is not supported",
                "SOF3 lossless (patched marker)")
    hierarchical = bytearray(base)
    hierarchical[sof + 1] = 0xC5
    unsupported("hierarchical_header", bytes(hierarchical), "hierarchical jpeg is not supported",
                "SOF5 differential (patched marker)")

    manifest = {
        "generator": "Fixtures/scripts/make_jpeg_fixtures.py",
        "pillow": PIL.__version__,
        "libjpeg_turbo": PIL.features.version("libjpeg_turbo"),
        "decode": decode_cases,
        "unsupported": unsupported_cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(decode_cases)} decode cases, {len(unsupported_cases)} unsupported, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
