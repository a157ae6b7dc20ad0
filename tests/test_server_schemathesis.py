"""Property-based API testing: schemathesis drives the live server from its own /openapi.json.

Bounded (a few hundred generated requests across all operations, derandomised
so CI is reproducible) and run against a real `yidi serve` process. The
server must never answer 5xx, must answer only documented status codes and
content types, and its response bodies must match the published schemas.
"""

from __future__ import annotations

import signal

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from schemathesis.config import SchemathesisConfig  # noqa: E402

from .server_support import Server, copy_policies  # noqa: E402

# The coverage phase adds ~800 deterministic boundary cases per body operation: thorough, but
# four times the run time; the generated examples below already reach every status code.
COVERAGE = False
EXAMPLES = 60


@pytest.fixture(scope="module")
def live_schema(tmp_path_factory):
    work = tmp_path_factory.mktemp("schemathesis")
    server = Server(work, copy_policies(work / "policies"), args=("--check", "load", "--fsync", "never")).start()
    try:
        config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}})
        yield schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)
    finally:
        assert server.stop() in (0, -signal.SIGTERM), server.stderr
        assert "Traceback" not in server.stderr, server.stderr


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_answers_match_the_openapi_document(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                  response_schema_conformance], timeout=30)
