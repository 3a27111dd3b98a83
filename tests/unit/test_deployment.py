"""The deployment files (Dockerfile, docker-compose.yml, deploy/) start what `make run` and `make scale` start:
the same commands, ports and variables, the same endpoints; and only the channels are public."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

from common import scaling, settings
from testkit.scaled import consumer_command
from testkit.servers import action_server, leads_server, rasa_server

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
RASA_VALUES = yaml.safe_load((ROOT / "deploy/helm/rasa-values.yml").read_text())
ACTIONS_VALUES = yaml.safe_load((ROOT / "deploy/helm/rasa-action-server-values.yml").read_text())
NGINX = (ROOT / "deploy/nginx.conf").read_text()
SCALE_SH = (ROOT / "scripts/scale.sh").read_text()
RUN_SH = (ROOT / "scripts/run.sh").read_text()
RASA_PROCESS_SH = (ROOT / "scripts/rasa-process.sh").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
OURS = ("rasa", "actions", "leads", "analytics")


def make_default(name: str) -> str:
    return re.search(rf"^{name}\s*[?:]?=\s*(\S+)", MAKEFILE, re.M).group(1)


def command(service: str) -> List[str]:
    """The service's whole command line (entry point and arguments)."""
    return [*SERVICES[service].get("entrypoint", []), *SERVICES[service].get("command", [])]


def without_binary(argv: List[str]) -> List[str]:
    """A command without the path of its executable (``.venv/bin/rasa`` and ``rasa`` are the same)."""
    return [Path(argv[0]).name, *argv[1:]]


# -- the processes -----------------------------------------------------------------
def test_compose_runs_the_databases_the_processes_and_a_proxy() -> None:
    assert set(SERVICES) == {"postgres", "redis", "rabbitmq", "rasa", "actions", "leads", "analytics", "proxy"}
    assert SERVICES["rasa"]["deploy"]["replicas"] >= 2 and SERVICES["actions"]["deploy"]["replicas"] >= 2


def test_only_the_proxy_publishes_a_port() -> None:
    assert [name for name, service in SERVICES.items() if service.get("ports")] == ["proxy"]


def test_the_action_server_is_started_the_same_way_everywhere() -> None:
    port = int(make_default("ACTIONS_PORT"))
    expected = without_binary(action_server(port))
    assert without_binary(command("actions")) == expected
    assert [ACTIONS_VALUES["command"][0], *ACTIONS_VALUES["args"]] == expected
    assert ACTIONS_VALUES["applicationSettings"]["port"] == port == ACTIONS_VALUES["service"]["port"]
    assert "-m actions.server --port" in SCALE_SH and "-m actions.server --port" in RUN_SH


def test_the_leads_server_and_the_consumer_are_started_the_same_way_everywhere() -> None:
    port = int(re.search(r"leads_port=\$\{LEADS_PORT:-(\d+)\}", SCALE_SH).group(1))
    assert port == int(re.search(r"leads_port=\$\{LEADS_PORT:-(\d+)\}", RUN_SH).group(1))
    leads = without_binary(command("leads"))
    host = leads.index("--host")
    assert leads[:host] + leads[host + 2 :] == without_binary(leads_server(port))
    assert without_binary(command("analytics")) == without_binary(consumer_command())
    assert "-m analytics consume" in SCALE_SH and "-m leads serve --port" in SCALE_SH


def test_every_rasa_process_runs_the_same_script_with_the_options_of_the_tests() -> None:
    assert command("rasa") == ["scripts/rasa-process.sh"]
    assert "scripts/rasa-process.sh" in SCALE_SH
    env = SERVICES["rasa"]["environment"]
    assert env["RASA_PORT"] == make_default("RASA_PORT")
    assert env["ACTIONS_URL"] == f"http://actions:{make_default('ACTIONS_PORT')}/webhook"
    assert (
        env["MODEL"] == make_default("MODEL")
        and f"--fixed-model-name {Path(env['MODEL']).stem.split('.')[0]}" in (ROOT / "Dockerfile").read_text()
    )
    run_line = RASA_PROCESS_SH[RASA_PROCESS_SH.index('exec "$rasa" run') :]
    options = {word.split("=")[0] for word in shlex.split(run_line.replace("\\\n", " ")) if word.startswith("--")}
    tested = {word.split("=")[0] for word in rasa_server(5005, Path("e.yml"), Path("c.yml")) if word.startswith("--")}
    assert tested <= options, "the tests run Rasa as it is deployed"
    assert '--auth-token="$token"' in run_line and "RASA_API_TOKEN" in RASA_PROCESS_SH
    assert "-m common.scaling endpoints" in RASA_PROCESS_SH


