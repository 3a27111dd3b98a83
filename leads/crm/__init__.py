"""CRM connectors: HubSpot, Salesforce and Pipedrive, each on only when its credentials are set.

A lead goes to every CRM that is on when it is handed off, and again whenever it
changes after that; each CRM keeps one record per lead (``crm_records``), updated
rather than created again. Sending goes through the deliveries and their retries
(:mod:`leads.delivery`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Dict, List

from leads.crm import hubspot, pipedrive, salesforce

CONNECTORS: Dict[str, ModuleType] = {module.NAME: module for module in (hubspot, salesforce, pipedrive)}


def enabled() -> List[str]:
    """The CRMs whose credentials are set."""
    return [name for name, module in CONNECTORS.items() if module.enabled()]
