"""Hand-made bundles for tests: `write_bundle` plus `SMALL_BUNDLE`, a small, fully valid scenario.

    write_bundle(tmp_path, {
        "users.csv": '''
            user_id,username,display_name,role
            1,rex,Rex Rep,rep
        ''',
        "targets.csv": [{"user_id": 1, "month": "2026-01", "amount": "100.00"}],
    })

A value may be CSV text (dedented, leading blank line dropped, trailing newline ensured),
raw bytes (written as-is, e.g. for bad UTF-8), a list of row dicts (header = keys in first-seen
order, None -> empty cell) or None (the file is not written, handy with `{**SMALL_BUNDLE, ...}`).
A name without `.csv` gets it appended.
"""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BundleFile = str | bytes | list[dict[str, Any]] | None


def write_bundle(directory: Path, files: Mapping[str, BundleFile]) -> Path:
    """Write `files` into `directory` (created if needed) and return `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / (name if name.endswith(".csv") else f"{name}.csv")
        if content is None:
            continue
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(_csv_text(content), encoding="utf-8", newline="")
        else:
            _write_rows(path, content)
    return directory


def _csv_text(text: str) -> str:
    body = textwrap.dedent(text).lstrip("\n")
    return body if body.endswith("\n") else body + "\n"


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    header: list[str] = []
    for row in rows:
        header += [key for key in row if key not in header]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


SMALL_BUNDLE: dict[str, BundleFile] = {
    "teams.csv": """
        team_id,name,region
        1,North,North
        2,South,South
    """,
    "users.csv": """
        user_id,username,display_name,role,team_id,email,active
        1,ada,Ada Admin,admin,,ada@example.com,true
        2,mia,Mia Manager,manager,1,,true
        3,rex,Rex Rep,rep,1,rex@example.com,true
        4,sue,Sue Seller,rep,2,,false
    """,
    "products.csv": """
        product_id,name,product_line,list_price
        1,Widget Pro,Widgets,1200.00
        2,Service Plan,Services,
    """,
    "accounts.csv": """
        account_id,name,owner_id,industry,region,tier,created_at,churned_at
        1,Acme GmbH,3,Manufacturing,North,A,2025-06-01T08:00:00,
        2,"Globex, Inc.",4,Retail,South,B,2025-07-15 10:00:00,2026-02-01T00:00:00
    """,
    "leads.csv": """
        lead_id,company,status,created_at,contact_name,email,phone,source,region,owner_id,converted_at,opportunity_id,disqualify_reason
        1,Acme GmbH,converted,2026-01-05T09:00:00,Anna,anna@acme.example,,web,North,3,2026-01-10T12:00:00,1,
        2,Initech,new,2026-03-01T09:30:00+02:00,,,,referral,South,,,,
        3,Umbrella,disqualified,2026-02-01T10:00:00,,,,event,North,3,,,no budget
    """,
    "opportunities.csv": """
        opportunity_id,name,account_id,owner_id,amount,stage,created_at,product_id,expected_close_date,closed_at,lost_reason,lead_id
        1,Acme widgets,1,3,12000.50,won,2026-01-10T12:00:00,1,2026-02-28,2026-02-20T15:45:00,,1
        2,Globex service,2,4,5000,proposal,2026-02-01T09:00:00,2,2026-04-30,,,
        3,Acme expansion,1,3,800.5,lost,2026-01-20 08:15:30.250000,,,2026-03-01 17:00:00,price,
    """,
    "stage_history.csv": """
        opportunity_id,from_stage,to_stage,changed_at,changed_by
        1,prospecting,proposal,2026-01-20T10:00:00,3
        1,proposal,won,2026-02-20T15:45:00,3
        3,prospecting,lost,2026-03-01T17:00:00,
    """,
    "payments.csv": """
        payment_id,opportunity_id,amount,paid_at
        1,1,6000.25,2026-03-05T10:00:00
        2,1,6000.25,2026-04-05T10:00:00
    """,
    "activities.csv": """
        activity_id,type,user_id,occurred_at,account_id,opportunity_id,lead_id,subject
        1,call,3,2026-01-06T09:00:00,,,1,Intro call
        2,meeting,3,2026-01-15T14:00:00,1,1,,"Demo, on site"
        3,email,4,2026-02-02T08:00:00,2,2,,
    """,
    "tickets.csv": """
        ticket_id,account_id,subject,priority,status,created_at,category,channel,assignee_id,first_response_at,resolved_at,csat
        1,1,No login,urgent,resolved,2026-03-02T08:00:00,auth,chat,2,2026-03-02T08:30:00,2026-03-02T11:00:00,4
        2,2,Invoice question,low,open,2026-03-03T09:00:00,billing,phone,,,,
    """,
    "targets.csv": """
        user_id,month,amount
        3,2026-01,10000
        3,2026-02,10000.00
        4,2026-01,8000.50
    """,
    "nps_responses.csv": """
        account_id,score,responded_at
        1,9,2026-03-10T12:00:00
        2,3,2026-03-11T12:00:00
    """,
}
"""Every file, every enum-ish corner a test needs, and the leads <-> opportunities cycle."""

SMALL_BUNDLE_COUNTS = {
    "teams": 2,
    "users": 4,
    "products": 2,
    "accounts": 2,
    "leads": 3,
    "opportunities": 3,
    "stage_history": 3,
    "payments": 2,
    "activities": 3,
    "tickets": 2,
    "targets": 3,
    "nps_responses": 2,
}
