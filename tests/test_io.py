import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from synth import blank, encode, palette_blocks

import animefeat as af
from animefeat.exceptions import (
    AnimefeatError,
    ImageDecodeError,
    ImageNotFoundError,
    ImageShapeError,
    ImageTooLargeError,
    UnsupportedInputError,
)

RED = np.zeros((40, 60, 3), np.uint8)
RED[..., 0] = 255


# --- every source type gives the same pixels ---------------------------------------------


@pytest.fixture
def png_bytes():
    return encode(RED)


def test_path_str(tmp_path, png_bytes):
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes)
    np.testing.assert_array_equal(af.load_image(str(path)), RED)


def test_pathlike(tmp_path, png_bytes):
    path = tmp_path / "red.png"
    path.write_bytes(png_bytes)
    np.testing.assert_array_equal(af.load_image(path), RED)


def test_bytes(png_bytes):
    np.testing.assert_array_equal(af.load_image(png_bytes), RED)


def test_binary_file(png_bytes):
    np.testing.assert_array_equal(af.load_image(io.BytesIO(png_bytes)), RED)


def test_pil_image():
    np.testing.assert_array_equal(af.load_image(Image.fromarray(RED)), RED)


def test_base64_string(png_bytes):
    np.testing.assert_array_equal(af.load_image(base64.b64encode(png_bytes).decode()), RED)


def test_data_url(png_bytes):
    url = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    np.testing.assert_array_equal(af.load_image(url), RED)


def test_result_is_uint8_rgb_contiguous_copy():
    arr = RED.copy()
    out = af.load_image(arr)
    assert out.dtype == np.uint8 and out.shape == (40, 60, 3) and out.flags.c_contiguous
    out[0, 0] = 0
    assert arr[0, 0, 0] == 255  # the caller's array is never modified


# --- arrays ----------------------------------------------------------------------------------


def test_grayscale_array_is_stacked():
    grey = np.full((20, 30), 77, np.uint8)
    out = af.load_image(grey)
    assert out.shape == (20, 30, 3) and np.all(out == 77)


def test_float_array_in_unit_range():
    out = af.load_image(np.full((20, 20, 3), 0.5))
    assert np.all(out == 128)


def test_float_array_out_of_range_is_rejected():
    with pytest.raises(UnsupportedInputError, match=r"\[0, 1\]"):
        af.load_image(np.full((20, 20, 3), 2.0))


def test_rgba_array_composited_on_white():
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent black
    assert np.all(af.load_image(rgba) == 255)


def test_uint16_array_keeps_full_range():
    arr = np.full((20, 20), 65535, np.uint16)
    assert np.all(af.load_image(arr) == 255)


def test_wrong_array_shape():
    with pytest.raises(UnsupportedInputError, match="shape"):
        af.load_image(np.zeros((20, 20, 5), np.uint8))


# --- what real uploads contain -------------------------------------------------------------


def test_exif_orientation_is_applied():
    tall = np.zeros((60, 30, 3), np.uint8)
    tall[:10] = 255  # white band at the top
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs 90 degrees clockwise
    data = encode(Image.fromarray(tall), "JPEG", exif=exif, quality=95)
    out = af.load_image(data)
    assert out.shape == (30, 60, 3)
    assert out[:, -10:].mean() > 200  # the top band is now on the right


def test_exif_orientation_of_a_png_is_applied():
    tall = np.zeros((60, 30, 3), np.uint8)
    tall[:10] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    out = af.load_image(encode(Image.fromarray(tall), "PNG", exif=exif))
    assert out.shape == (30, 60, 3) and out[:, -10:].mean() > 200


def test_plain_rgb_png_gives_pillows_pixels():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    data = encode(img, "PNG")
    np.testing.assert_array_equal(af.load_image(data), img)
    np.testing.assert_array_equal(af.load_image(data),
                                  np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def _pillow_pixels(data, max_side=None):
    """What Pillow alone decodes (the loader's path for every image that is not plain)."""
    from animefeat.io import BACKGROUND, DEFAULT_LIMITS, _open, _orient, _pil_to_rgb

    with _open(data, DEFAULT_LIMITS, max_side) as im:
        return _pil_to_rgb(_orient(im), BACKGROUND)


@pytest.mark.parametrize("size", [(90, 70), (700, 300), (513, 1030), (2100, 260)])
@pytest.mark.parametrize("max_side", [None, 256])
@pytest.mark.parametrize("progressive", [False, True])
def test_plain_jpeg_gives_pillows_pixels(size, max_side, progressive):
    from animefeat.io import _plain_jpeg_size

    rng = np.random.default_rng(1)
    img = cv2_smooth_noise(rng, size)
    data = encode(img, "JPEG", quality=90, progressive=progressive)
    assert _plain_jpeg_size(data) == size  # it takes OpenCV's path
    out = af.load_image(data, max_side=max_side)
    np.testing.assert_array_equal(out, _pillow_pixels(data, max_side))


def cv2_smooth_noise(rng, size):
    """Noise blurred into blobs: JPEG detail without flat areas."""
    import cv2

    width, height = size
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 3)


