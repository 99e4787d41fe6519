"""The bench screen (Textual). `make_app(station)` builds it; `bench` with no arguments runs it."""
