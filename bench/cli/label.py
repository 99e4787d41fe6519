"""`bench label print|preview|retry|status`: asset labels.

    bench label print (--asset TAG | --record UUID) [--template NAME] [--printer URL] [--copies N]
    bench label preview (--asset TAG | --record UUID) [--template NAME] --out label.png
    bench label retry [--printer URL] [--failed]
    bench label status [--printer URL]

`print` exits 0 when printed, 75 (EX_TEMPFAIL) when the label is queued because the
printer is not available (it prints on the next retry), 1 on errors.
"""

from __future__ import annotations

import argparse

EX_TEMPFAIL = 75


def _which(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--asset", metavar="TAG", help="the device's asset tag")
    g.add_argument("--record", metavar="UUID", help="a record about the device (e.g. its wipe.result)")
    p.add_argument("--template", metavar="NAME", help="label template name or .toml path (default: [label] template)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("print", help="print a device's label (queued if the printer is unavailable)")
    _which(p)
    p.add_argument("--printer", metavar="URL", help="printer URL (default: `printer` in the config)")
    p.add_argument("--copies", type=int, default=1, metavar="N", help="copies (1..20, default 1)")
    p = sub.add_parser("preview", help="write a device's label as a PNG")
    _which(p)
    p.add_argument("--out", required=True, metavar="PNG", help="where to write the PNG")
    p = sub.add_parser("retry", help="print queued labels now")
    p.add_argument("--printer", metavar="URL", help="send them to this printer instead of the one each was queued for")
    p.add_argument("--failed", action="store_true", help="also retry jobs parked as failed (after fixing the config)")
    p = sub.add_parser("status", help="printer status (DLE EOT) and the print queue")
    p.add_argument("--printer", metavar="URL", help="printer URL (default: `printer` in the config)")


def _report(outcome) -> int:  # type: ignore[no-untyped-def]
    from bench.model import clean_text

    job = outcome.job
    tag = clean_text(job.asset_tag, 40)
    if outcome.printed:
        where = outcome.preview or clean_text(outcome.record.payload.get("printer", job.printer), 80)
        print(
            f"printed {tag} (job {job.id}, {job.copies} cop{'y' if job.copies == 1 else 'ies'}) -> {where} "
            f"in {outcome.seconds:.2f} s"
        )
        return 0
    state = "queued" if job.state == "queued" else "failed"
    print(f"{state}: {tag} (job {job.id}): {clean_text(outcome.error, 300)}")
    if outcome.hint:
        print(f"  hint: {clean_text(outcome.hint, 300)}")
    if state == "queued":
        print("  it prints on the next retry (`bench label retry`, or automatically while the bench runs)")
        return EX_TEMPFAIL
    return 1


def run(args: argparse.Namespace) -> int:
    from bench.labels import queue
    from bench.labels.printers import printer_status
    from bench.model import clean_text
    from bench.station import open_station

    with open_station(args.config) as station:
        if args.action == "print":
            return _report(
                queue.print_label(
                    station,
                    asset_tag=args.asset,
                    record_uuid=args.record,
                    template=args.template,
                    printer=args.printer,
                    copies=args.copies,
                )
            )
        if args.action == "preview":
            path, lay = queue.preview_label(
                station, args.out, asset_tag=args.asset, record_uuid=args.record, template=args.template
            )
            for warning in lay.warnings:
                print(f"warning: {warning}")
            print(f"wrote {path}")
            return 0
        if args.action == "retry":
            if args.failed:
                queue.requeue_failed(station.store)
            outcomes = queue.retry_pending(station, min_age=0.0, printer=args.printer)
            rc = 0
            for outcome in outcomes:
                rc = max(rc, _report(outcome))
            left = len(queue.pending(station.store))
            print(f"{sum(o.printed for o in outcomes)} printed, {left} still queued")
            return rc
        if args.action == "status":
            url = args.printer or station.config.printer
            st = printer_status(url, data_dir=station.data_dir)
            print(f"printer {clean_text(url, 80)}: {st.summary()}")
            waiting = queue.pending(station.store)
            failed = queue.jobs(station.store, state="failed")
            print(f"queue: {len(waiting)} waiting, {len(failed)} failed")
            for job in waiting + failed:
                print(
                    f"  job {job.id} {job.state:<7} {clean_text(job.asset_tag, 24):<24} {job.template:<8} "
                    f"tries {job.attempts}  {clean_text(job.last_error, 80)}"
                )
            return 0 if st.ready else 1
    return 2
