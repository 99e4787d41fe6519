"""The register's HTTP API (FastAPI): one router per area, all calling bench.register.domain.

app.py          create_app: routers, error answers, the safe JSON request, NUL refusal
deps.py         who is asking (bearer token or session cookie), with the failed-token limiter
schemas.py      pydantic request/response models (the OpenAPI document is generated from them)
stations.py     what benches use: records, chain, keys, prefix, devices, certificates
admin.py        login, users, API tokens, organisations, sites, stations, donors, partners
batches.py      batches, manifests, reconciliation, custody, allocations, regional sums
"""
