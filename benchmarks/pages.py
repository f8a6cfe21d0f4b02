"""Which query functions each dashboard page calls, read from the pages' own source.

`PAGE_QUERIES` is derived, not written by hand: every `run("queries.x.y", <period>, <filters>,
**kwargs)` call of a page script (and of the sidebar's `sidebar_filters`, which every dashboard
calls) is found with `ast`, its keyword arguments are evaluated against the page's module-level
constants (`KPI_IDS`, `LIST_CAP`…), and its period/filters arguments are kept as source text
(`view.period`, `view.period.previous()`) and evaluated for a given view. So the benchmark and
the plan guard (`tests/queries/test_query_plans.py`) call exactly what the pages call, with the
pages' arguments; `tests/benchmarks/test_page_queries.py` checks that every `run(` of the pages is
accounted for, so a page cannot gain a query the benchmark does not see.

A call nested in an `if`/loop (the pipeline page's drill-downs, which only run after a click) is
kept with `on_interaction=True` and left out of the default render. A call guarded by a lazy
tab's `if tabs[i].open:` inside a loop over a table runs by default for the table's first row
only (the tab open by default); the other rows are clicks.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pages.components.filters import View
from pages.components.navigation import DASHBOARDS, WAR_ROOM
from queries.filters import Filters, Period

ROOT = Path(__file__).resolve().parents[1]
SIDEBAR = "pages/components/filters.py"
SIDEBAR_FUNCTION = "sidebar_filters"
CACHE_RUNNER = "run"  # pages.components.cache.run
CONDITIONAL = (ast.If, ast.IfExp, ast.While, ast.Try, ast.Match)
LOOPS = (ast.For, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
SAFE_BUILTINS = {"enumerate": enumerate, "zip": zip}


@dataclass(frozen=True)
class PageCall:
    """One `run(...)` of a page: the query function's dotted path and its arguments."""

    path: str
    period: str | None  # source text of the period argument ("view.period"), None when absent
    filters: str | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "pages/war_room.py:32"
    on_interaction: bool = False  # only after a click (inside an `if`)
    unresolved: tuple[str, ...] = ()  # keyword arguments known only at run time

    @property
    def name(self) -> str:
        """Short label: 'pipeline.stale_deal_rows' (+ ' (previous)' for the previous period)."""
        label = self.path.removeprefix("queries.")
        if self.period and "previous" in self.period:
            label += " (previous)"
        return label

    def resolved(self, **values: Any) -> PageCall:
        """This call with its click-time arguments filled in (e.g. stage="proposal")."""
        missing = set(self.unresolved) - set(values)
        if missing:
            raise ValueError(f"{self.source}: give a value for {sorted(missing)}")
        kwargs = {**self.kwargs, **{k: values[k] for k in self.unresolved}}
        return replace(self, kwargs=kwargs, unresolved=())

    def function(self) -> Callable[..., Any]:
        module, _, name = self.path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def arguments(self, view: View) -> tuple[Period | None, Filters | None]:
        scope = {"view": view, "__builtins__": {}}
        period = None if self.period is None else eval(self.period, scope)  # our own page source
        filters = None if self.filters is None else eval(self.filters, scope)
        return period, filters

    def __call__(self, engine: Engine, view: View, as_of: datetime | None = None) -> Any:
        """Call the function as `pages.components.cache._cached_query` does, without the cache."""
        if self.unresolved:
            raise ValueError(f"{self.source}: arguments {self.unresolved} are only known after a click")
        period, filters = self.arguments(view)
        fn = self.function()
        if period is None:
            return fn(engine, **self.kwargs)
        return fn(engine, period, filters or Filters(), as_of=as_of, **self.kwargs)


@dataclass(frozen=True)
class Page:
    title: str
    script: str
    calls: tuple[PageCall, ...]

    @property
    def render_calls(self) -> tuple[PageCall, ...]:
        """The calls of a render with no click: what a visitor waits for."""
        return tuple(c for c in self.calls if not c.on_interaction)


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level `NAME = <literal>` assignments (KPI_IDS, LIST_CAP, a table of alerts…)."""
    out: dict[str, Any] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Name):
            try:
                out[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _is_runner_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == CACHE_RUNNER


def _evaluate(node: ast.expr, namespace: dict[str, Any], where: str) -> Any:
    """A literal-ish expression of the page (names: its constants, loop variables and
    `enumerate`/`zip` over them)."""
    code = compile(ast.Expression(node), where, "eval")
    return eval(code, {"__builtins__": SAFE_BUILTINS}, dict(namespace))  # our own page source


def _bind(target: ast.expr, value: Any, namespace: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        namespace[target.id] = value
    elif isinstance(target, ast.Tuple | ast.List):
        items = list(value)
        if len(items) != len(target.elts):
            raise ValueError("loop target and table row differ in length")
        for sub, item in zip(target.elts, items, strict=True):
            _bind(sub, item, namespace)
    else:
        raise ValueError(f"unsupported loop target {ast.unparse(target)!r}")


def _is_open_tab_test(node: ast.AST) -> bool:
    """`if <tab>.open:` — a lazy tab's guard (st.tabs(..., on_change="rerun"))."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Attribute) and node.test.attr == "open"


