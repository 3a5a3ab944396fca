"""The deployment package, built here by the pinned Serverless Framework v3
(scripts/package-lambda.sh: offline, fake credentials, no AWS call), then read: the CloudFormation template it
generates and the zip it would upload.

Packaging needs node_modules (`npm ci`); without it these tests skip, unless
TSH_REQUIRE_PACKAGING=1 (set by .ci/run) turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

import aws_lambda
from common.ssm_secrets import SECRET_PARAMETERS
from service import HTTP_FUNCTIONS, INVOCATIONS, ROUTES, SCHEDULES
from tests.helpers import PROJECT_ROOT

SERVERLESS_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "serverless"
PACKAGE_SCRIPT = PROJECT_ROOT / "scripts" / "package-lambda.sh"
SERVICE = "tsh-erp-functions"
STAGE = "prod"
ARCHITECTURE = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())["params"]["default"]["architecture"]
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
# Put into the packaging process's environment: none may reach the template or the zip.
CANARIES = {field.upper(): f"canary-{field}-must-not-ship-5c1d" for field in SECRET_PARAMETERS.values()}
# Libraries of requirements.txt that only the local hosts use, and boto3, which the Lambda runtime provides.
NOT_SHIPPED = {"functions-framework", "granian", "boto3"}
DEVELOPMENT_ONLY = {
    "functions-framework", "flask", "gunicorn", "uvicorn", "uvicorn-worker", "starlette", "watchdog", "waitress", "granian",
    "cloudevents", "click", "pytest", "hypothesis", "moto", "schemathesis", "pyyaml", "openapi-spec-validator",
    "boto3", "botocore", "responses", "setuptools", "pip",
}  # fmt: skip
# Environment the functions get: where the secrets are, never the secrets themselves.
ALLOWED_ENVIRONMENT = {"APP_ENV", "SECRETS_SSM_PREFIX", "DB_POOL_SIZE", "EVENT_BUS_NAME", "TDS_DRAIN_BUDGET_SECONDS"}
# The project's own part of the zip (the rest is the libraries).
PROJECT = {"aws_lambda.py", "service.py", "alembic.ini", "common", "functions", "migrations"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory) -> Path:
    """`serverless package --stage prod` once per session, into a scratch directory, with secret-looking
    canaries in its environment."""
    if not SERVERLESS_CLI.exists():
        reason = f"{SERVERLESS_CLI.relative_to(PROJECT_ROOT)} is missing: run `npm ci` first"
        if os.environ.get("TSH_REQUIRE_PACKAGING") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    target = tmp_path_factory.mktemp("serverless-package")
    result = subprocess.run(
        [str(PACKAGE_SCRIPT), str(target), ARCHITECTURE],
        cwd=PROJECT_ROOT,
        env={**os.environ, **CANARIES},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return target


@pytest.fixture(scope="session")
def template(package_dir) -> dict:
    return json.loads((package_dir / "cloudformation-template-update-stack.json").read_text())


@pytest.fixture(scope="session")
def unpacked(package_dir, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lambda-zip")
    with zipfile.ZipFile(package_dir / f"{SERVICE}.zip") as archive:
        archive.extractall(target)
    return target


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
        logical for logical, resource in _resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"]["FunctionName"] == f"{SERVICE}-{STAGE}-{name}"
    ]  # fmt: skip
    return found


def test_one_lambda_per_entry_point_built_for_its_architecture(template):
    lambdas = _lambdas(template)
    functions = {entry.__name__ for entry in HTTP_FUNCTIONS} | {job.name for job in (*SCHEDULES, *INVOCATIONS)}
    assert set(lambdas) == functions | {aws_lambda.FALLBACK}
    for name, properties in lambdas.items():
        assert properties["Handler"] == f"aws_lambda.{name}"
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


def _statements(template: dict) -> list[dict]:
    role = template["Resources"]["IamRoleLambdaExecution"]["Properties"]
    return [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def _arn_text(resource: dict | str) -> str:
    """An ARN built with Fn::Join, with the pseudo parameters left as their names."""
    if isinstance(resource, str):
        return resource
    return "".join(part if isinstance(part, str) else part["Ref"] for part in resource["Fn::Join"][1])


def test_the_functions_may_read_only_their_stage_s_ssm_path(template):
    ssm = [statement for statement in _statements(template) if any(a.startswith("ssm:") for a in statement["Action"])]
    assert len(ssm) == 1
    assert ssm[0]["Effect"] == "Allow"
    assert set(ssm[0]["Action"]) == {"ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"}
    assert {_arn_text(resource) for resource in ssm[0]["Resource"]} == {
        f"arn:AWS::Partition:ssm:AWS::Region:AWS::AccountId:parameter/tsh-erp/{STAGE}",
        f"arn:AWS::Partition:ssm:AWS::Region:AWS::AccountId:parameter/tsh-erp/{STAGE}/*",
    }


def test_the_functions_may_publish_to_their_event_bus_only(template):
    [events] = [statement for statement in _statements(template) if statement["Action"] == ["events:PutEvents"]]
    assert events["Resource"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    assert template["Resources"]["EventBus"]["Properties"]["Name"] == f"tsh-erp-{STAGE}"
    for properties in _lambdas(template).values():
        assert properties["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "EventBus"}


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
        if line.strip() and not line.startswith("#")
    ]
    roots = [name for name in runtime if _canonical(name) not in NOT_SHIPPED]
    assert _lambda_requirements() == _closure(roots)


def test_the_libraries_ship_compiled_for_the_runtime(unpacked):
    """Lambda cannot write byte code into its read-only package: without it every cold start compiles."""
    # Single-file modules at the top (six.py, typing_extensions.py) stay uncompiled: the requirements
    # plugin never ships a top-level __pycache__.
    sources = [
        path for path in unpacked.rglob("*.py")
        if path.parent != unpacked and path.relative_to(unpacked).parts[0] not in PROJECT
    ]  # fmt: skip
    assert len(sources) > 500
    uncompiled = []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        # PEP 552 flags: 1 = hash-based, unchecked (valid whatever the sources' timestamps in the zip)
        if not compiled.exists() or int.from_bytes(compiled.read_bytes()[4:8], "little") != 1:
            uncompiled.append(str(source.relative_to(unpacked)))
    assert uncompiled == []


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
print(json.dumps({name: getattr(module, "__file__", None) for name, module in sys.modules.items() if name not in before}))
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
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout)
    assert {"functions.mobile_cart", "common.products.search_index", "migration_0004_search_name_fields"} <= set(loaded)
    ours = {
        name: path
        for name, path in loaded.items()
        if name.split(".")[0] in {"aws_lambda", "service", "common", "functions"}
    }
    assert {name: path for name, path in ours.items() if not (path or "").startswith(f"{project}/")} == {}
