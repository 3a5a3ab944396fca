"""The HTTP edge: unknown routes, wrong methods and request ids, in the contract's error shape."""


def _assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"success", "message", "code", "errors"}
    assert body["success"] is False and body["code"] == code and body["message"]


def test_unknown_path_is_404_in_the_error_shape(client):
    response = client.get("/api/nothing/here")
    assert response.status_code == 404
    _assert_error_shape(response.get_json(), "not_found")


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/health")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    _assert_error_shape(response.get_json(), "method_not_allowed")


def test_every_answer_carries_a_request_id_and_a_safe_incoming_one_is_kept(client):
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    hostile = client.get("/nowhere", headers={"X-Request-ID": "x" * 500 + " <script>"})
    assert hostile.headers["X-Request-ID"] != "x" * 500


def test_every_answer_says_nosniff(client, configure):
    """JSON, errors, HTML pages, redirects, assets and 304s: no browser may guess another type."""
    configure(ADMIN_API_KEY="a" * 32)
    asset = client.get("/dashboard/static/ops.css")
    answers = [
        client.get("/health"),
        client.get("/api/nothing/here"),
        client.delete("/health"),
        client.get("/dashboard"),
        client.get("/dashboard/login"),
        client.get("/openapi.json"),
        asset,
        client.get("/dashboard/static/ops.css", headers={"If-None-Match": asset.headers["ETag"]}),
        client.post("/api/zoho/webhooks/products", data="{", content_type="application/json"),
    ]
    assert {response.status_code for response in answers} >= {200, 303, 304, 400, 404, 405}
    for response in answers:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.status_code