def known_variables() -> str:
    """Where variables are read: the settings, the channels, the business configuration, the scripts."""
    places = [ROOT / "common/settings.py", *ROOT.glob("bot/*.py"), *ROOT.glob("config/*.yml"), *ROOT.glob("scripts/*")]
    return "\n".join(path.read_text() for path in places if path.is_file())


@pytest.mark.parametrize("service", OURS)
def test_every_variable_compose_sets_is_one_the_code_reads(service: str) -> None:
    known = known_variables()
    unread = [name for name in SERVICES[service]["environment"] if name not in known]
    assert unread == []


def test_the_services_are_named_by_the_variables_of_make_scale() -> None:
    env = SERVICES["analytics"]["environment"]
    for name in ("DATABASE_URL", "REDIS_URL", "RABBITMQ_URL"):
        assert name in env and f"export {name}=" in SCALE_SH
    assert env["RASA_EVENTS_QUEUES"].split(",") == settings.events_queues()  # the defaults, everywhere
    assert env["RASA_EVENTS_EXCHANGE"] == settings.events_exchange()
    assert env["RASA_LOCK_PREFIX"] == settings.lock_key_prefix()


# -- the endpoints -------------------------------------------------------------------
def test_the_helm_endpoints_are_those_of_make_scale() -> None:
    generated = scaling.endpoints(
        scaling.Services(
            "postgresql://u:p@db:5432/assistant",
            "redis://redis:6379/0",
            "amqp://u:p@mq:5672/",
            settings.events_exchange(),
            tuple(settings.events_queues()),
            settings.lock_key_prefix(),
        ),
        "http://actions:5055/webhook",
    )
    helm = RASA_VALUES["applicationSettings"]["endpoints"]
    assert helm["trackerStore"]["type"].lower() == generated["tracker_store"]["type"].lower()
    assert helm["trackerStore"]["dialect"] == generated["tracker_store"]["dialect"]
    assert helm["lockStore"]["type"] == generated["lock_store"]["type"] == scaling.LOCK_STORE_TYPE
    assert helm["lockStore"]["key_prefix"] == generated["lock_store"]["key_prefix"]
    assert helm["eventBroker"]["type"] == generated["event_broker"]["type"] == scaling.EVENT_BROKER_TYPE
    assert helm["eventBroker"]["queues"] == generated["event_broker"]["queues"]
    assert helm["eventBroker"]["exchange_name"] == generated["event_broker"]["exchange_name"]
    action = helm["additionalEndpoints"]["action_endpoint"]
    assert action["url"].endswith(f":{make_default('ACTIONS_PORT')}/webhook")
    assert action["token"] == "${ACTIONS_TOKEN}", "Rasa must send the action servers' token"
    assert action["enable_selective_domain"] is generated["action_endpoint"]["enable_selective_domain"] is True
    # the chart writes its own action endpoint (without the token) unless the action server is neither
    # installed nor external (charts/rasa/templates/helpers/_action-server.tpl)
    assert not RASA_VALUES["rasa-action-server"]["install"]
    assert not RASA_VALUES["rasa-action-server"]["external"]["enabled"]
    assert RASA_VALUES["applicationSettings"]["cors"] not in ("*", "", None)
    assert RASA_VALUES["applicationSettings"]["port"] == int(make_default("RASA_PORT"))


