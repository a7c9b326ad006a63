def test_health_reports_models_and_provider(client):
    r = client.get("/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["models"] and "CPUExecutionProvider" in body["onnx_providers"]


def test_unknown_route_has_error_shape(client):
    r = client.get("/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_openapi_schema_builds(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["title"] == "kyc"
