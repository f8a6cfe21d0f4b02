"""The closed vocabularies of the CRM, shared by models, bundle validation, services and queries."""

from __future__ import annotations

ROLES = ("admin", "manager", "rep")
TIERS = ("A", "B", "C")
LEAD_STATUSES = ("new", "working", "qualified", "disqualified", "converted")
LEAD_SOURCES = ("web", "referral", "event", "outbound", "partner", "ads", "other")
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
CLOSED_STAGES = ("won", "lost")
STAGES = OPEN_STAGES + CLOSED_STAGES
ACTIVITY_TYPES = ("call", "email", "meeting", "visit", "note")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_STATUSES = ("open", "in_progress", "waiting", "resolved", "closed")
TICKET_DONE_STATUSES = ("resolved", "closed")
TICKET_ACTIVE_STATUSES = tuple(s for s in TICKET_STATUSES if s not in TICKET_DONE_STATUSES)

STAGE_ORDER = {"prospecting": 1, "qualification": 2, "proposal": 3, "negotiation": 4, "won": 5}
STAGE_PROBABILITY = {"prospecting": 0.10, "qualification": 0.25, "proposal": 0.50, "negotiation": 0.75}

RESOLUTION_SLA_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 120}
FIRST_RESPONSE_SLA_HOURS = {"urgent": 1, "high": 4, "normal": 8, "low": 24}