@pytest.mark.parametrize("kind", ["grey", "cmyk", "exif", "truncated", "trailing", "text"])
def test_other_jpegs_are_not_plain(kind):
    from animefeat.io import _plain_jpeg_size

    img = palette_blocks(4, size=64)
    data = {
        "grey": lambda: encode(Image.fromarray(img).convert("L"), "JPEG"),
        "cmyk": lambda: encode(Image.fromarray(img).convert("CMYK"), "JPEG"),
        "exif": lambda: encode(img, "JPEG", exif=Image.Exif()),
        "truncated": lambda: encode(img, "JPEG")[:-100],
        "trailing": lambda: encode(img, "JPEG") + b"\0" * 16,
        "text": lambda: b"\xff\xd8 not a JPEG at all \xff\xd9",
    }[kind]()
    assert _plain_jpeg_size(data) is None


def test_jpeg_with_trailing_bytes_still_loads():
    img = palette_blocks(4, size=64)
    data = encode(img, "JPEG", quality=95) + b"\0" * 16
    np.testing.assert_array_equal(af.load_image(data), _pillow_pixels(data))


def test_cut_scan_closed_by_an_end_marker_loads_as_pillow_loads_it():
    # Entropy-coded data never hold FF D9, so only a forged end marker reaches OpenCV
    # with a cut scan: libjpeg fills the rest in both paths (and warns on stderr here).
    data = encode(palette_blocks(4, size=64), "JPEG")
    forged = data[: len(data) - 60] + b"\xff\xd9"
    np.testing.assert_array_equal(af.load_image(forged), _pillow_pixels(forged))


def test_jpeg_damaged_inside_but_complete_loads_as_libjpeg_decodes_it():
    rng = np.random.default_rng(0)
    img = cv2_smooth_noise(rng, (64, 48))
    data = bytearray(encode(img, "JPEG", quality=90))
    data[-40:-36] = b"\x13\x57\x9b\xdf"  # inside the scan
    out = af.load_image(bytes(data))
    assert out.shape == (48, 64, 3)
    assert not np.array_equal(out, af.load_image(encode(img, "JPEG", quality=90)))


def test_malformed_exif_keeps_the_image():
    data = bytearray(encode(blank(32, 32), "JPEG"))
    # An APP1 "Exif" segment whose TIFF header is garbage.
    segment = b"Exif\x00\x00" + b"\xff" * 30
    data[2:2] = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    assert af.load_image(bytes(data)).shape == (32, 32, 3)


def test_palette_png_with_transparency():
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.info["transparency"] = 0
    out = af.load_image(encode(pal, transparency=0))
    assert np.all(out == 255)  # index 0 is transparent -> white background


def test_grayscale_with_alpha():
    la = Image.new("LA", (20, 20), (0, 0))
    assert np.all(af.load_image(encode(la)) == 255)


