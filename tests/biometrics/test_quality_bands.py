"""Portrait quality bands: limits as data, reasons per broken limit."""

from __future__ import annotations

from kyc.biometrics.quality_bands import BandLimit, band_limits, portrait_band

LIMITS = (
    BandLimit("inter_eye_px", 20.0, None, "portrait_small"),
    BandLimit("sharpness", 30.0, None, "portrait_blurred"),
    BandLimit("yaw_deg", None, 20.0, "portrait_pose"),
)


def test_band_reasons_follow_the_limits():
    good = {"inter_eye_px": 40.0, "sharpness": 80.0, "yaw_deg": -5.0}
    assert portrait_band(good, LIMITS).name == "good"
    b = portrait_band({**good, "sharpness": 10.0, "yaw_deg": -25.0}, LIMITS)
    assert b.name == "low" and b.reasons == ("portrait_blurred", "portrait_pose")
    assert portrait_band({**good, "inter_eye_px": 12.0}, LIMITS).reasons == ("portrait_small",)
    assert portrait_band(None, LIMITS).name == "unknown"


def test_limits_are_read_from_calibration_data():
    doc = {"portrait_quality_bands": {"low_if": {"sharpness": {"below": 25.0, "reason": "portrait_blurred"}}}}
    (lim,) = band_limits(doc)
    assert (lim.metric, lim.below, lim.abs_above, lim.reason) == ("sharpness", 25.0, None, "portrait_blurred")
    assert band_limits({}) == ()
    for lim in band_limits():  # the shipped calibration, whatever it holds, is well formed
        assert lim.reason.startswith("portrait_") and (lim.below is not None or lim.abs_above is not None)
