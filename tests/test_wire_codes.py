"""A flow's wire codes (the short action names in its button payloads, "1|ses|rs|7|9") are spelled in that flow's
module only. Every other module (notifications, reminders, the App Home, the notices, other flows) calls the
owning flow's button builders (`sessions.reschedule_button(t, booking_id, meeting_id)`), so renaming an action
in bot/flows/sessions.py either updates every button that carries it or fails here, instead of leaving a
reminder whose Reschedule button is answered as outdated.

Read from the source (ast), so a module is checked whether or not a test happens to send its message."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.flows import all_flows
from bot.payloads import SEP, VERSION

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Who owns which flow name, and the actions each flow takes."""

    owner: dict[str, Path]  # flow name -> the module that defines the flow
    actions: dict[str, frozenset[str]]  # flow name -> its wire codes


def vocabulary() -> Vocabulary:
    owner: dict[str, Path] = {}
    actions: dict[str, frozenset[str]] = {}
    for flow in all_flows():
        module = sys.modules[type(flow).__module__]
        assert module.__file__ is not None
        owner[flow.name] = Path(module.__file__).resolve()
        actions[flow.name] = frozenset(flow.actions)
    return Vocabulary(owner, actions)


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments: a flow's name kept in a constant is still that name."""
    out: dict[str, str] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            out[node.targets[0].id] = node.value.value
    return out


