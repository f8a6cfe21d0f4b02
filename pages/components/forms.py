"""Form plumbing of the work pages: run a service call and show people what happened.

- `save(action, success, form=...)` runs one service call. On success it clears the dashboard
  caches (every page shows the change at once), queues a toast and reruns. On `ValidationFailed`
  it keeps one message per field for that form, shown under each input (`Form.error`) on the
  rerun; on `StaleRecord` the conflict message with a reload button; on `PermissionDenied` /
  `NotFound` a plain error (`Form.feedback`). Nothing is half-saved: a service call is one
  transaction.
- `Record(scope, version)` keeps the version of a record *as its forms were loaded*: the forms pass
  it as `expected_version` until the record is reloaded, so a save over someone else's newer save
  is refused instead of silently overwriting it.
- Widget keys carry a generation per scope: a reload or a successful save starts a new one, so the
  inputs show the saved values again (or are emptied, for "new record" forms).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from crm_core.enums import ACTIVITY_TYPES
from crm_core.errors import CrmError, NotFound, PermissionDenied, StaleRecord, ValidationFailed
from pages.components.cache import clear_dashboard_caches

T = TypeVar("T")
log = logging.getLogger(__name__)

_FLASH = "_wr_flash"
_ERRORS = "_wr_errors"
_NOTICES = "_wr_notices"
_SEEN = "_wr_seen"
_GENERATION = "_wr_generation"
UNEXPECTED = (
    "Something went wrong and nothing was saved. Please try again; if it keeps happening, tell an admin."
)


def _store(name: str) -> dict[str, Any]:
    return st.session_state.setdefault(name, {})


def generation(scope: str) -> int:
    return _store(_GENERATION).get(scope, 0)


def key(scope: str, name: str) -> str:
    """A widget key inside `scope` that changes when the scope is reset."""
    return f"{scope}#{generation(scope)}/{name}"


def reset(scope: str) -> None:
    """Forget what the forms of `scope` held: typed values, messages and the version seen."""
    gens = _store(_GENERATION)
    gens[scope] = gens.get(scope, 0) + 1
    _store(_SEEN).pop(scope, None)
    for store in (_store(_ERRORS), _store(_NOTICES)):
        for form in [f for f in store if f == scope or f.startswith(scope + "/")]:
            store.pop(form, None)


def flash() -> None:
    """Show the toasts queued by the saves of the previous run. Call at the top of each page."""
    for message, icon in st.session_state.pop(_FLASH, []):
        st.toast(message, icon=icon)


def notify(message: str, icon: str = ":material/check_circle:") -> None:
    """Queue a toast for the next run (a toast shown right before a rerun would be lost)."""
    st.session_state.setdefault(_FLASH, []).append((message, icon))


class Record:
    """The record a detail panel shows. `version` is what its forms pass as expected_version: the
    version when the panel's forms were loaded, kept until a reload or a successful save.

    Call `reload_button()` on every run the panel is shown: its widget marks the panel as open, and
    Streamlit drops it when the panel is not shown, so reopening the record later starts afresh."""

    def __init__(self, scope: str, current_version: int) -> None:
        self.scope = scope
        self.current_version = current_version
        seen = _store(_SEEN)
        if key(scope, "reload") not in st.session_state or scope not in seen:
            seen[scope] = current_version
        self.version: int = seen[scope]

    @property
    def changed_since_loaded(self) -> bool:
        return self.current_version != self.version

    def reload_button(self, label: str = "Reload") -> None:
        st.button(
            label,
            key=key(self.scope, "reload"),
            icon=":material/refresh:",
            on_click=reset,
            args=(self.scope,),
            help="Load the latest saved values (unsaved changes in the forms below are dropped).",
        )

    def changed_notice(self, what: str = "record") -> None:
        """Say so when someone saved this record after its forms were loaded."""
        if self.changed_since_loaded and not any(
            n[0] == "stale" for f, n in _store(_NOTICES).items() if f.startswith(self.scope + "/")
        ):
            st.info(
                f"Someone changed this {what} since you opened it. Reload to see their changes "
                "before you save: a save now would be refused.",
                icon=":material/sync_problem:",
            )


class Form:
    """One form (or group of buttons) of a record or page: widget keys, messages, saving."""

    def __init__(self, name: str, scope: str | None = None) -> None:
        self.scope = scope or name
        self.id = name if scope is None else f"{scope}/{name}"
        self.inline: set[str] = set()

    @property
    def form_key(self) -> str:
        """The key for `st.form` (new after a reset, so a fresh form starts empty)."""
        return key(self.scope, self.id + ":form")

    def key(self, field: str) -> str:
        return key(self.scope, f"{self.id}:{field}")

    @property
    def errors(self) -> dict[str, str]:
        return _store(_ERRORS).get(self.id, {})

    def error(self, *fields: str) -> None:
        """The message for `fields` (if the last save refused them), right under the input."""
        for field in fields:
            self.inline.add(field)
            message = self.errors.get(field)
            if message:
                st.error(message, icon=":material/error:")

    def feedback(self) -> None:
        """Messages that belong to no input of this form: other fields, conflicts, permissions."""
        rest = [m for f, m in self.errors.items() if f not in self.inline]
        for message in rest:
            st.error(message, icon=":material/error:")
        notice = _store(_NOTICES).get(self.id)
        if notice is None:
            return
        kind, message = notice
        if kind == "stale":
            st.error(f"Not saved: this record was {message}.", icon=":material/sync_problem:")
            st.button(
                "Reload the latest version",
                key=key(self.scope, f"{self.id}:stale-reload"),
                icon=":material/refresh:",
                on_click=reset,
                args=(self.scope,),
            )
        else:
            st.error(message, icon=":material/block:")

    def save(
        self,
        action: Callable[[], T],
        success: str | Callable[[T], str],
        *,
        on_success: Callable[[T], None] | None = None,
        rerun: bool = True,
    ) -> T | None:
        return save(action, success, form=self, on_success=on_success, rerun=rerun)


class Outcome:
    """What a service call came to: `result` on success, else `field_errors` or `message`."""

    def __init__(
        self,
        result: Any = None,
        *,
        ok: bool = True,
        kind: str = "",
        message: str = "",
        field_errors: dict[str, str] | None = None,
    ) -> None:
        self.result = result
        self.ok = ok
        self.kind = kind
        self.message = message
        self.field_errors = field_errors or {}

    @property
    def text(self) -> str:
        """One line for a row-level error (the targets grid)."""
        if self.ok:
            return ""
        if self.kind == "stale":
            return f"Not saved: {self.message}."
        return self.message


def attempt(action: Callable[[], Any]) -> Outcome:
    """Run a service call; map the CRM's errors to something a person can read. Never raises
    for a service error; an unexpected error is logged and reported without its traceback."""
    try:
        return Outcome(action())
    except ValidationFailed as error:
        return Outcome(ok=False, kind="invalid", message=str(error), field_errors=error.field_errors)
    except StaleRecord as error:
        return Outcome(ok=False, kind="stale", message=str(error))
    except PermissionDenied as error:
        return Outcome(ok=False, kind="denied", message=str(error))
    except NotFound as error:
        return Outcome(
            ok=False, kind="missing", message=f"{error} It may have been removed: reload the page."
        )
    except CrmError as error:
        return Outcome(ok=False, kind="error", message=str(error))
    except Exception:
        log.exception("unexpected error in a service call")
        return Outcome(ok=False, kind="error", message=UNEXPECTED)


def save(
    action: Callable[[], T],
    success: str | Callable[[T], str],
    *,
    form: Form | str | None = None,
    on_success: Callable[[T], None] | None = None,
    rerun: bool = True,
) -> T | None:
    """Run `action` (one service call). On success: clear the dashboard caches, queue the toast
    `success` (or `success(result)`), reset the form's scope, call `on_success(result)` and rerun.
    On failure: keep the messages for `form` (shown on the rerun) and return None."""
    target = form if isinstance(form, Form) else Form(form or "page")
    errors, notices = _store(_ERRORS), _store(_NOTICES)
    errors.pop(target.id, None)
    notices.pop(target.id, None)
    outcome = attempt(action)
    if outcome.ok:
        clear_dashboard_caches()
        notify(success(outcome.result) if callable(success) else success)
        reset(target.scope)
        if on_success is not None:
            on_success(outcome.result)
        if rerun:
            st.rerun()
        return outcome.result
    if outcome.kind == "invalid":
        errors[target.id] = dict(outcome.field_errors)
    elif outcome.kind == "stale":
        notices[target.id] = ("stale", outcome.message)
    else:
        notices[target.id] = ("error", outcome.message)
    if rerun:
        st.rerun()
    return None


def save_rows(rows: list[tuple[Any, Callable[[], Any]]]) -> tuple[list[Any], dict[Any, Outcome]]:
    """Run one service call per row (each its own transaction): the row keys saved, and the
    outcome of every row that failed. Clears the dashboard caches when anything was saved."""
    saved: list[Any] = []
    failed: dict[Any, Outcome] = {}
    for row_key, action in rows:
        outcome = attempt(action)
        if outcome.ok:
            saved.append(row_key)
        else:
            failed[row_key] = outcome
    if saved:
        clear_dashboard_caches()
    return saved, failed


def denied_panel(what: str) -> None:
    """The one message for a record that does not exist or that the actor may not read."""
    st.error(
        f"You cannot open this {what}. It does not exist, or it is outside what you may see.",
        icon=":material/lock:",
    )


# -- small display helpers shared by the work pages ----------------------------------------------

_MARKDOWN_SPECIALS = set("\\`*_[]<>$:~|")
_LINE_START_SPECIALS = set("#-+>=")


def plain(text: object) -> str:
    """User text made safe for `st.markdown` (no accidental bold, links, colours, HTML, headings
    or lists)."""
    raw = " ".join(str(text).split())
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in raw)
    if escaped[:1] in _LINE_START_SPECIALS:
        return "\\" + escaped
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", escaped)


def amount(value: float | int | Decimal | None) -> str:
    """$12,500 (cents only when there are any); "—" for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = Decimal(str(value))
    return f"${number:,.0f}" if number == number.to_integral_value() else f"${number:,.2f}"


