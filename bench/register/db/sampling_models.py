"""Tables of validation sampling (migration 0003): a sample drawn from an organisation's passed
wipes, the wipes in it, and each independent re-check (who, how, outcome)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from bench.register.db.models import Base, BigId


class ValidationSample(Base):
    __tablename__ = "validation_samples"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organisations.org_id"), index=True)
    percent: Mapped[str] = mapped_column(Text)  # as typed ("5"), so the report says exactly what was asked
    since: Mapped[str | None] = mapped_column(Text)
    until: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[str] = mapped_column(Text)  # the draw can be repeated from the population and this seed
    population: Mapped[int] = mapped_column(Integer)
    drawn_by: Mapped[str] = mapped_column(Text)
    drawn_at: Mapped[str] = mapped_column(Text)


class SampleItem(Base):
    __tablename__ = "validation_sample_items"
    sample_id: Mapped[int] = mapped_column(BigId, ForeignKey("validation_samples.id"), primary_key=True)
    wipe_uuid: Mapped[str] = mapped_column(Text, primary_key=True)  # the wipe.result record
    device_id: Mapped[str | None] = mapped_column(Text)
    station_id: Mapped[str] = mapped_column(Text)
    wiped_at: Mapped[str] = mapped_column(Text)


class Recheck(Base):
    __tablename__ = "validation_rechecks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sample_id: Mapped[int] = mapped_column(BigId, ForeignKey("validation_samples.id"))
    wipe_uuid: Mapped[str] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)  # confirmed | not confirmed | could not re-check
    notes: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("validation_rechecks_sample", "sample_id", "wipe_uuid"),)