def test_sixteen_bit_png():
    arr = np.full((20, 20), 65535 // 2, np.uint16)
    out = af.load_image(encode(Image.fromarray(arr)))
    assert np.all(np.abs(out.astype(int) - 127) <= 1)


def test_cmyk_jpeg():
    cmyk = Image.new("CMYK", (20, 20), (0, 255, 255, 0))  # pure red in CMYK
    out = af.load_image(encode(cmyk, "JPEG", quality=95))
    assert out[..., 0].mean() > 200 and out[..., 1].mean() < 60


def test_webp():
    out = af.load_image(encode(palette_blocks(2, size=32), "WEBP", lossless=True))
    assert out.shape == (32, 32, 3)


def _animated_gif(n):
    frames = [Image.fromarray(blank(20, 20, (i * 40 % 256, 0, 0))) for i in range(n)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return buffer.getvalue()


def test_animated_gif_first_frame():
    assert af.load_image(_animated_gif(3))[0, 0, 0] == 0


def test_load_frames_evenly_spaced():
    frames = af.load_frames(_animated_gif(5), n_frames=3)
    assert [int(f[0, 0, 0]) for f in frames] == [0, 80, 160]


def test_load_frames_of_still_image():
    assert len(af.load_frames(encode(blank(20, 20)), n_frames=4)) == 1


def test_draft_decode_keeps_long_side_at_least_max_side():
    # 1200 x 800 at 1/4 is 300 x 200: the long side stays >= 256, 1/8 would not.
    data = encode(blank(800, 1200), "JPEG")
    assert af.load_image(data, max_side=256).shape == (200, 300, 3)


def test_draft_decode_leaves_small_jpeg_whole():
    data = encode(blank(150, 250), "JPEG")
    assert af.load_image(data, max_side=256).shape == (150, 250, 3)


# --- bad input: a clear AnimefeatError every time ------------------------------------------


def test_empty_bytes():
    with pytest.raises(ImageDecodeError, match="empty"):
        af.load_image(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_truncated_file(fmt):
    data = encode(palette_blocks(4, size=64), fmt)
    with pytest.raises(ImageDecodeError):
        af.load_image(data[: len(data) // 2])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_file_cut_short_says_so_not_the_decoders_byte_count(fmt):
    data = encode(np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8),
                  fmt)
    with pytest.raises(ImageDecodeError, match="the file is cut short") as err:
        af.load_image(data[: len(data) // 2])
    assert "not processed" not in str(err.value)


def test_text_with_image_extension(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a picture\n" * 5)
    with pytest.raises(ImageDecodeError, match="text"):
        af.load_image(path)


def test_html_renamed_as_image():
    with pytest.raises(UnsupportedInputError, match="HTML"):
        af.load_image(b"<!DOCTYPE html><html><body>404</body></html>")


def test_svg_is_refused():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'
    with pytest.raises(UnsupportedInputError, match="SVG"):
        af.load_image(svg)


def test_svg_data_url_is_refused():
    with pytest.raises(UnsupportedInputError, match="SVG"):
        af.load_image("data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode())


def test_pdf_is_refused():
    with pytest.raises(UnsupportedInputError, match="PDF"):
        af.load_image(b"%PDF-1.7\n1 0 obj\n")


def test_unknown_base64_string():
    junk = base64.b64encode(b"\x00\x01 definitely not an image " * 4).decode()
    with pytest.raises(ImageDecodeError, match="not a recognised image"):
        af.load_image(junk)


def test_base64_bad_padding():
    with pytest.raises(ImageDecodeError, match="base64"):
        af.load_image("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB=a")


def test_data_url_of_non_image():
    with pytest.raises(UnsupportedInputError, match="text/plain"):
        af.load_image("data:text/plain;base64,aGVsbG8=")


def test_missing_path():
    with pytest.raises(ImageNotFoundError, match="no such file"):
        af.load_image("/nonexistent/picture.png")


def test_folder_path(tmp_path):
    with pytest.raises(UnsupportedInputError, match="folder"):
        af.load_image(tmp_path)


def test_wrong_type():
    with pytest.raises(UnsupportedInputError, match="int"):
        af.load_image(42)


def test_text_mode_file(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(encode(RED))
    with open(path) as fh, pytest.raises(UnsupportedInputError, match="text mode"):
        af.load_image(fh)


def _chunk(kind, body):
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png_header_only(width, height):
    """A small PNG whose header declares a huge image (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + _chunk(b"IEND", b""))


def test_decompression_bomb_refused_from_header():
    with pytest.raises(ImageTooLargeError, match="pixel limit"):
        af.load_image(_png_header_only(50_000, 50_000))


def test_pixel_limit_is_configurable():
    with pytest.raises(ImageTooLargeError):
        af.load_image(encode(blank(100, 100)), limits=af.Limits(max_pixels=5_000))


def test_byte_limit():
    with pytest.raises(ImageTooLargeError, match="byte limit"):
        af.load_image(encode(blank(100, 100)), limits=af.Limits(max_bytes=100))


def test_too_small():
    with pytest.raises(ImageShapeError, match="at least 16"):
        af.load_image(blank(8, 8))


def test_absurd_aspect_ratio():
    with pytest.raises(ImageShapeError, match="elongated"):
        af.load_image(blank(16, 2000))


def test_all_errors_share_one_base():
    for cls in (ImageDecodeError, ImageNotFoundError, ImageShapeError, ImageTooLargeError,
                UnsupportedInputError, af.ModelError):
        assert issubclass(cls, AnimefeatError)


def test_frame_count_of_an_animation_and_a_still():
    assert af.frame_count(_animated_gif(4)) == 4
    assert af.frame_count(encode(blank(20, 20), "PNG")) == 1


def test_image_size_reads_the_header_and_turns_with_the_exif_orientation():
    from animefeat.io import image_size

    stored = np.zeros((40, 20, 3), np.uint8)  # 20 wide, 40 tall as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by a quarter: 40 wide, 20 tall
    assert image_size(encode(Image.fromarray(stored), "JPEG", exif=exif)) == (40, 20)
    assert image_size(encode(stored, "PNG")) == (20, 40)
    assert image_size(stored) == (20, 40)
    assert image_size(encode(stored, "PNG")) == af.load_image(encode(stored, "PNG")).shape[1::-1]
