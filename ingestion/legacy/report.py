"""What an import did, per table: read, created, updated, unchanged, skipped (with reasons)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

EXAMPLES = 5  # ids kept per skip reason, so an operator can look the rows up


@dataclass
class TableReport:
    name: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, row_id: Any) -> None:
        self.skipped[reason] += 1
        kept = self.examples.setdefault(reason, [])
        if len(kept) < EXAMPLES:
            kept.append(str(row_id))

    def note(self, what: str, count: int = 1) -> None:
        self.notes[what] += count

    @property
    def changes(self) -> int:
        return self.created + self.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped),
            "skipped_examples": self.examples,
            "notes": dict(self.notes),
        }


@dataclass
class ImportReport:
    dry_run: bool = False
    tables: dict[str, TableReport] = field(default_factory=dict)
    seconds: float = 0.0

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport(name))

    @property
    def changes(self) -> int:
        return sum(t.changes for t in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 2),
            "changes": self.changes,
            "tables": {name: t.as_dict() for name, t in self.tables.items()},
        }

    def lines(self) -> list[str]:
        header = (
            f"{'table':<16}{'read':>9}{'created':>9}{'updated':>9}{'unchanged':>11}{'skipped':>9}"
        )
        out = [header, "-" * len(header)]
        for t in self.tables.values():
            out.append(
                f"{t.name:<16}{t.read:>9}{t.created:>9}{t.updated:>9}{t.unchanged:>11}"
                f"{sum(t.skipped.values()):>9}"
            )
        for t in self.tables.values():
            for reason, count in t.skipped.most_common():
                ids = ", ".join(t.examples.get(reason, []))
                out.append(f"  {t.name}: skipped {count}: {reason} (e.g. {ids})")
            for what, count in t.notes.most_common():
                out.append(f"  {t.name}: {count} {what}")
        verb = "would change" if self.dry_run else "changed"
        out.append(f"{verb} {self.changes} rows in {self.seconds:.1f} s")
        return out
