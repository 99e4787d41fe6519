"""Grading a computer (host asset): cosmetic A–D, the functional checklist, reuse or recycle
with its reason (a `host.graded` record)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from bench.custody.model import CHECKLIST, COSMETIC_GRADES, DECISIONS, Grading, suggested_decision
from bench.model import clean_text


class GradeScreen(ModalScreen[Grading | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="grade.cancel"),
        Binding("ctrl+s", "save", "Save", id="grade.save"),
        *(
            Binding(str(n), f"toggle_item({n - 1})", f"toggle {label}", show=False, id=f"grade.toggle{n}")
            for n, (_, label) in enumerate(CHECKLIST, start=1)
        ),
    ]
    DEFAULT_CSS = """
    #grade-form Checkbox { height: 1; border: none; padding: 0 1; }
    #grade-form Select { margin-bottom: 1; }
    """

    def __init__(self, host: Any, previous: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.host = host
        self.previous = previous or {}
        self._decision_touched = bool(previous)

    def compose(self) -> ComposeResult:
        p = self.previous
        checks = p.get("checklist") or {}
        with Vertical(classes="dialog", id="grade-form"):
            yield Label(f"Grade {clean_text(self.host.describe(), 60)}", classes="dialog-title")
            yield Select(
                [(f"cosmetic {g}", g) for g in COSMETIC_GRADES],
                id="cosmetic",
                value=p.get("cosmetic") if p.get("cosmetic") in COSMETIC_GRADES else Select.NULL,
                prompt="cosmetic grade A–D",
            )
            yield Label("tick what works or is there (keys 1–7 tick, Ctrl+S saves)")
            for n, (key, label) in enumerate(CHECKLIST, start=1):
                yield Checkbox(f"{n} {label}", bool(checks.get(key)), id=f"check-{key}")
            decision, reason = suggested_decision({k: bool(checks.get(k)) for k, _ in CHECKLIST})
            self._suggested = str(p.get("decision") or decision)
            yield Select(
                [(d, d) for d in DECISIONS], id="decision", value=p.get("decision") or decision, allow_blank=False
            )
            yield Input(str(p.get("reason") or reason), placeholder="why (reuse / recycle reason)", id="reason")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cosmetic", Select).focus()

    def action_toggle_item(self, index: int) -> None:
        box = self.query_one(f"#check-{CHECKLIST[index][0]}", Checkbox)
        box.value = not box.value

    def checklist(self) -> dict[str, bool | None]:
        return {key: self.query_one(f"#check-{key}", Checkbox).value for key, _ in CHECKLIST}

    @on(Checkbox.Changed)
    def suggest(self) -> None:
        if self._decision_touched:
            return
        decision, reason = suggested_decision(self.checklist())
        self._suggested = decision
        self.query_one("#decision", Select).value = decision
        self.query_one("#reason", Input).value = reason

    @on(Select.Changed, "#decision")
    def decided(self, event: Select.Changed) -> None:
        if event.value != self._suggested:
            self._decision_touched = True  # the technician chose: stop suggesting

    def value(self) -> Grading:
        cosmetic = self.query_one("#cosmetic", Select).value
        decision = self.query_one("#decision", Select).value
        return Grading(
            cosmetic if isinstance(cosmetic, str) else "",
            self.checklist(),
            decision if isinstance(decision, str) else "",
            self.query_one("#reason", Input).value.strip(),
        )

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#reason")
    def action_save(self) -> None:
        grading = self.value()
        problems = grading.problems()
        if problems:
            self.notify("; ".join(problems), title="Grading", severity="warning", markup=False)
            return
        self.dismiss(grading)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