def when(moment: datetime | date | None) -> str:
    """2026-03-05 14:30 (UTC, as stored); dates as 2026-03-05; "—" for none."""
    if moment is None or (isinstance(moment, float) and math.isnan(moment)) or moment is pd.NaT:
        return "—"
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def ago(days: float | None) -> str:
    """How long ago, for people: "today", "yesterday", "12 days ago"."""
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return "—"
    whole = int(days)
    if whole <= 0:
        return "today"
    if whole == 1:
        return "yesterday"
    return f"{whole:,} days ago"


def label(word: str | None) -> str:
    """An enum value as a label: "in_progress" → "In progress"."""
    return "—" if not word else word.replace("_", " ").capitalize()


def pager(total: int, page_size: int, key_name: str) -> int:
    """A page picker when `total` rows need more than one page; returns the offset to read."""
    pages = max(1, math.ceil(total / page_size))
    if pages == 1:
        return 0
    page = st.number_input(
        f"Page (of {pages:,})",
        min_value=1,
        max_value=pages,
        value=1,
        step=1,
        key=f"{key_name}-of-{pages}",  # a new page count (other filters) starts again at page 1
        width=160,
    )
    return (int(page) - 1) * page_size


def showing(total: int, offset: int, shown: int, noun: str) -> str:
    if total == 0:
        return f"No {noun}."
    if shown >= total:
        return f"{total:,} {noun}."
    return f"Showing {offset + 1:,}–{offset + shown:,} of {total:,} {noun}."


