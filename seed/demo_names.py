"""Vocabulary of the demo: company names, products, industries, contacts, subjects, reasons.

All ASCII, so every generated email and phone passes the app's validation and names are easy
to type into a search box.
"""

from __future__ import annotations

import numpy as np

from seed.demo_people import FIRST_NAMES, LAST_NAMES

COMPANY_PREFIXES = [
    "Acme",
    "Apex",
    "Arcadia",
    "Atlas",
    "Aurora",
    "Beacon",
    "Blue-Harbor",
    "Bluebird",
    "Brightpath",
    "Cedar",
    "Cobalt",
    "Crescent",
    "Crystal",
    "Delta",
    "Eastgate",
    "Echo",
    "Emerald",
    "Evergreen",
    "Falcon",
    "Fjord",
    "Foxglove",
    "Frontier",
    "Golden-Gate",
    "Granite",
    "Greenfield",
    "Harbor",
    "Helix",
    "Highland",
    "Horizon",
    "Indigo",
    "Ironclad",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Lighthouse",
    "Lumen",
    "Maple",
    "Meridian",
    "Northwind",
    "Oakridge",
    "Orion",
    "Pacific",
    "Pinnacle",
    "Polaris",
    "Quantum",
    "Redwood",
    "Riverside",
    "Sapphire",
    "Silverline",
    "Solstice",
    "Summit",
    "Sunrise",
    "Terra",
    "Trident",
    "Vantage",
    "Vertex",
    "Westwind",
    "Willow",
    "Zenith",
]
COMPANY_CORES = [
    "Analytics",
    "Aviation",
    "Bank",
    "Biotech",
    "Brands",
    "Builders",
    "Capital",
    "Chemicals",
    "Clinics",
    "Cloud",
    "Consulting",
    "Dairy",
    "Devices",
    "Energy",
    "Engineering",
    "Fashion",
    "Foods",
    "Freight",
    "Games",
    "Health",
    "Hotels",
    "Insurance",
    "Labs",
    "Logistics",
    "Machines",
    "Marine",
    "Media",
    "Metals",
    "Mobility",
    "Motors",
    "Networks",
    "Outfitters",
    "Pharma",
    "Power",
    "Retail",
    "Robotics",
    "Security",
    "Software",
    "Solar",
    "Studios",
    "Systems",
    "Telecom",
    "Textiles",
    "Travel",
    "Water",
]
COMPANY_SUFFIXES = {
    0: ("Inc.", "LLC", "Corp.", "Group"),
    1: ("GmbH", "Ltd", "SA", "BV", "AB", "plc"),
    2: ("Pte Ltd", "Pty Ltd", "KK", "Co., Ltd."),
    3: ("S.A.", "Ltda.", "S.A. de C.V.", "SpA"),
}
PHONE_PREFIX = {0: "+1 555", 1: "+44 20 7946", 2: "+61 2 5550", 3: "+55 11 5550"}

INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Logistics",
    "Education",
    "Energy",
    "Media",
    "Public Sector",
)

# (name, product line, list price in dollars)
PRODUCTS = (
    ("War Room Starter", "Core Platform", 2_400),
    ("War Room Professional", "Core Platform", 6_000),
    ("War Room Enterprise", "Core Platform", 15_000),
    ("Insights Add-on", "Analytics", 1_800),
    ("Forecasting AI", "Analytics", 4_500),
    ("Warehouse Connector", "Analytics", 3_000),
    ("ERP Connector", "Integrations", 5_000),
    ("Marketing Sync", "Integrations", 1_200),
    ("Open API Access", "Integrations", 2_000),
    ("Onboarding Package", "Services", 8_000),
    ("Premium Support", "Services", 3_500),
    ("Training Day", "Services", 1_500),
)
PRODUCT_LINE_WEIGHTS = {"Core Platform": 0.45, "Analytics": 0.25, "Integrations": 0.17, "Services": 0.13}

LOST_REASONS = ("Price", "Competitor", "No budget", "Timing", "No decision")
DISQUALIFY_REASONS = ("Not a fit", "No budget", "Unresponsive", "Duplicate", "Student or job seeker")

ACTIVITY_SUBJECTS = {
    "call": ("Discovery call", "Follow-up call", "Pricing call", "Check-in call", "Reference call"),
    "email": ("Sent proposal", "Follow-up email", "Shared case study", "Sent pricing", "Intro email"),
    "meeting": ("Product demo", "Stakeholder meeting", "Quarterly business review", "Negotiation meeting"),
    "visit": ("On-site visit", "Executive visit", "Workshop on site"),
    "note": ("Internal note", "Updated next steps", "Logged buying signals"),
}
TICKET_CATEGORIES = {
    "Billing": ("Invoice question", "Wrong amount charged", "Update billing contact"),
    "Technical": ("Dashboard not loading", "Sync job failing", "Slow reports", "Error on export"),
    "Onboarding": ("Help importing data", "Training request", "Set up single sign-on"),
    "Feature request": ("Request: custom fields", "Request: more chart types", "Request: API limits"),
    "Account": ("Add users", "Reset password for admin", "Change plan"),
}
TICKET_CHANNELS = ("email", "phone", "chat", "portal")


def company_names(rng: np.random.Generator, regions: np.ndarray) -> list[str]:
    """A plausible company name per row, suffixed by the region's legal forms.

    Names are distinct while combinations last; beyond that a number keeps them apart.
    """
    n_pairs = len(COMPANY_PREFIXES) * len(COMPANY_CORES)
    order = rng.permutation(n_pairs * 6)
    out: list[str] = []
    for i, region in enumerate(regions.tolist()):
        code = int(order[i % len(order)])
        lap = i // len(order)
        pair, form = divmod(code, 6)
        prefix, core = divmod(pair, len(COMPANY_CORES))
        forms = COMPANY_SUFFIXES[region]
        name = (
            f"{COMPANY_PREFIXES[prefix].replace('-', ' ')} {COMPANY_CORES[core]} {forms[form % len(forms)]}"
        )
        out.append(name if lap == 0 else f"{name} {lap + 1}")
    return out


def contacts(
    rng: np.random.Generator, companies: list[str], regions: np.ndarray
) -> tuple[list[str], list[str], list[str]]:
    """Contact name, email and phone for each company."""
    n = len(companies)
    first = rng.integers(0, len(FIRST_NAMES), n).tolist()
    last = rng.integers(0, len(LAST_NAMES), n).tolist()
    digits = rng.integers(1000, 10_000, n).tolist()
    domains: dict[str, str] = {}
    names, emails, phones = [], [], []
    for company, f, la, region, d in zip(companies, first, last, regions.tolist(), digits, strict=True):
        given, family = FIRST_NAMES[f], LAST_NAMES[la]
        key = company[: company.find(" ", company.find(" ") + 1)]  # the first two words
        domain = domains.get(key)
        if domain is None:
            domain = domains[key] = "".join(ch for ch in key if ch.isalnum()).lower()
        names.append(f"{given} {family}")
        emails.append(f"{given}.{family}@{domain}.example".lower())
        phones.append(f"{PHONE_PREFIX[region]} {d}")
    return names, emails, phones