def _loops(node: ast.AST, parents: dict[ast.AST, ast.AST], stop: ast.AST) -> tuple[list, bool, bool]:
    """The (target, iter) of the loops around `node`, outermost first, whether an `if` (or any
    other branch) encloses it, and whether a lazy tab's `if <tab>.open:` does."""
    loops, conditional, lazy_tab = [], False, False
    while node in parents and node is not stop:
        child, node = node, parents[node]
        if _is_open_tab_test(node) and child is not node.test:
            lazy_tab = True
        elif isinstance(node, CONDITIONAL) and child is not getattr(node, "test", None):
            conditional = True
        elif isinstance(node, ast.For) and child is not node.iter:
            loops.append((node.target, node.iter))
        elif isinstance(node, LOOPS[1:]):
            if len(node.generators) != 1 or node.generators[0].ifs:
                raise ValueError("only single, unfiltered comprehensions around run() are understood")
            loops.append((node.generators[0].target, node.generators[0].iter))
    return loops[::-1], conditional, lazy_tab


def _bindings(loops: list, constants: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """One namespace per iteration of the (nested) loops, each over a literal table of the page."""
    spaces = [dict(constants)]
    for target, iterable in loops:
        expanded = []
        for space in spaces:
            try:
                rows = _evaluate(iterable, space, where)
            except NameError as exc:
                raise ValueError(f"{where}: run() in a loop over a value known only at run time") from exc
            for row in rows:
                bound = dict(space)
                _bind(target, row, bound)
                expanded.append(bound)
        spaces = expanded
    return spaces


def _parse_call(node: ast.Call, namespace: dict[str, Any], where: str, conditional: bool) -> PageCall:
    if not node.args:
        raise ValueError(f"{where}: run() without a path")
    path = _evaluate(node.args[0], namespace, where)
    if not isinstance(path, str):
        raise ValueError(f"{where}: run() needs a dotted path as its first argument")
    positional = [ast.unparse(a) for a in node.args[1:]]
    if len(positional) > 2:
        raise ValueError(f"{where}: run() takes (path, period, filters, **kwargs); as_of is not supported")
    kwargs: dict[str, Any] = {}
    unresolved: list[str] = []
    for keyword in node.keywords:
        try:
            value = _evaluate(keyword.value, namespace, where)
        except NameError:
            if keyword.arg is None:
                raise ValueError(f"{where}: **{ast.unparse(keyword.value)} is not a literal table") from None
            unresolved.append(keyword.arg)
            continue
        if keyword.arg is None:
            kwargs.update(value)
        else:
            kwargs[keyword.arg] = value
    return PageCall(
        path=path,
        period=positional[0] if positional else None,
        filters=positional[1] if len(positional) > 1 else None,
        kwargs=kwargs,
        source=f"{where}:{node.lineno}",
        on_interaction=conditional or bool(unresolved),
        unresolved=tuple(unresolved),
    )


def runner_calls(script: str) -> list[ast.Call]:
    """Every `run(...)` call node of a script, in source order."""
    tree = ast.parse((ROOT / script).read_text(), filename=script)
    return sorted((n for n in ast.walk(tree) if _is_runner_call(n)), key=lambda n: (n.lineno, n.col_offset))  # type: ignore[return-value]


def _calls_in(script: str, within: str | None = None) -> list[PageCall]:
    """The runner calls of `script` (only inside function `within` if given), in source order,
    a call inside a loop over a literal table once per row."""
    tree = ast.parse((ROOT / script).read_text(), filename=script)
    constants = _constants(tree)
    root: ast.AST = tree
    if within is not None:
        root = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == within)
    parents = _parents(tree)
    found = sorted((n for n in ast.walk(root) if _is_runner_call(n)), key=lambda n: (n.lineno, n.col_offset))
    calls = []
    for node in found:
        loops, conditional, lazy_tab = _loops(node, parents, root)
        for i, namespace in enumerate(_bindings(loops, constants, script)):
            calls.append(_parse_call(node, namespace, script, conditional or (lazy_tab and i > 0)))
    return calls


def _calls_sidebar(script: str) -> bool:
    tree = ast.parse((ROOT / script).read_text(), filename=script)
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == SIDEBAR_FUNCTION
        for n in ast.walk(tree)
    )


def load_pages() -> tuple[Page, ...]:
    """The five dashboards of the navigation, each with the calls its script makes."""
    pages = []
    for script, title, _icon in (WAR_ROOM, *DASHBOARDS):
        calls = _calls_in(SIDEBAR, SIDEBAR_FUNCTION) if _calls_sidebar(script) else []
        pages.append(Page(title=title, script=script, calls=(*calls, *_calls_in(script))))
    return tuple(pages)


PAGE_QUERIES: tuple[Page, ...] = load_pages()
"""Every dashboard page with its query calls, read from the page scripts at import time."""


def page(title_or_script: str) -> Page:
    for p in PAGE_QUERIES:
        if title_or_script in (p.title, p.script):
            return p
    raise KeyError(title_or_script)


def render_functions() -> list[tuple[str, Callable[..., Any]]]:
    """(dotted path, function) of every query function a default render calls, each once."""
    seen: dict[str, Callable[..., Any]] = {}
    for p in PAGE_QUERIES:
        for call in p.render_calls:
            seen.setdefault(call.path, call.function())
    return list(seen.items())
