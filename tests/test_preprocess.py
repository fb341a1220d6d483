import numpy as np
import pytest
from synth import blank, cartoon, encode, grey_bands, palette_blocks

from animefeat import load_image
from animefeat.preprocess import (
    WORK_SIDE,
    _reduce_whole,
    load_for_features,
    reencoded,
    trim_borders,
    working_copy,
)


def test_long_side_is_work_side():
    work = working_copy(palette_blocks(3, size=300)[:, :200])
    assert max(work.rgb.shape[:2]) == WORK_SIDE


def test_letterbox_bars_are_trimmed():
    img = blank(100, 200, (0, 0, 0))
    img[:, 50:150] = grey_bands([120, 200, 160, 240], size=100)
    # The bars frame a picture that fills them: trimmed whole, no margin of bar kept.
    assert trim_borders(img) == (0, 0, 50, 50)


def test_a_page_keeps_a_margin_of_itself_around_the_figure():
    # A disc on a white page: the page continues inside the disc's bounding box, so
    # 2 px of it (the least margin) stay so the disc's outline is an edge. Flat runs:
    # 21 lines above and left (the disc's 1-px tip counts as flat), 20 below and right.
    img = blank(100, 100)
    yy, xx = np.mgrid[:100, :100]
    img[(yy - 50) ** 2 + (xx - 50) ** 2 <= 30 ** 2] = (200, 30, 30)
    assert trim_borders(img) == (19, 18, 19, 18)


def test_a_frame_added_around_a_picture_leaves_the_same_working_copy():
    picture = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    for colour in ((0, 0, 0), (255, 255, 255), (40, 120, 200)):
        framed = blank(144, 184, colour)
        framed[12:132, 12:172] = picture
        assert np.array_equal(working_copy(framed).rgb, working_copy(picture).rgb)


def test_the_margin_kept_is_the_page_never_the_frame_around_it():
    # A disc on a white page inside a thin black frame: the margin left is white.
    page = blank(100, 100)
    yy, xx = np.mgrid[:100, :100]
    page[(yy - 50) ** 2 + (xx - 50) ** 2 <= 30 ** 2] = (200, 30, 30)
    framed = blank(104, 104, (0, 0, 0))
    framed[2:102, 2:102] = page
    top, bottom, left, right = trim_borders(framed)
    kept = framed[top:104 - bottom, left:104 - right]
    assert kept.min(axis=2).max() == 255 and kept.max(axis=2).min() > 0


def test_frame_around_a_page_is_peeled_like_the_page_alone():
    # A drawing on a white page, then the same page inside a 20-px black frame.
    page = blank(100, 140)
    page[30:70, 40:100] = (200, 30, 30)
    framed = blank(140, 180, (0, 0, 0))
    framed[20:120, 20:160] = page
    # Each side peels the frame and the page; the kept margin (2% of the side) may
    # differ by a pixel, as the framed image is larger.
    expected = np.array(trim_borders(page)) + 20
    assert np.abs(np.array(trim_borders(framed)) - expected).max() <= 1


def test_flat_bands_of_different_colours_are_not_peeled_as_a_frame():
    img = blank(100, 200, (0, 0, 0))
    img[:, 50:150] = grey_bands([120, 200, 160, 240], size=100)
    # Left band 120 and right band 240 differ: they are the drawing, not a mat.
    assert trim_borders(img)[2:] == (50, 50)


def test_blank_image_is_not_trimmed_away():
    assert trim_borders(blank(64, 64)) == (0, 0, 0, 0)


def test_white_page_around_drawing_is_background():
    img = blank(128, 128)
    img[40:88, 40:88] = (200, 30, 30)
    img[:, 60:68] = (200, 30, 30)  # a bar through the page keeps it from being trimmed
    img[60:68, :] = (200, 30, 30)
    assert trim_borders(img) == (0, 0, 0, 0)
    fg = working_copy(img).foreground
    # The red shapes (grown by the 2-px outline margin) are the drawing; the page is not.
    assert fg[64, 64] and fg[20, 64] and not fg[10, 10] and not fg[110, 20]
    assert fg[:38, :58].sum() == 0


def test_full_bleed_image_is_all_foreground():
    assert working_copy(palette_blocks(6, size=128)).foreground.all()


def test_grey_and_hsv_ranges():
    work = working_copy(cartoon())
    assert work.grey.min() >= 0 and work.grey.max() <= 1
    assert work.hsv.min() >= 0 and work.hsv.max() <= 1
    assert work.grey.dtype == np.float64


def test_float_hsv_is_the_8_bit_view_scaled():
    work = working_copy(cartoon())
    assert work.hsv_uint8.dtype == np.uint8
    assert work.hsv.dtype == np.float64
    np.testing.assert_array_equal(work.hsv, work.hsv_uint8.astype(np.float64) / 255.0)