def test_the_helm_channels_are_those_of_credentials_yml() -> None:
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    helm = RASA_VALUES["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    assert set(helm) == set(channels)
    assert {k: v or {} for k, v in helm.items()} == {k: v or {} for k, v in channels.items()}


def test_the_generated_endpoints_file_is_what_rasa_reads() -> None:
    from rasa.core.utils import read_endpoints_from_path

    services = scaling.Services(
        "postgresql://user:s%40cret@db:5433/leads?sslmode=require",
        "redis://:pw@redis:6380/2",
        "amqp://me:pw@mq:5673/",
        "ex",
        ("q1", "q2"),
        "leads",
    )
    path = ROOT / "tests" / "artifacts"
    path.mkdir(exist_ok=True)
    file = path / "scale-endpoints-check.yml"
    file.write_text(scaling.to_yaml(scaling.endpoints(services, "http://a:5055/webhook", actions_token="t0k")))
    read = read_endpoints_from_path(str(file))
    assert read.action.url == "http://a:5055/webhook" and read.action.token == "t0k"
    assert read.action.kwargs["enable_selective_domain"] is True, "the domain is not sent with every call"
    tracker = read.tracker_store.kwargs
    assert (read.tracker_store.url, tracker["port"], tracker["db"], tracker["password"]) == (
        "db",
        5433,
        "leads",
        "s@cret",
    )
    assert tracker["query"] == {"sslmode": "require"}
    assert read.lock_store.type == scaling.LOCK_STORE_TYPE and read.lock_store.kwargs["db"] == 2
    assert read.event_broker.type == scaling.EVENT_BROKER_TYPE and read.event_broker.kwargs["queues"] == ["q1", "q2"]
    with pytest.raises(ValueError):
        scaling.tracker_store("sqlite:///var/leads.db")
    with pytest.raises(ValueError):
        scaling.lock_store("redis://r", "not-alnum")


# -- what is public ------------------------------------------------------------------
def nginx_locations() -> Dict[str, str]:
    """Each ``location`` of the proxy and its body."""
    return {match.group(1).strip(): match.group(2) for match in re.finditer(r"location\s+([^{]+)\{([^}]*)\}", NGINX)}


def routed_to(path: str) -> Optional[str]:
    """Where the proxy sends ``path`` (nginx: an exact match, else the longest prefix), or ``None`` (404)."""
    locations = nginx_locations()
    exact = {k[2:]: v for k, v in locations.items() if k.startswith("= ")}
    body = exact.get(path.split("?")[0])
    if body is None:
        prefixes = [k for k in locations if not k.startswith("= ") and path.startswith(k)]
        body = locations[max(prefixes, key=len)] if prefixes else None
    target = re.search(r"proxy_pass\s+\$(\w+)", body or "")
    return target.group(1) if target else None


@pytest.mark.parametrize(
    "path, target",
    [
        ("/webhooks/rest/webhook", "rasa"),
        ("/webhooks/socketio/widget.js", "rasa"),
        ("/webhooks/socketio/demo", "rasa"),
        ("/webhooks/slack/webhook", "rasa"),
        ("/webhooks/teams/webhook", "rasa"),
        ("/socket.io/?EIO=4&transport=websocket", "rasa"),
        ("/slack/interactivity", "leads"),
        ("/conversations/visitor-1/tracker", None),
        ("/model/parse", None),
        ("/status", None),
        ("/", None),
        ("/webhook", None),
        ("/health", None),
        ("/api/leads", None),
        ("/reps", None),
        ("/slack/interactivity/../api/leads", None),
    ],
)
def test_the_proxy_exposes_the_channels_only(path: str, target: Optional[str]) -> None:
    assert routed_to(path) == target


def test_the_proxy_targets_the_ports_of_the_services() -> None:
    targets = dict(re.findall(r"set \$(\w+) http://(\S+);", NGINX))
    assert targets == {"rasa": f"rasa:{make_default('RASA_PORT')}", "leads": "leads:5077"}
    assert SERVICES["rasa"]["expose"] == [make_default("RASA_PORT")] and SERVICES["leads"]["expose"] == ["5077"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in SERVICES["proxy"]["volumes"]


def test_the_kubernetes_ingress_exposes_the_channels_only() -> None:
    ingress = RASA_VALUES["ingress"]
    paths = [ingress["path"], *(extra["path"] for extra in ingress.get("extraPaths", []))]
    assert sorted(paths) == ["/socket.io", "/webhooks"]
    assert RASA_VALUES["nginx"]["enabled"] is False, "the chart's sidecar would expose Rasa's API"
    assert ACTIONS_VALUES["ingress"]["enabled"] is False


@pytest.mark.parametrize("token", ["-6VBc6gn8AobWvIvVgnGhlfHf06x9Axt", "--abc", "plain_Token-1"])
def test_rasa_reads_a_token_that_begins_with_a_dash(token, tmp_path):
    # secrets.token_urlsafe gives a token beginning with "-" once in 64: Rasa must read it as the token, both in
    # the deployed script (run by bash as written, with a stand-in for rasa that prints its arguments) and in tests
    from rasa.__main__ import create_argument_parser

    stand_in = tmp_path / "rasa"
    stand_in.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    stand_in.chmod(0o755)
    line = RASA_PROCESS_SH[RASA_PROCESS_SH.index('exec "$rasa" run') :]
    names = f"rasa={shlex.quote(str(stand_in))}; model=m.tar.gz; port=5005; endpoints=e.yml"
    script = f"{names}; token={shlex.quote(token)}\n{line}"
    deployed = json.loads(subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout)
    for command in (deployed, rasa_server(5005, Path("e.yml"), Path("c.yml"), token)[1:]):
        assert create_argument_parser().parse_args(command).auth_token == token, command
