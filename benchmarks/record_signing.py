"""What record signing (issue 15 item 10) costs: appends and `bench db verify`'s checks, with and
without the station key, side by side.

    .venv/bin/python benchmarks/record_signing.py [--records 2000] [--dir /tmp] [--json]

Measures
  append        N records, one transaction each (as the bench writes them): records/s and µs each
  chain         Store.verify (integrity_check + the hash chain), as before signing
  signatures    bench.store.audit: every signature and acknowledged tip
Reference: an append without a signer is what main does; the target is that signing adds under
20% to an append and `bench db verify` stays under 2 s for 10,000 records.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench.store.audit import audit  # noqa: E402
from bench.store.records import Store  # noqa: E402
from bench.store.signing import RecordSigner  # noqa: E402


def run(directory: Path, n: int, signed: bool) -> dict[str, float]:
    path = directory / f"{'signed' if signed else 'plain'}.db"
    signer = RecordSigner(Ed25519PrivateKey.generate()) if signed else None
    with Store(path, "bench-bench-1", signer=signer) as store:
        t0 = time.perf_counter()
        for i in range(n):
            store.append("wipe.result", {"result": "passed", "i": i, "steps": [{"name": "overwrite"}]}, evidence=[i])
        append = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert store.verify().ok
        chain = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = audit(store)
        sigs = time.perf_counter() - t0
        assert report.ok and report.signed == (n if signed else 0)
    return {"append_s": append, "per_record_us": append / n * 1e6, "chain_s": chain, "signatures_s": sigs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        plain = run(Path(d), args.records, signed=False)
        signed = run(Path(d), args.records, signed=True)
    if args.json:
        print(json.dumps({"records": args.records, "unsigned": plain, "signed": signed}))
        return 0
    print(f"{args.records} records, one transaction each          unsigned (main)    signed")
    print(
        f"  append: µs per record                      {plain['per_record_us']:>12.0f} {signed['per_record_us']:>9.0f}"
    )
    print(
        f"  append: records/s                          {args.records / plain['append_s']:>12.0f} "
        f"{args.records / signed['append_s']:>9.0f}"
    )
    print(f"  db verify: chain (s)                       {plain['chain_s']:>12.3f} {signed['chain_s']:>9.3f}")
    print(f"  db verify: signatures + tips (s)           {plain['signatures_s']:>12.3f} {signed['signatures_s']:>9.3f}")
    overhead = signed["per_record_us"] / plain["per_record_us"] - 1
    print(f"  signing adds {overhead * 100:.0f}% to an append (target < 20%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
