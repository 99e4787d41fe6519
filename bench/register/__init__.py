"""The central register: receives every station's records over HTTP, checks each station's
hash chain on ingest, maps offline asset tags to devices, and answers certificate QR codes.

    storage.py   one Storage class over SQLite (default) or PostgreSQL (by URL)
    chain.py     the ingest rule (which record is stored, acknowledged again, or rejected)
    auth.py      per-station bearer tokens (stored hashed) and the failed-attempt limiter
    app.py       the Starlette application (create_app)
    openapi.py   the hand-written OpenAPI description served at /openapi.json
    server.py    `bench register serve`: bind, print the port, run uvicorn
"""
