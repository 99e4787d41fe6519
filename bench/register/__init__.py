"""The central register: the device bank's system of record. Benches send their records over
HTTP; the register checks each station's hash chain and trust (certificates against the station's
approved key, unique certificate uuids and asset tags) on ingest, keeps organisations apart, and
holds donors, batches, manifests, allocations and users.

    service.py   Register: one database (SQLAlchemy engine, pool, Alembic upgrade) and its transactions
    auth.py      actors, roles and the one permission check can(actor, action, resource); secrets
    db/          models, engine/pool, migrations (Alembic; 0001 adopts round 1's tables)
    domain/      the rules, callable without HTTP (chain, trust, ingest, lookup, people, batches)
    api/         the FastAPI routers (OpenAPI generated at /openapi.json)
    server.py    `bench register serve`: bind, print the port, run uvicorn
"""
