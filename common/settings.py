"""Every setting read from the environment, in one place.

Values are read when asked for, not at import, so that a process (or a test)
that changes its environment sees the change. Nothing else in ``actions``,
``leads``, ``bot`` or ``common`` reads ``os.environ``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

#: The repository: where ``config/``, ``var/`` and the model live.
ROOT = Path(__file__).resolve().parent.parent


def environment() -> Mapping[str, str]:
    """The process environment (for settings that are looked up by name, e.g. ``${VAR}`` in the reps file)."""
    return os.environ


def env(name: str, default: str = "") -> str:
    """One variable, stripped; ``default`` when it is unset or blank."""
    return os.environ.get(name, "").strip() or default


# -- business configuration --------------------------------------------------
def config_dir() -> Path:
    """The business configuration (catalog, lexicon, reps, scoring): ``LEADS_CONFIG_DIR`` or ``config/``."""
    return Path(env("LEADS_CONFIG_DIR") or ROOT / "config")


def reps_file() -> Path:
    """The sales reps: ``REPS_FILE`` or ``config/reps.yml``."""
    return Path(env("REPS_FILE") or config_dir() / "reps.yml")


# -- the lead database and its outbox ----------------------------------------
def var_dir() -> Path:
    """Where the running assistant keeps its files (database, outbox, tokens): ``VAR_DIR`` or ``var/``."""
    return Path(env("VAR_DIR") or ROOT / "var")


def database_url() -> Optional[str]:
    """``DATABASE_URL`` (``postgres://`` accepted for ``postgresql://``), or ``None`` for the SQLite default."""
    url = env("DATABASE_URL")
    return url.replace("postgres://", "postgresql://", 1) if url else None


def sqlite_path() -> Path:
    """The default SQLite database: ``LEADS_DB_PATH`` or ``var/leads.db``."""
    return Path(env("LEADS_DB_PATH") or var_dir() / "leads.db")


def outbox_dir() -> Path:
    """Lead writes waiting for the database: ``LEADS_OUTBOX_DIR`` or ``var/outbox``."""
    return Path(env("LEADS_OUTBOX_DIR") or var_dir() / "outbox")


def retry_seconds() -> float:
    """How often waiting writes, hand-offs and notifications are retried: ``LEADS_RETRY_SECONDS`` (30)."""
    return float(env("LEADS_RETRY_SECONDS", "30"))


def escalation_seconds() -> float:
    """How often the leads server checks for hand-offs nobody accepted: ``LEADS_ESCALATION_SECONDS`` (30; 0: never)."""
    return float(env("LEADS_ESCALATION_SECONDS", "30"))


# -- the leads server ---------------------------------------------------------
def leads_api_token() -> str:
    """``LEADS_API_TOKEN``; empty when a generated one is to be used."""
    return env("LEADS_API_TOKEN")


def leads_token_file() -> Path:
    """Where the generated leads API token is kept: ``LEADS_TOKEN_FILE`` or ``var/leads_api_token``."""
    return Path(env("LEADS_TOKEN_FILE") or var_dir() / "leads_api_token")


def leads_host() -> str:
    """Where the leads server listens: ``LEADS_HOST`` (``127.0.0.1``, loopback only)."""
    return env("LEADS_HOST", "127.0.0.1")


def leads_behind_https() -> bool:
    """Whether reps reach the leads server over https (``LEADS_PUBLIC_URL`` starts with ``https://``)."""
    return env("LEADS_PUBLIC_URL").lower().startswith("https://")


def rasa_url() -> str:
    """The Rasa server, as the leads server reaches it: ``RASA_URL`` (``http://localhost:5005``)."""
    return env("RASA_URL", "http://localhost:5005").rstrip("/")


def secret(name: str) -> str:
    """A secret whose variable is named in configuration (e.g. the CRM webhook's ``secret_env``)."""
    return env(name)


# -- Slack ----------------------------------------------------------------------
SLACK_DEFAULT_API_URL = "https://slack.com/api/"


def slack_bot_token() -> str:
    return env("SLACK_BOT_TOKEN")


def slack_signing_secret() -> str:
    return env("SLACK_SIGNING_SECRET")


def slack_api_url() -> str:
    """Slack's Web API: ``SLACK_API_URL`` (tests point it at a local Slack)."""
    return env("SLACK_API_URL", SLACK_DEFAULT_API_URL)


# -- the Rasa server's HTTP API, the action server and the channels ----------
def rasa_api_token() -> str:
    """``RASA_API_TOKEN``; empty when a generated one is to be used."""
    return env("RASA_API_TOKEN")


def rasa_token_file() -> Path:
    """Where the generated Rasa API token is kept: ``RASA_TOKEN_FILE`` or ``var/rasa_api_token``."""
    return Path(env("RASA_TOKEN_FILE") or var_dir() / "rasa_api_token")


def actions_host() -> str:
    """Where the action server listens: ``ACTIONS_HOST`` (``127.0.0.1``, loopback only)."""
    return env("ACTIONS_HOST", "127.0.0.1")


def actions_token() -> str:
    """``ACTIONS_TOKEN``: the token the Rasa server sends the action server (required off loopback)."""
    return env("ACTIONS_TOKEN")


def actions_url(port: int) -> str:
    """The action server as the Rasa server reaches it: ``ACTIONS_URL`` or loopback on ``port``."""
    return env("ACTIONS_URL", f"http://127.0.0.1:{port}/webhook")


def widget_origins() -> list:
    """The websites allowed to open the chat widget: ``WIDGET_ORIGINS``, space or comma separated (any)."""
    origins = [o.rstrip("/") for o in env("WIDGET_ORIGINS", "*").replace(",", " ").split()]
    return ["*"] if "*" in origins else origins


def rest_channel_token() -> str:
    """``REST_CHANNEL_TOKEN``: when set, the REST channel requires it as a bearer token."""
    return env("REST_CHANNEL_TOKEN")


def web_session_secret() -> str:
    """``WEB_SESSION_SECRET``; empty when a generated one (``var/web_session_secret``) is to be used."""
    return env("WEB_SESSION_SECRET")


def web_session_secret_file() -> Path:
    return Path(env("WEB_SESSION_SECRET_FILE") or var_dir() / "web_session_secret")


def erasure_salt() -> str:
    """``ERASURE_SALT``; empty when a generated one (``var/erasure_salt``) is to be used."""
    return env("ERASURE_SALT")


def erasure_salt_file() -> Path:
    return Path(env("ERASURE_SALT_FILE") or var_dir() / "erasure_salt")


def request_max_bytes() -> int:
    """The largest request body the Rasa server reads: ``REQUEST_MAX_BYTES`` (1 MB)."""
    return int(env("REQUEST_MAX_BYTES", str(1024 * 1024)))


def rate_per_visitor() -> int:
    """Messages one visitor may send per minute on a public channel: ``RATE_LIMIT_VISITOR`` (30; 0: no limit)."""
    return int(env("RATE_LIMIT_VISITOR", "30"))


def rate_per_address() -> int:
    """Messages one network address may send per minute to a public channel: ``RATE_LIMIT_ADDRESS`` (300; 0: none)."""
    return int(env("RATE_LIMIT_ADDRESS", "300"))


def tracker_cache_conversations() -> int:
    """Conversations whose events each Rasa process keeps read: ``TRACKER_CACHE_CONVERSATIONS`` (64; 0: none)."""
    value = env("TRACKER_CACHE_CONVERSATIONS", "64").strip() or "64"
    try:
        return max(0, int(value))
    except ValueError as error:
        raise ValueError(
            f"TRACKER_CACHE_CONVERSATIONS must be a whole number of conversations, not {value!r}"
        ) from error


# -- the scaled set-up: shared services ------------------------------------------
def redis_url() -> str:
    """Rasa's lock store, shared by the Rasa processes: ``REDIS_URL`` (``redis://127.0.0.1:6379/0``)."""
    return env("REDIS_URL", "redis://127.0.0.1:6379/0")


def rate_limit_redis_url() -> Optional[str]:
    """Where the public channels' rate counters are shared by every Rasa process: ``RATE_LIMIT_REDIS_URL``,
    else ``REDIS_URL`` when it is set (``make scale``, compose, Helm); ``None``: each process counts in memory.
    ``RATE_LIMIT_REDIS_URL=memory`` keeps the counters in memory even with ``REDIS_URL`` set."""
    url = env("RATE_LIMIT_REDIS_URL") or env("REDIS_URL")
    return None if not url or url == "memory" else url


def rabbitmq_url() -> str:
    """Rasa's event broker: ``RABBITMQ_URL`` (``amqp://guest:guest@127.0.0.1:5672/``)."""
    return env("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def events_exchange() -> str:
    """The fanout exchange Rasa publishes every conversation event to: ``RASA_EVENTS_EXCHANGE`` (``rasa-exchange``)."""
    return env("RASA_EVENTS_EXCHANGE", "rasa-exchange")


def events_queues() -> list:
    """Durable queues bound to the exchange, comma-separated: ``RASA_EVENTS_QUEUES``.

    The first one is the statistics consumer's; add a company's own pipelines' queues after it.
    """
    names = [name.strip() for name in env("RASA_EVENTS_QUEUES", "lead_assistant_analytics").split(",")]
    return [name for name in names if name]


def lock_key_prefix() -> str:
    """The lock store's key prefix in Redis: ``RASA_LOCK_PREFIX`` (``leads``)."""
    return env("RASA_LOCK_PREFIX", "leads")


def analytics_database_url() -> Optional[str]:
    """Where conversation statistics are kept: ``ANALYTICS_DATABASE_URL``, else ``DATABASE_URL``, else ``None``
    (then ``var/analytics.db``)."""
    url = env("ANALYTICS_DATABASE_URL") or database_url()
    return url.replace("postgres://", "postgresql://", 1) if url else None


# -- CRM connectors (each on only when its credentials are set) ---------------------
def crm_file() -> Path:
    """What each CRM receives, field by field: ``CRM_MAPPING_FILE`` or ``config/crm.yml``."""
    return Path(env("CRM_MAPPING_FILE") or config_dir() / "crm.yml")


def hubspot_token() -> str:
    """``HUBSPOT_TOKEN``: a HubSpot private app's access token (sent as a bearer token)."""
    return env("HUBSPOT_TOKEN")


def hubspot_api_url() -> str:
    """HubSpot's API: ``HUBSPOT_API_URL`` (``https://api.hubapi.com``)."""
    return env("HUBSPOT_API_URL", "https://api.hubapi.com").rstrip("/")


def salesforce_client_id() -> str:
    """``SALESFORCE_CLIENT_ID``: the connected app's consumer key (client credentials flow)."""
    return env("SALESFORCE_CLIENT_ID")


def salesforce_client_secret() -> str:
    """``SALESFORCE_CLIENT_SECRET``: the connected app's consumer secret."""
    return env("SALESFORCE_CLIENT_SECRET")


def salesforce_url() -> str:
    """``SALESFORCE_URL``: the org's My Domain, where ``/services/oauth2/token`` is asked."""
    return env("SALESFORCE_URL").rstrip("/")


def salesforce_api_version() -> str:
    """The Salesforce REST API version: ``SALESFORCE_API_VERSION`` (``v59.0``)."""
    return env("SALESFORCE_API_VERSION", "v59.0")


def pipedrive_api_token() -> str:
    """``PIPEDRIVE_API_TOKEN``: a Pipedrive user's API token."""
    return env("PIPEDRIVE_API_TOKEN")


def pipedrive_api_url() -> str:
    """Pipedrive's API: ``PIPEDRIVE_API_URL`` (``https://api.pipedrive.com``)."""
    return env("PIPEDRIVE_API_URL", "https://api.pipedrive.com").rstrip("/")


def leads_url() -> str:
    """The leads server, as the Rasa server reaches it: ``LEADS_URL`` (``http://127.0.0.1:5077``)."""
    return env("LEADS_URL", "http://127.0.0.1:5077").rstrip("/")
