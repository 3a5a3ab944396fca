"""The deployment package (built once per session, tests/e2e/conftest.py), read: the CloudFormation
template it generates and the zip it would upload."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import aws_lambda
from common.ssm_secrets import FUNCTION_PARAMETERS
from service import HTTP_FUNCTIONS, INVOCATIONS, ROUTES, SCHEDULES
from tests.e2e.conftest import (
    ARCHITECTURE,
    CANARIES,
    NETWORK,
    PACKAGE_SCRIPT,
    PARAMS,
    PROJECT,
    SERVERLESS_CLI,
    SERVICE,
    STAGE,
)
from tests.helpers import PROJECT_ROOT

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses

ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
# Libraries of requirements.txt that only the local hosts use, and boto3, which the Lambda runtime provides.
NOT_SHIPPED = {"functions-framework", "granian", "boto3"}
DEVELOPMENT_ONLY = {
    "functions-framework",
    "flask",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "starlette",
    "watchdog",
    "waitress",
    "granian",
    "cloudevents",
    "click",
    "pytest",
    "hypothesis",
    "moto",
    "schemathesis",
    "pyyaml",
    "openapi-spec-validator",
    "boto3",
    "botocore",
    "responses",
    "setuptools",
    "pip",
}
# Environment the functions get: where the secrets are, never the secrets themselves.
ALLOWED_ENVIRONMENT = {"APP_ENV", "SECRETS_SSM_PREFIX", "DB_POOL_SIZE", "EVENT_BUS_NAME", "TDS_DRAIN_BUDGET_SECONDS"}
# The functions whose code publishes to the bus (through common.events.relay).
PUBLISHERS = {"drain_queue", "drain_queue_http", "publish_events"}
MAX_ZIP_BYTES = 12 * 1024 * 1024


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="session")
def template(package_dir) -> dict:
    return json.loads((package_dir / "cloudformation-template-update-stack.json").read_text())


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def _lambdas(template: dict) -> dict[str, dict]:
    """Deployed function name (`<target>`) -> the Lambda's properties."""
    prefix = f"{SERVICE}-{STAGE}-"
    return {
        properties["FunctionName"].removeprefix(prefix): properties
        for properties in (r["Properties"] for r in _resources(template, "AWS::Lambda::Function").values())
    }


def _logical_id(template: dict, name: str) -> str:
    [found] = [
        logical
        for logical, resource in _resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"]["FunctionName"] == f"{SERVICE}-{STAGE}-{name}"
    ]
    return found


def test_one_lambda_per_entry_point_built_for_its_architecture(template):
    lambdas = _lambdas(template)
    functions = {entry.__name__ for entry in HTTP_FUNCTIONS} | {job.name for job in (*SCHEDULES, *INVOCATIONS)}
    assert set(lambdas) == functions | {aws_lambda.FALLBACK}
    for name, properties in lambdas.items():
        assert properties["Handler"] == f"aws_lambda.{name}"
        # Every pinned wheel exists for cp312 on aarch64, but the arm64 run in CI (test_lambda_arm64.py)
        # has Debian bookworm's Python 3.11: the runtime stays at the version that run proves.
        assert properties["Runtime"] == "python3.11"
        assert properties["Architectures"] == [ARCHITECTURE]
    assert lambdas["drain_queue_http"]["Timeout"] <= 29 and lambdas["reconcile_zoho_http"]["Timeout"] <= 29


def test_every_route_reaches_its_lambda(template):
    integrations = {
        logical: resource["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        for logical, resource in _resources(template, "AWS::ApiGatewayV2::Integration").items()
    }
    deployed = {}
    for route in _resources(template, "AWS::ApiGatewayV2::Route").values():
        integration = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        deployed[route["Properties"]["RouteKey"]] = integrations[integration]
    expected = {f"{route.method} {route.path}": _logical_id(template, route.function) for route in ROUTES}
    expected["$default"] = _logical_id(template, aws_lambda.FALLBACK)
    assert deployed == expected


def test_every_schedule_triggers_its_lambda(template):
    rules = {
        (rule["Properties"]["ScheduleExpression"], rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0])
        for rule in _resources(template, "AWS::Events::Rule").values()
    }
    assert rules == {(schedule.rate, _logical_id(template, schedule.name)) for schedule in SCHEDULES}


