"""GET /health: 200 when the database answers, 503 when it does not (never a hang)."""

from common.health import HealthReport, health_report
from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.routes import route


@route(
    method="GET",
    path="/health",
    operation="health",
    summary="Service and database health",
    tag="health",
    responses={200: HealthReport, 503: HealthReport},
)
def report_health(request: ApiRequest):
    report = health_report()
    status = 200 if report.status == "healthy" else 503
    return json_response(report.model_dump(mode="json", exclude_none=True), status, {"Cache-Control": NO_STORE})


health = http_function("health", report_health)
