"""CRM data bundles (folders of CSV files, see /work/shared/spec/data-bundle.md): load and export.

The public facade; the work is done in `bundle_read` (parsing), `bundle_load` (checks and
all-or-nothing insert) and `bundle_export`, with the contract itself in `bundle_spec`.
"""

from __future__ import annotations

from seed.bundle_errors import BundleError, Problem
from seed.bundle_export import export_bundle
from seed.bundle_load import load_bundle
from seed.bundle_spec import FILES

BUNDLE_FILES: tuple[str, ...] = tuple(spec.name for spec in FILES)
"""Every file a bundle may hold, in load order."""

__all__ = ["BUNDLE_FILES", "BundleError", "Problem", "export_bundle", "load_bundle"]
