"""The OpenAPI document and Swagger UI: complete, valid, and served without a CDN."""

from openapi_spec_validator import validate

from common import docs as common_docs
from service import ROUTES


def test_the_document_is_valid_openapi_31_with_every_route(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    documented = {(method.upper(), path, operation["operationId"])
                  for path, operations in document["paths"].items() for method, operation in operations.items()}  # fmt: skip
    assert documented == {(route.method, route.path, route.operation) for route in ROUTES}


def test_operations_document_their_errors_and_security(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    webhook = paths["/api/zoho/webhooks/customers"]["post"]
    assert {"202", "400", "401", "413", "415", "422", "503"} <= set(webhook["responses"])
    assert webhook["security"] == [{"WebhookKey": []}]
    assert webhook["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerWebhook"
    }
    stats = paths["/api/zoho/dashboard/stats"]["get"]
    assert stats["security"] == [{"AdminKey": []}]
    assert [parameter["name"] for parameter in stats["parameters"]] == ["hours"]


def test_swagger_ui_is_served_from_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/openapi.json" in html and "https://" not in html
    script = client.get("/docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert b"SwaggerUIBundle" in script.data
    cached = client.get("/docs/swagger-ui-bundle.js", headers={"If-None-Match": script.headers["ETag"]})
    assert cached.status_code == 304
    # In the package's folder but not on the list of assets: the list, not the route pattern, refuses it.
    assert (common_docs._DIST / "oauth2-redirect.js").is_file()
    assert client.get("/docs/oauth2-redirect.js").get_json()["code"] == "not_found"
    assert client.get("/docs/secrets.txt").get_json()["code"] == "not_found"
