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
