"""The one place Jinja templates are compiled and rendered: a sandbox that cannot run code or read files.

Study files and run folders travel between researchers, and a persona style, a prompt layout or a GGUF chat
template is text somebody else wrote. Every template the package renders goes through :data:`SANDBOX`, an
``ImmutableSandboxedEnvironment`` (Jinja's own sandbox: no attribute whose name starts with ``_``, no
method that mutates a value, ``str.format`` checked) narrowed further:

- its globals are ``range`` alone — ``cycler``, ``joiner``, ``namespace``, ``lipsum`` and ``dict`` are gone,
  so no payload can start from them;
- a template may call only methods of plain values (``str``, numbers, lists, mappings), ``range``,
  ``loop.cycle`` and its own macros; any other call fails;
- before a template is used, :func:`check_template` walks its syntax tree and refuses, with the line, any
  reach for a name starting with ``_`` (``x.__init__``, ``x['__globals__']``, ``x|attr('__class__')``),
  the ``attr`` filter, and the names ``self``, ``cycler``, ``joiner``, ``namespace``, ``lipsum``;
- a template's text is at most :data:`MAX_TEMPLATE_BYTES`.

A refused template is a :class:`~silicon_sample.errors.SpecError` naming the file and the line, and
nothing in it has run. Reference: Jinja's "Sandbox" documentation
(https://jinja.palletsprojects.com/en/stable/sandbox/), and the server-side template injection payloads it
is meant to stop (``cycler.__init__.__globals__.os``).
"""

from __future__ import annotations

import functools
import types

import jinja2
import jinja2.nodes
import jinja2.runtime
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import SpecError

MAX_TEMPLATE_BYTES = 64 * 1024
"""The largest template the package reads (the shipped ones are under 2 KB; a chat template under 10 KB)."""

FORBIDDEN_NAMES = ("self", "cycler", "joiner", "namespace", "lipsum", "dict")
"""Names a template may not use: Jinja's helper objects, the usual starting points of an injection."""

_SAFE_METHOD_OWNERS = (str, int, float, bool, list, tuple, dict, type(None))


def template_callable(function):
    """Mark a function the package passes into a template's context as one the template may call (a chat
    template's ``raise_exception``)."""
    function.template_callable = True
    return function


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with only ``globals`` (``range``) and calls limited to plain values' methods,
    ``range``, ``loop.cycle``/``loop.changed``, macros and functions marked :func:`template_callable`."""

    def __init__(self, keep_globals: tuple[str, ...] = ("range",), **options):
        super().__init__(**options)
        self.globals = {name: self.globals[name] for name in keep_globals}

    def is_safe_callable(self, obj) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if getattr(obj, "template_callable", False) is True:
            return True
        if isinstance(obj, (types.BuiltinMethodType, types.MethodWrapperType)):
            owner = getattr(obj, "__self__", None)
            return isinstance(owner, _SAFE_METHOD_OWNERS)
        if isinstance(obj, jinja2.runtime.Macro):
            return True
        if getattr(obj, "__self__", None).__class__ is jinja2.runtime.LoopContext:
            return getattr(obj, "__name__", "") in ("cycle", "changed")
        return any(obj is value for value in self.globals.values())


SANDBOX = TemplateSandbox(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
"""The environment of persona styles and prompt layouts (undefined variables are errors)."""

CHAT_SANDBOX = TemplateSandbox(keep_globals=("range", "namespace"), trim_blocks=False, lstrip_blocks=False,
                               autoescape=False)
"""The environment of GGUF chat templates: lenient about undefined variables and with ``namespace`` (which
chat templates use for loop state), as llama.cpp's own rendering is."""
CHAT_FORBIDDEN_NAMES = tuple(n for n in FORBIDDEN_NAMES if n != "namespace")


def _line(node: jinja2.nodes.Node) -> str:
    return f"line {node.lineno}: " if getattr(node, "lineno", None) else ""


def check_template(source: str, where: str, *, environment: jinja2.Environment = SANDBOX,
                   forbidden: tuple[str, ...] = FORBIDDEN_NAMES) -> jinja2.nodes.Template:
    """Parse a template and refuse what no questionnaire template needs; return its syntax tree.

    Raises :class:`SpecError` (``where``: the file) on a syntax error, a template over
    :data:`MAX_TEMPLATE_BYTES`, or a reach for a private attribute, the ``attr`` filter or a forbidden name.
    """
    size = len(source.encode("utf-8"))
    if size > MAX_TEMPLATE_BYTES:
        raise SpecError(f"the template has {size:,} bytes, more than the {MAX_TEMPLATE_BYTES:,} a template may have",
                        where=where, fix="a persona style or prompt layout is a short text; check the file")
    try:
        tree = environment.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise SpecError(f"line {exc.lineno}: template syntax error: {exc.message}", where=where,
                        fix="fix the Jinja2 template") from None
    for node in tree.find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem, jinja2.nodes.Filter,
                               jinja2.nodes.Name, jinja2.nodes.Const)):
        reason = None
        if isinstance(node, jinja2.nodes.Getattr) and node.attr.startswith("_"):
            reason = f"reaches for the attribute {node.attr!r}"
        elif isinstance(node, jinja2.nodes.Const) and isinstance(node.value, str) and node.value.startswith("__"):
            reason = f"names {node.value!r}"
        elif isinstance(node, jinja2.nodes.Filter) and node.name == "attr":
            reason = "uses the `attr` filter"
        elif isinstance(node, jinja2.nodes.Name) and node.name in forbidden:
            reason = f"uses {node.name!r}"
        if reason:
            raise SpecError(f"{_line(node)}the template {reason}, which templates may not do (they are "
                            "rendered in a sandbox that reads no file and runs no code)", where=where,
                            fix="use only the template variables and plain filters such as lower, title, join")
    return tree


@functools.lru_cache(maxsize=128)
def compiled(source: str, where: str) -> jinja2.Template:
    """A checked template compiled once per text (compiling costs a millisecond; a study renders every cell)."""
    check_template(source, where)
    return SANDBOX.from_string(source)


def render(source: str, where: str, **context) -> str:
    """Render a template in the sandbox; a sandbox refusal is a :class:`SpecError` naming ``where`` and the line.

    Other template errors (undefined variables) propagate as Jinja raises them, for the caller to word.
    """
    template = compiled(source, where)
    try:
        return template.render(**context)
    except jinja2.exceptions.SecurityError as exc:
        raise SpecError(f"{_traceback_line(exc)}the template tried something the sandbox refuses ({exc})",
                        where=where, fix="use only the template variables and plain filters") from None


def _traceback_line(exc: BaseException) -> str:
    """``line N: `` of the template frame Jinja rewrote into the traceback, if any."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"line {line}: " if line else ""