def _imported_constants(tree: ast.Module, constants_of: dict[str, dict[str, str]]) -> dict[str, str]:
    """`from bot.waitlist_notices import FLOW`: the constant another bot module defines."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            known = constants_of.get(node.module, {})
            for alias in node.names:
                if alias.name in known:
                    out[alias.asname or alias.name] = known[alias.name]
    return out


# A flow whose code is split into a package of its own: the package's modules are the flow's own too.
PARTS = {"book": BOT / "flows" / "booking"}


def _mine(path: Path, vocab: Vocabulary) -> set[str]:
    path = path.resolve()
    return {flow for flow, module in vocab.owner.items()
            if module == path or (flow in PARTS and path.is_relative_to(PARTS[flow].resolve()))}


def offences(path: Path, vocab: Vocabulary, constants_of: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Where this module spells the wire code of a flow it does not define: a payload literal ("1|ses|rs|…"),
    or a flow name and one of that flow's actions side by side in a call (`p("ses", "rs", …)`,
    `ctx.button(label, RELAY, "msg", …)` with RELAY = "rly")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {**_imported_constants(tree, constants_of or {}), **_constants(tree)}
    mine = _mine(path, vocab)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found: list[tuple[int, str]] = []

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return names.get(node.id)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = node.value.split(SEP)
            if len(parts) >= 3 and parts[0] == VERSION and parts[1] in vocab.owner and parts[1] not in mine:
                found.append((node.lineno, f"{where}:{node.lineno} spells the payload {node.value!r}"))
        elif isinstance(node, ast.Call):
            args = [text(a) for a in node.args]
            for flow, action in zip(args, args[1:]):
                if (flow in vocab.owner and flow not in mine and action is not None
                        and action in vocab.actions[flow]):
                    found.append((node.lineno, f"{where}:{node.lineno} spells {flow}'s action {action!r}"))
    return [message for _, message in sorted(found)]


def own_spellings(path: Path, vocab: Vocabulary) -> list[str]:
    """Where a flow's own module spells one of its codes instead of naming the enum member: a comparison
    (`action == "rs"`), a table of handlers keyed by codes, or a button (`ctx.button(label, NAME, "rs")`).
    Renaming a member's value would leave those behind: the button carries the new code, the handler waits for
    the old one. `goto` and `step` name a step, not an action, and are left alone."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _constants(tree)
    mine = {flow for flow, module in vocab.owner.items() if module == path.resolve()}
    codes = frozenset().union(*(vocab.actions[flow] for flow in mine))
    found: list[tuple[int, str]] = []

    def literal(node: ast.expr | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    def text(node: ast.expr) -> str | None:
        return names.get(node.id) if isinstance(node, ast.Name) else literal(node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "action":
            for right in node.comparators:
                values = right.elts if isinstance(right, (ast.Tuple, ast.List, ast.Set)) else [right]
                found += [(node.lineno, f"compares action with {literal(v)!r}") for v in values if literal(v) in codes]
        elif isinstance(node, ast.Dict) and node.keys and all(literal(k) in codes for k in node.keys):
            found.append((node.lineno, f"keys a table by {[literal(k) for k in node.keys]}"))
        elif isinstance(node, ast.Call) and not (isinstance(node.func, ast.Attribute)
                                                 and node.func.attr in ("goto", "step")):
            args = [text(a) for a in node.args]
            found += [(node.lineno, f"builds {flow}'s {action!r}") for flow, action in zip(args, args[1:])
                      if flow in mine and action is not None and action in vocab.actions[flow]]
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


# The book flow is being rebuilt as the first dialog of the dialog engine (issue 11): it names its codes by its
# enum members once that lands; until then its module alone still spells them.
SPELLS_ITS_OWN_CODES = frozenset({"book"})


def test_inside_its_module_a_flow_names_its_actions_by_enum_member() -> None:
    vocab = vocabulary()
    modules = sorted({path for flow, path in vocab.owner.items() if flow not in SPELLS_ITS_OWN_CODES})
    found = [o for path in modules for o in own_spellings(path, vocab)]
    assert found == []


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_module_spells_another_flows_wire_codes() -> None:
    vocab = vocabulary()
    paths = sorted(BOT.rglob("*.py"))
    constants_of = {_module_name(p): _constants(ast.parse(p.read_text(encoding="utf-8"))) for p in paths}
    found = [o for path in paths for o in offences(path, vocab, constants_of)]
    assert found == [], "call the owning flow's button builders instead:\n" + "\n".join(found)


def test_only_flows_build_payloads() -> None:
    """Outside bot/flows nothing encodes a payload: notices, reminders and the App Home get their buttons whole
    from a flow's builders, and the dispatcher only decodes."""
    builders = {"p", "Payload"}
    found = []
    for path in sorted(BOT.rglob("*.py")):
        if path.is_relative_to(BOT / "flows") or path == BOT / "payloads.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.payloads":
                used = builders & {alias.name for alias in node.names}
                if used:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {sorted(used)}")
    assert found == []


def test_each_flows_actions_are_an_enum_of_its_module() -> None:
    """Each flow's declared actions are exactly the values of one StrEnum in its module (readable names in the
    code, the short wire codes as values), and every code is short: Telegram's 64 bytes of callback data must leave room for the arguments (a
    conversation stamp, ids, a day)."""
    missing = []
    for flow in all_flows():
        if not flow.actions:
            continue
        module = sys.modules[type(flow).__module__]
        enums = [v for v in vars(module).values()  # its own, or its package's (PARTS) imported into it
                 if isinstance(v, type) and issubclass(v, StrEnum)]
        if not any({a.value for a in e} == set(flow.actions) for e in enums):
            missing.append(flow.name)
        assert all(len(f"{VERSION}{SEP}{flow.name}{SEP}{a}".encode()) <= 20 for a in flow.actions), flow.name
    assert missing == []


def test_the_check_itself_catches_each_form(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: each way of spelling another flow's code is caught, and a flow
    spelling its own is not."""
    vocab = Vocabulary(owner={"ses": ROOT / "bot" / "flows" / "sessions.py", "rly": tmp_path / "relay.py"},
                       actions={"ses": frozenset({"rs", "cx", "list"}), "rly": frozenset({"msg"})})
    sample = tmp_path / "reminders.py"
    sample.write_text(
        'from bot.payloads import p\n'
        'from elsewhere import FLOW\n'
        'RELAY = "rly"\n'
        'a = p("ses", "rs", 1, 2)\n'
        'b = Button("Reschedule", "1|ses|rs|1|2")\n'
        'c = ctx.button("Message", RELAY, "msg", 3)\n'
        'd = p(FLOW, "list")\n'
        'e = p("ses", "goto")\n'  # not an action of "ses": no code spelled
        'f = ctx.goto("ses", "cx_reason")\n',
        encoding="utf-8",
    )
    assert offences(sample, vocab, {"elsewhere": {"FLOW": "ses"}}) == [
        "reminders.py:4 spells ses's action 'rs'",
        "reminders.py:5 spells the payload '1|ses|rs|1|2'",
        "reminders.py:6 spells rly's action 'msg'",
        "reminders.py:7 spells ses's action 'list'",
    ]
    own = tmp_path / "relay.py"
    own.write_text('NAME = "rly"\nb = p(NAME, "msg", 1)\nc = "1|rly|msg|1"\n', encoding="utf-8")
    assert offences(own, vocab) == []
    own.write_text(
        'NAME = "rly"\n'
        'b = ctx.button(label, NAME, "msg", 1)\n'
        'if action == "msg" or action in (Act.STOP, "msg"): pass\n'
        'handler = {"msg": ask}.get(action)\n'
        'ctx.goto(NAME, "msg")\n'  # a step that happens to share the name: not an action
        'ok = ctx.button(label, NAME, Act.MESSAGE, 1), {"q": 1}, rest[0] in ("msg",)\n',
        encoding="utf-8",
    )
    assert own_spellings(own, vocab) == [
        "relay.py:2 builds rly's 'msg'",
        "relay.py:3 compares action with 'msg'",
        "relay.py:3 compares action with 'msg'",
        "relay.py:4 keys a table by ['msg']",
    ]
