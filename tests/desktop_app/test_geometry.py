import pytest

from desktop_app.geometry import (
    Rect,
    RectF,
    global_selection_to_pixels,
    normalize_drag,
    screen_at,
    screen_scale,
    selection_problem,
    selection_to_pixels,
)


def test_scale_1_identity():
    r = selection_to_pixels(RectF(10, 20, 100, 50), (1920, 1080), (1920, 1080))
    assert r == Rect(10, 20, 100, 50)


def test_scale_2_retina():
    r = selection_to_pixels(RectF(10, 20, 100, 50), (2880, 1800), (1440, 900))
    assert r == Rect(20, 40, 200, 100)


def test_scale_1_5_fractional_rounds_outward():
    # 1.5x: 11 logical px -> 16.5 physical: start floors, end ceils
    r = selection_to_pixels(RectF(11, 11, 11, 11), (2880, 1620), (1920, 1080))
    assert r == Rect(16, 16, 17, 17)  # 16.5 -> 16, 33.0 -> 33
    assert screen_scale((2880, 1620), (1920, 1080)) == (1.5, 1.5)


def test_negative_origin_second_screen_left_of_primary():
    # secondary 1280x1024 at logical (-1280, -200), scale 1.25 (image 1600x1280)
    sel = RectF(-1000, -100, 200, 80)  # global logical coordinates
    r = global_selection_to_pixels(sel, (-1280, -200), (1600, 1280), (1280, 1024))
    assert r == Rect(350, 125, 250, 100)


def test_negative_origin_scale_2_above_primary():
    sel = RectF(100, -500, 40, 30)
    r = global_selection_to_pixels(sel, (0, -1080), (3840, 2160), (1920, 1080))
    assert r == Rect(200, 1160, 80, 60)


def test_clipped_to_image():
    r = selection_to_pixels(RectF(-5, -5, 30, 30), (100, 100), (100, 100))
    assert r == Rect(0, 0, 25, 25)
    r = selection_to_pixels(RectF(90, 90, 30, 30), (200, 200), (100, 100))
    assert r == Rect(180, 180, 20, 20)


def test_drag_any_direction():
    assert normalize_drag(50, 60, 10, 20) == RectF(10, 20, 40, 40)


def test_tiny_and_empty_rejected_with_hint():
    assert selection_problem(Rect(0, 0, 0, 0)).startswith("Empty selection")
    assert "too small" in selection_problem(Rect(0, 0, 7, 100))
    assert "too small" in selection_problem(Rect(0, 0, 100, 7))
    assert selection_problem(Rect(0, 0, 8, 8)) is None


def test_bad_window_size():
    with pytest.raises(ValueError):
        screen_scale((100, 100), (0, 100))


def test_screen_at_with_negative_origin():
    screens = [RectF(0, 0, 1920, 1080), RectF(-1280, 0, 1280, 1024)]
    assert screen_at((-1, 10), screens) == 1
    assert screen_at((0, 0), screens) == 0
    assert screen_at((5000, 0), screens) is None