def test_large_image_is_reduced_first_with_the_same_result():
    import cv2

    small = cartoon(size=200)
    big = cv2.resize(small, (1600, 1600), interpolation=cv2.INTER_NEAREST)
    a, b = working_copy(small), working_copy(big)
    # Trimming at another resolution may round the crop by one working pixel.
    assert np.abs(np.subtract(a.rgb.shape, b.rgb.shape)).max() <= 1
    h, w = min(a.rgb.shape[0], b.rgb.shape[0]), min(a.rgb.shape[1], b.rgb.shape[1])
    assert np.abs(a.rgb[:h, :w].astype(int) - b.rgb[:h, :w].astype(int)).mean() < 6
    # The same crop, within one original pixel of the small image (8 of the big one).
    assert np.abs(np.array(a.crop) * 8 - np.array(b.crop)).max() <= 8
    assert b.scale == pytest.approx(128 / 1600, rel=0.05)


def test_crop_is_in_original_pixels():
    img = blank(1200, 1200)
    img[300:900, 300:900] = (200, 30, 30)
    top, bottom, left, right = working_copy(img).crop
    # Reduced by 8: the square frames a picture, so the 37 white blocks go with the one
    # that blends white and red (296-303): 38 blocks of 8 original pixels.
    assert top == bottom == left == right == 304


def test_crop_counts_the_rows_left_out_of_the_blocks():
    # 1203 px reduce by 8 (150 blocks of 8 rows): the last 3 rows fall outside the
    # blocks and count as trimmed, so the bottom crop is the top's plus 3.
    img = blank(1203, 1203)
    img[300:900, 300:900] = (200, 30, 30)
    top, bottom, left, right = working_copy(img).crop
    assert top == 304 and (bottom, left, right) == (top + 3, top, top + 3)


def test_reduce_whole_averages_blocks():
    img = np.zeros((4, 6, 3), np.uint8)
    img[:2, :2] = 40
    img[0, 0] = 80  # block mean (80 + 3 * 40) / 4 = 50
    img[2:, 4:] = (10, 20, 30)
    out, block = _reduce_whole(img, 2)
    assert out.shape == (2, 3, 3) and block == (2, 2)
    assert out[0, 0].tolist() == [50, 50, 50]
    assert out[1, 2].tolist() == [10, 20, 30]
    assert not out[0, 1].any() and not out[1, 0].any()


def test_reduce_whole_leaves_out_rows_and_columns_that_do_not_fill_a_block():
    img = np.zeros((5, 7, 3), np.uint8)
    img[4, :] = 255  # the fifth row and seventh column are outside the 2 x 2 blocks
    img[:, 6] = 255
    out, _ = _reduce_whole(img, 2)
    assert out.shape == (2, 3, 3) and not out.any()


def test_reduce_whole_by_one_is_the_image_itself():
    img = cartoon()
    out, block = _reduce_whole(img, 1)
    assert out is img and block == (1, 1)


def test_reduce_whole_of_a_thin_strip_keeps_one_pixel_across():
    out, block = _reduce_whole(np.full((3, 1000, 3), 90, np.uint8), 8)
    assert out.shape == (1, 125, 3) and block == (3, 8) and (out == 90).all()


@pytest.mark.parametrize(("side", "expected"), [(128, 150), (256, 300), (600, 600)])
def test_large_jpeg_is_decoded_at_the_scale_the_working_copy_needs(side, expected):
    # 600 px: 1/4 (150 px) is the smallest DCT scale still >= 128 px; 1/2 for 256.
    data = encode(cartoon(size=600), "JPEG", quality=95)
    assert max(load_for_features(data, side=side).shape[:2]) == expected


def test_jpeg_file_and_its_pixels_give_nearly_the_same_working_copy():
    # The file is reduced in its decoder (DCT scale 1/4), the array by 4 x 4 block
    # averages: nearly the same pixels reach the trimming and resizing.
    data = encode(cartoon(size=600), "JPEG", quality=95)
    from_array = working_copy(load_image(data))
    from_file = working_copy(data)
    assert from_array.rgb.shape == from_file.rgb.shape
    diff = np.abs(from_array.rgb.astype(int) - from_file.rgb.astype(int))
    assert diff.mean() < 0.5


def test_border_line_with_a_few_off_pixels_is_still_flat():
    # 98% of a line near the page colour is flat: 2 dark pixels in 128 do not stop it.
    image = np.full((64, 128, 3), 250, np.uint8)
    image[0:5, :2] = 0
    image[20:44, 30:90] = 0
    top, bottom, _, _ = trim_borders(image, margin=0)
    # 20 flat rows each side; the block fills the picture left, so no margin stays.
    assert (top, bottom) == (20, 20)


def test_a_re_encoded_copy_keeps_the_side_and_the_picture():
    work = working_copy(cartoon(seed=7), side=200)
    again = reencoded(work, quality=75)
    assert again.rgb.shape == work.rgb.shape
    # JPEG at quality 75 moves flat paint by a few levels, never a whole colour.
    assert np.median(np.abs(again.rgb.astype(int) - work.rgb)) <= 2


def test_a_lower_quality_moves_the_picture_more():
    work = working_copy(cartoon(seed=7), side=200)
    error = [np.abs(reencoded(work, quality=q).rgb.astype(int) - work.rgb).mean()
             for q in (95, 30)]
    assert error[0] < error[1]
