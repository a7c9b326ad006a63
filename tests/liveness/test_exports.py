import kyc.liveness


def test_public_surface():
    for name in kyc.liveness.__all__:
        assert hasattr(kyc.liveness, name), name
    assert {"check_passive", "evaluate_session", "InMemorySessionStore", "decode_video", "Frame"} <= set(kyc.liveness.__all__)
