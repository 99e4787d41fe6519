"""The register's rules, callable without HTTP (the API and the web pages are two faces of these).

Every function takes a SQLAlchemy Session (the caller owns the transaction: see
bench.register.service.Register.transaction) and, where it reads or changes something that
belongs to an organisation, the Actor asking; each asks `auth.require` itself.

    chain.py     the per-station hash-chain ingest rule (pure)
    trust.py     station keys (history, approval), certificate checks at ingest
    ingest.py    a station's batch: chain rule + trust + asset tags + batch links, atomically
    lookup.py    records, chains, devices, certificates, counts, regional aggregates
    people.py    organisations, sites, stations (enrol), users, sessions, API tokens, donors, partners
    batches.py   batches, manifests (CSV/XLSX), allocation to partners, reconciliation, custody
"""
