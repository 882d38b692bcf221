"""Commands declared the Typer way without importing Typer.

``import typer`` alone costs about two interpreter start-ups (0.15 s), more than an audit's own work. The
command modules therefore declare their commands against these stand-ins, which only write the
declarations down: ``Typer`` records ``command``/``callback``/``add_typer`` calls, ``Option`` and
``Argument`` record their arguments. Nothing else changes for the modules: their functions keep Typer's
``Annotated[..., Option(...)]`` parameters, and the command tree Typer builds from them (help, completion,
settings files, every error message) is the one single source of the command line.

A run that parses its command line quickly (cli/fast.py) never builds that tree; any other run calls
``real_app()``, which imports Typer, turns every recorded declaration into Typer's own object and replays
the recorded registrations on a real ``typer.Typer``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Argument", "Option", "Typer", "realize"]

_PENDING: list[Declared] = []
_REAL = [False]  # set once Typer is imported and the recorded declarations are real


class Declared:
    """A ``typer.Option(...)`` or ``typer.Argument(...)`` call written down.

    It may already sit in a module-level ``Annotated`` alias (``DbOption = Annotated[Path | None,
    Option("--db")]``) when the tree is built, so realize() turns the object itself into Typer's (its class
    and attributes replaced in place): every alias holding it then holds the real thing."""

    def __init__(self, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.declared = (kind, args, kwargs)


def _declared(kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if _REAL[0]:  # an annotation Typer evaluates while building the tree
        return getattr(sys.modules["typer"], kind)(*args, **kwargs)
    made = Declared(kind, args, kwargs)
    _PENDING.append(made)
    return made


def Option(*args: Any, **kwargs: Any) -> Any:
    return _declared("Option", args, kwargs)


def Argument(*args: Any, **kwargs: Any) -> Any:
    return _declared("Argument", args, kwargs)


def realize() -> None:
    """Import Typer and make every declaration recorded so far, and every one made later, Typer's own."""
    import typer

    _REAL[0] = True
    while _PENDING:
        made = _PENDING.pop()
        kind, args, kwargs = made.declared
        real = getattr(typer, kind)(*args, **kwargs)
        made.__class__ = type(real)
        made.__dict__ = real.__dict__


class Typer:
    """Records what a module registers; ``real()`` replays it on a ``typer.Typer`` (new registrations too:
    a module imported after the tree was first built adds its commands to the same app)."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._steps: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._replayed = 0
        self._real: Any = None

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._recorder("command", args, kwargs)

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._recorder("callback", args, kwargs)

    def add_typer(self, app: Typer, **kwargs: Any) -> None:
        self._steps.append(("add_typer", (app,), kwargs))

    def _recorder(
        self, step: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def record(function: Callable[..., Any]) -> Callable[..., Any]:
            self._steps.append((step, (function, *args), kwargs))
            return function

        return record

    def real(self) -> Any:
        """The ``typer.Typer`` with everything registered so far."""
        realize()
        import typer

        if self._real is None:
            self._real = typer.Typer(**self._kwargs)
        for step, args, kwargs in self._steps[self._replayed :]:
            if step == "add_typer":
                self._real.add_typer(args[0].real(), **kwargs)
            else:
                function, *names = args
                getattr(self._real, step)(*names, **kwargs)(function)
        for step, args, _ in self._steps[: self._replayed]:
            if step == "add_typer":
                args[0].real()  # a sub-app may have gained commands since
        self._replayed = len(self._steps)
        return self._real