def _statements(template: dict, name: str) -> list[dict]:
    """The statements of the role that function `name` runs with."""
    role = template["Resources"][_lambdas(template)[name]["Role"]["Fn::GetAtt"][0]]["Properties"]
    return [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def _arn_text(resource: dict | str) -> str:
    """An ARN built with Fn::Join, with the pseudo parameters left as their names."""
    if isinstance(resource, str):
        return resource
    return "".join(part if isinstance(part, str) else part["Ref"] for part in resource["Fn::Join"][1])


def _granted(template: dict, name: str, prefix: str) -> dict[str, set[str]]:
    """Action -> resources granted to function `name`'s role, for the actions starting with `prefix`."""
    granted: dict[str, set[str]] = {}
    for statement in _statements(template, name):
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            if action.startswith(prefix):
                granted.setdefault(action, set()).update(
                    json.dumps(r) if isinstance(r, dict) and "Fn::Join" not in r else _arn_text(r) for r in resources
                )
    return granted


def test_each_function_runs_with_its_own_role(template):
    roles = {properties["Role"]["Fn::GetAtt"][0] for properties in _lambdas(template).values()}
    assert len(roles) == len(_lambdas(template))
    assert "IamRoleLambdaExecution" not in template["Resources"]


def test_each_function_may_read_exactly_the_ssm_parameters_it_needs(template):
    arn = f"arn:AWS::Partition:ssm:AWS::Region:AWS::AccountId:parameter/tsh-erp/{STAGE}/"
    for name in _lambdas(template):
        expected = {arn + parameter for parameter in FUNCTION_PARAMETERS[name]}
        assert _granted(template, name, "ssm:") == ({"ssm:GetParameters": expected} if expected else {}), name
    # What the issue of least privilege is about: the public screens never see Zoho's or the admin's keys.
    for screen in ("mobile_home", "mobile_product", "mobile_search", "mobile_checkout", "mobile_cart"):
        assert _granted(template, screen, "ssm:") == {
            "ssm:GetParameters": {arn + "database-url", arn + "mobile-token-secret"}
        }
    zoho_readers = {
        name
        for name in _lambdas(template)
        if arn + "zoho-refresh-token" in _granted(template, name, "ssm:").get("ssm:GetParameters", set())
    }
    assert zoho_readers == {"reconcile_zoho", "reconcile_zoho_http", "publish_events"}  # the relay pushes orders


def test_only_the_publishers_may_put_events_and_only_on_their_bus(template):
    bus = json.dumps({"Fn::GetAtt": ["EventBus", "Arn"]})
    for name in _lambdas(template):
        expected = {"events:PutEvents": {bus}} if name in PUBLISHERS else {}
        assert _granted(template, name, "events:") == expected, name
    assert template["Resources"]["EventBus"]["Properties"]["Name"] == f"tsh-erp-{STAGE}"
    for properties in _lambdas(template).values():
        assert properties["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "EventBus"}


def test_a_role_grants_nothing_beyond_its_logs_parameters_bus_and_failure_queue(template):
    for name, properties in _lambdas(template).items():
        actions = {action for statement in _statements(template, name) for action in statement["Action"]}
        assert actions <= {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "ssm:GetParameters",
            "events:PutEvents",
            "sqs:SendMessage",
        }, name
        logs = _granted(template, name, "logs:")["logs:PutLogEvents"]
        assert logs == {
            f"arn:AWS::Partition:logs:AWS::Region:AWS::AccountId:log-group:/aws/lambda/{properties['FunctionName']}:*"
        }


def test_every_function_has_its_error_throttle_and_duration_alarms(template):
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    for name, properties in _lambdas(template).items():
        found = {
            alarm["Properties"]["MetricName"]: alarm["Properties"]
            for alarm in alarms.values()
            if alarm["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": properties["FunctionName"]}]
        }
        assert set(found) == {"Errors", "Throttles", "Duration"}, name
        assert found["Errors"]["Threshold"] == 0 and found["Throttles"]["Threshold"] == 0
        assert found["Duration"]["Threshold"] < properties["Timeout"] * 1000
        for alarm in found.values():
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    subscription = template["Resources"]["AlarmSubscription"]["Properties"]
    assert subscription["TopicArn"] == {"Ref": "AlarmTopic"} and subscription["Endpoint"] == PARAMS["alarmEmail"]


def test_failed_scheduled_runs_and_dead_letters_raise_alarms(template):
    queue = {"Fn::GetAtt": ["ScheduledFailures", "Arn"]}
    configs = {
        config["Properties"]["FunctionName"]["Ref"]: config["Properties"]["DestinationConfig"]["OnFailure"][
            "Destination"
        ]
        for config in _resources(template, "AWS::Lambda::EventInvokeConfig").values()
    }
    assert configs == {_logical_id(template, schedule.name): queue for schedule in SCHEDULES}
    for schedule in SCHEDULES:
        assert _granted(template, schedule.name, "sqs:") == {"sqs:SendMessage": {json.dumps(queue)}}
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert alarms["ScheduledFailuresAlarm"]["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    dead_letters = alarms["DeadLetteredAlarm"]["Properties"]
    filters = _resources(template, "AWS::Logs::MetricFilter").values()
    assert {f["Properties"]["LogGroupName"]["Ref"] for f in filters} == {
        "DrainUnderscorequeueLogGroup",
        "DrainUnderscorequeueUnderscorehttpLogGroup",
    }
    for metric_filter in filters:
        [transformation] = metric_filter["Properties"]["MetricTransformations"]
        assert (transformation["MetricNamespace"], transformation["MetricName"]) == (
            dead_letters["Namespace"],
            dead_letters["MetricName"],
        )
        assert '$.message = "drain finished"' in metric_filter["Properties"]["FilterPattern"]


def test_the_dead_letter_metric_reads_the_drain_s_own_log_line():
    """The metric filter matches the fields common.sync.drain logs (a renamed field would silence the alarm)."""
    source = (PROJECT_ROOT / "common" / "sync" / "drain.py").read_text()
    assert '"drain finished",' in source and "**summary.model_dump()" in source
    from common.sync.schemas import DrainSummary

    assert "dead_lettered" in DrainSummary.model_fields


def test_the_http_api_logs_its_requests_and_is_throttled(template):
    stage = template["Resources"]["HttpApiStage"]["Properties"]
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiLogGroup", "Arn"]}
    assert json.loads(stage["AccessLogSettings"]["Format"])["status"] == "$context.status"
    retention = {r["Properties"]["RetentionInDays"] for r in _resources(template, "AWS::Logs::LogGroup").values()}
    assert retention == {30}
    assert len(_resources(template, "AWS::Logs::LogGroup")) == len(_lambdas(template)) + 1


def test_the_functions_run_in_the_vpc_with_endpoints_for_ssm_and_eventbridge(template):
    for name, properties in _lambdas(template).items():
        assert properties["VpcConfig"] == {
            "SubnetIds": NETWORK["subnetIds"].split(","),
            "SecurityGroupIds": [NETWORK["securityGroupIds"]],
        }, name
    endpoints = {
        resource["Properties"]["ServiceName"]["Fn::Sub"]: resource["Properties"]
        for resource in _resources(template, "AWS::EC2::VPCEndpoint").values()
    }
    assert set(endpoints) == {"com.amazonaws.${AWS::Region}.ssm", "com.amazonaws.${AWS::Region}.events"}
    for endpoint in endpoints.values():
        assert endpoint["VpcId"] == NETWORK["vpcId"] and endpoint["PrivateDnsEnabled"] is True


def test_reserved_concurrency_0_leaves_it_unset(template):
    lambdas = _lambdas(template)
    reserved = {
        name: properties["ReservedConcurrentExecutions"]
        for name, properties in lambdas.items()
        if "ReservedConcurrentExecutions" in properties
    }
    assert reserved == {"drain_queue": 2, "reconcile_zoho": 1, "migrate": 1}  # purge_history's param is 0


def test_no_version_is_kept_per_deploy(template):
    assert _resources(template, "AWS::Lambda::Version") == {}


@pytest.mark.slow
def test_a_prod_package_without_a_network_is_refused_in_one_line(tmp_path):
    if not SERVERLESS_CLI.exists():
        pytest.skip("node_modules is missing")
    result = subprocess.run(
        [str(PACKAGE_SCRIPT), str(tmp_path / "refused"), ARCHITECTURE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "stage prod needs a network: set the params subnetIds and securityGroupIds" in output
    assert not (tmp_path / "refused").exists()


def test_the_template_carries_the_secrets_path_and_no_secret(template, package_dir):
    for name, properties in _lambdas(template).items():
        variables = properties["Environment"]["Variables"]
        assert set(variables) <= ALLOWED_ENVIRONMENT, name
        assert variables["SECRETS_SSM_PREFIX"] == f"/tsh-erp/{STAGE}/"
        assert variables["APP_ENV"] == "production"
    for generated in package_dir.glob("*.json"):
        text = generated.read_text()
        assert not [value for value in CANARIES.values() if value in text], generated.name
        assert "postgresql://" not in text and "${ssm:" not in text


def test_the_zip_holds_only_extensions_built_for_the_lambda_architecture(unpacked):
    extensions = sorted(unpacked.rglob("*.so*"))
    assert extensions, "pydantic_core and SQLAlchemy ship compiled extensions"
    wrong = {}
    for path in extensions:
        header = path.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and header[5] == 1, path  # little-endian ELF
        machine = int.from_bytes(header[18:20], "little")
        if machine != ELF_MACHINE[ARCHITECTURE]:
            wrong[str(path.relative_to(unpacked))] = machine
    assert wrong == {}


def _shipped_distributions(unpacked: Path) -> dict[str, str]:
    found = {}
    for info in unpacked.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", metadata, re.M).group(1).strip()
        found[_canonical(name)] = re.search(r"^Version: (.+)$", metadata, re.M).group(1).strip()
    return found


def _lambda_requirements() -> dict[str, str]:
    pinned = {}
    for line in (PROJECT_ROOT / "requirements-lambda.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[_canonical(name)] = version.strip()
    return pinned


def test_the_zip_holds_the_lambda_requirements_and_nothing_for_development(unpacked):
    shipped = _shipped_distributions(unpacked)
    assert shipped == _lambda_requirements()
    assert not set(shipped) & DEVELOPMENT_ONLY
    top_level = {path.name for path in unpacked.iterdir()}
    assert not top_level & {"tests", "bench", "node_modules", ".venv", ".env", "local_runner.py", "scripts", "flask"}
    assert {"aws_lambda.py", "alembic.ini", "common", "functions", "migrations"} <= top_level
    assert (unpacked / "functions" / "migrate.py").exists() and (unpacked / "migrations" / "env.py").exists()
    assert not (unpacked / "alembic" / "templates").exists()
    assert not [
        path
        for path in unpacked.rglob("*")
        if path.is_file() and any(value.encode() in path.read_bytes() for value in CANARIES.values())
    ]


def _closure(roots: list[str]) -> dict[str, str]:
    """Installed distributions the roots need (their own dependencies, recursively), with versions."""
    found: dict[str, str] = {}
    pending = list(roots)
    while pending:
        dist = distribution(pending.pop())
        name = _canonical(dist.metadata["Name"])
        if name in found:
            continue
        found[name] = dist.version
        if name == "flask-swagger-ui":
            continue  # shipped for its static files only; its Flask blueprint is never imported
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def test_lambda_requirements_are_the_whole_runtime_closure_at_the_tested_versions():
    runtime = [
        Requirement(line).name
        for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    ]
    roots = [name for name in runtime if _canonical(name) not in NOT_SHIPPED]
    assert _lambda_requirements() == _closure(roots)


def test_the_zip_ships_compiled_for_the_runtime(unpacked):
    """Lambda cannot write byte code into its read-only package: without it every cold start compiles.
    The libraries ship as byte code alone (module.pyc in place of module.py); the project's modules keep
    their sources beside their byte code."""
    library_sources = [
        str(path.relative_to(unpacked))
        for path in unpacked.rglob("*.py")
        if path.relative_to(unpacked).parts[0] not in PROJECT
    ]
    assert library_sources == []
    project_compiled = {unpacked / "__pycache__" / f"{name}.cpython-311.pyc" for name in ("aws_lambda", "service")}
    library_modules = [
        path
        for path in unpacked.rglob("*.pyc")
        if path.relative_to(unpacked).parts[0] not in PROJECT and path not in project_compiled
    ]
    assert len(library_modules) > 500
    assert [str(path) for path in library_modules if path.parent.name == "__pycache__"] == []
    project_sources = [path for path in unpacked.rglob("*.py") if path.relative_to(unpacked).parts[0] in PROJECT]
    assert Path(unpacked, "aws_lambda.py") in project_sources and len(project_sources) > 80
    uncompiled = []
    for source in [*project_sources]:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        # PEP 552 flags: 1 = hash-based, unchecked (valid whatever the sources' timestamps in the zip)
        if not compiled.exists() or int.from_bytes(compiled.read_bytes()[4:8], "little") != 1:
            uncompiled.append(str(source.relative_to(unpacked)))
    assert uncompiled == []


def test_the_zip_leaves_out_the_libraries_tests_and_unused_dialects(package_dir, unpacked):
    assert (package_dir / f"{SERVICE}.zip").stat().st_size < MAX_ZIP_BYTES
    shipped = {path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*")}
    assert [path for path in shipped if "/tests/" in path or "/testing/" in path] == []
    dialects = {
        path.split("/")[2] for path in shipped if path.startswith("sqlalchemy/dialects/") and path.count("/") >= 3
    }
    assert dialects == {"postgresql", "sqlite"}


def test_the_zip_holds_no_demo_data(unpacked):
    """demo_data/ (the generator, its catalogue and the wipe of every table before it) stays out of the package."""
    shipped = [path.relative_to(unpacked) for path in unpacked.rglob("*") if path.is_file()]
    project = [path for path in shipped if path.parts[0] in PROJECT]
    assert Path("common", "shop", "search.py") in project, "the project's code must be found to prove anything"
    assert [path for path in shipped if path.parts[0] == "demo_data"] == []
    assert [path for path in project if path.name in {"generator.py", "catalogue.py", "catalogue.json"}] == []


# Run over the zip's project part: import every entry point's handler and every migration (as
# Alembic loads them), then list each module that came with them and its file.
_IMPORT_EVERYTHING = """
import importlib.util, json, pathlib, sys
project = sys.argv[1]
sys.path.insert(0, project)
before = set(sys.modules)
import apig_wsgi, aws_lambda
import service  # every function's module
for path in sorted(pathlib.Path(project, "migrations", "versions").glob("*.py")):
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[spec.name])
loaded = {name: getattr(module, "__file__", None) for name, module in sys.modules.items() if name not in before}
print(json.dumps(loaded))
"""


def test_the_zip_holds_every_project_module_the_handlers_and_migrations_import(unpacked, tmp_path):
    """The project's modules that the handlers and migrations load all come from the zip. The zip's libraries are
    built for the Lambda architecture, so this machine's installed ones stand in for them (the tests above check
    that the zip holds the requirements' whole closure)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT:
        (project / name).symlink_to(unpacked / name)
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _IMPORT_EVERYTHING, str(project)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout)
    assert {"functions.mobile_cart", "common.products.search_index", "migration_0004_search_name_fields"} <= set(loaded)
    project_modules = {
        name: path
        for name, path in loaded.items()
        if name.split(".")[0] in {"aws_lambda", "service", "common", "functions"}
    }
    assert {name: path for name, path in project_modules.items() if not (path or "").startswith(f"{project}/")} == {}
