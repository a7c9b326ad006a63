"""Detection, quality and templates on real images with the real models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kyc.biometrics import assess_quality, compare_templates, detect_faces, extract_template
from kyc.errors import KycError
from tests.biometrics.conftest import read

pytestmark = pytest.mark.models


def test_tight_lfw_crop_gives_one_face_with_ordered_landmarks(lfw_pair):
    img = lfw_pair[0]
    faces = detect_faces(img)
    assert len(faces) == 1
    f = faces[0]
    lm = f.landmarks5
    assert lm.shape == (5, 2)
    assert lm[0, 0] < lm[2, 0] < lm[1, 0]  # left eye, nose, right eye from left to right
    assert lm[3, 0] < lm[4, 0]
    assert max(lm[0, 1], lm[1, 1]) < lm[2, 1] < min(lm[3, 1], lm[4, 1])  # eyes above nose above mouth
    assert 0.5 < f.score <= 1.0 and f.detector == "mtcnn"
    x, y, w, h = f.box
    assert w > 150 and h > 150  # the face fills the 350 px crop


def test_several_faces_are_found_and_a_selfie_with_two_people_is_refused(faces_dir):
    img = read(faces_dir / "deepface_tests" / "couple.jpg")
    faces = detect_faces(img)
    assert len(faces) == 2
    report = assess_quality(img, faces[0], "selfie", faces=faces)
    assert "multiple_faces" in report.reasons and not report.ok
    with pytest.raises(KycError) as exc:
        extract_template(img, "selfie")
    assert exc.value.code == "face_multiple"
    t = extract_template(img, "id_portrait", check_quality=False)  # a portrait takes the largest face
    assert t.model


def test_no_face_and_too_small(lfw_pair):
    blank = np.full((300, 300, 3), 127, np.uint8)
    assert detect_faces(blank) == []
    with pytest.raises(KycError) as exc:
        extract_template(blank)
    assert exc.value.code == "face_not_found"
    small = cv2.resize(lfw_pair[0], (60, 60), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 480, 3), 127, np.uint8)
    canvas[200:260, 200:260] = small
    with pytest.raises(KycError) as exc:
        extract_template(canvas, "selfie")
    assert exc.value.code in {"face_too_small", "face_not_found"}


def test_quality_flags_blur_and_exposure(lfw_pair):
    img = lfw_pair[0]
    face = detect_faces(img)[0]
    good = assess_quality(img, face, "selfie")
    assert good.ok, good.reasons
    assert good.metrics["eye_aspect"] > 0.15
    blurred = cv2.GaussianBlur(img, (0, 0), 6)
    assert "blurred" in assess_quality(blurred, face, "selfie").reasons
    dark = (img * 0.12).astype(np.uint8)
    assert "underexposed" in assess_quality(dark, face, "selfie").reasons
    bright = cv2.add(img, np.full_like(img, 170))
    assert "overexposed" in assess_quality(bright, face, "selfie").reasons
    with pytest.raises(KycError) as exc:
        extract_template(blurred, "selfie")
    assert exc.value.code == "face_quality_low"


@pytest.mark.parametrize("model", ["dlib", "mobilefacenet", "fused"])
def test_same_person_matches_and_another_does_not(lfw_pair, model):
    a, b, other = (extract_template(img, "id_portrait", model) for img in lfw_pair)
    assert a.model == model
    same = compare_templates(a, b)
    diff = compare_templates(a, other)
    assert same.similarity > diff.similarity
    assert same.match and not diff.match
    assert compare_templates(a, type(a).from_bytes(a.to_bytes())).similarity > 0.99


def test_id_portrait_matches_its_selfie(faces_dir):
    """The mock KYC set 1: small card portrait against the selfie of the same person."""
    from kyc.images import decode_image

    base = faces_dir / "kyc_sets" / "mock-documents"
    portrait = decode_image((base / "set_1_doc_face.png").read_bytes())
    selfie = decode_image((base / "set_1_selfie.png").read_bytes())
    other = decode_image((base / "set_3_selfie.png").read_bytes())
    p = extract_template(portrait, "id_portrait")
    assert compare_templates(p, extract_template(selfie, "selfie")).match
    assert not compare_templates(p, extract_template(other, "selfie")).match
    card = decode_image((base / "set_1_doc_front.png").read_bytes())  # the whole card photo: its portrait is the face
    assert compare_templates(extract_template(card, "id_portrait"), extract_template(selfie, "selfie")).match


def test_converted_mobilefacenet_equals_the_tflite_model():
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    from kyc.model_registry import onnx_session, verify_model

    interp = litert.Interpreter(model_path=str(verify_model("mobilefacenet-tflite")))
    interp.allocate_tensors()
    x = np.random.default_rng(0).uniform(-1, 1, (2, 112, 112, 3)).astype(np.float32)
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    want = interp.get_tensor(interp.get_output_details()[0]["index"])
    sess = onnx_session("mobilefacenet")
    got = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x.transpose(0, 3, 1, 2))})[0]
    assert np.abs(got - want).max() < 1e-4 * max(1.0, float(np.abs(want).max()))


def test_templates_made_in_parallel_threads_equal_those_made_one_by_one(lfw_pair):
    """The service makes templates in worker threads, sharing one dlib network with
    liveness (kyc.dlib_models): a template must not depend on what runs beside it."""
    from concurrent.futures import ThreadPoolExecutor

    images = [lfw_pair[0], lfw_pair[1]] * 4
    alone = [extract_template(img, model="dlib").to_bytes() for img in images[:2]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda img: extract_template(img, model="dlib").to_bytes(), images))
    assert together == alone * 4