def choices(
    frame: pd.DataFrame, id_column: str, label: str | Callable[[dict[str, Any]], str]
) -> dict[int, str]:
    """Options for a selectbox, {id: label}, with plain `int` ids (services refuse numpy ints)."""
    out: dict[int, str] = {}
    for row in frame.to_dict("records"):
        out[int(row[id_column])] = label(row) if callable(label) else str(row[label])
    return out


# -- activities (deals and leads share the same log form and feed) -------------------------------

ACTIVITY_ICONS = {
    "call": ":material/call:",
    "email": ":material/mail:",
    "meeting": ":material/groups:",
    "visit": ":material/directions_car:",
    "note": ":material/sticky_note_2:",
}


def occurred_at(day: date | None, today: date | None = None) -> datetime | None:
    """The form's "when": today means now (None lets the service stamp it); an earlier day is
    logged at noon UTC of that day."""
    if day is None or day >= (today or date.today()):
        return None
    return datetime.combine(day, time(12, 0))


def activity_panel(
    scope: str,
    log: Callable[[str, str, datetime | None], Any] | None,
    recent: pd.DataFrame,
    *,
    what: str,
    cannot_log: str = "",
) -> None:
    """Log-an-activity form (when `log` is given: `log(type, subject, occurred_at)` calls the
    service) beside the latest activities on the record."""
    log_col, list_col = st.columns([1, 1.4])
    with log_col:
        if log is None:
            st.caption(cannot_log)
        else:
            form = Form("activity", scope=scope)
            with st.form(form.form_key):
                kind = st.segmented_control(
                    "Type",
                    ACTIVITY_TYPES,
                    default="call",
                    format_func=lambda t: f"{ACTIVITY_ICONS[t]} {t.capitalize()}",
                    key=form.key("type"),
                )
                form.error("type")
                subject = st.text_input(
                    "Subject",
                    max_chars=300,
                    placeholder="e.g. Pricing call with the CFO",
                    key=form.key("subject"),
                )
                form.error("subject")
                today = date.today()
                day = st.date_input("When", value=today, max_value=today, key=form.key("day"))
                form.error("occurred_at", "about")
                logged = st.form_submit_button("Log activity", icon=":material/add_task:")
            form.feedback()
            if logged:
                form.save(
                    lambda: log(kind or "", subject, occurred_at(day, today)),
                    f"{(kind or 'activity').capitalize()} logged.",
                )
    with list_col:
        if recent.empty:
            st.info(f"No activity on this {what} yet. Log the first call, email or meeting.")
            return
        st.caption("Latest activity")
        for row in recent.itertuples():
            st.markdown(
                f"{ACTIVITY_ICONS.get(row.type, '•')} **{row.type.capitalize()}**"
                + (f" · {plain(row.subject)}" if row.subject else "")
                + f"  \n:gray[{when(row.occurred_at)} · {plain(row.user)}]"
            )
