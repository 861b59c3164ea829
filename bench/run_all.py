#!/usr/bin/python3
"""Runs every benchmark (download, connect_cycles, write_devnull, udp_rtt,
event_loop_block, resolve_names, first_byte, go_connect_cycles, go_download,
dns_stub_query, shared_name_table, connect_cycles_upstreams: squid and danted SOCKS4 rows) and prints a summary table. Exit status 0 when every target is met, 1 otherwise.
usage: run_all.py [NAME...]   (default: all)
"""

import os
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import connect_cycles  # noqa: E402
import connect_cycles_upstreams  # noqa: E402
import dns_stub_query  # noqa: E402
import download  # noqa: E402
import event_loop_block  # noqa: E402
import first_byte  # noqa: E402
import go_connect_cycles  # noqa: E402
import go_download  # noqa: E402
import resolve_names  # noqa: E402
import shared_name_table  # noqa: E402
import udp_rtt  # noqa: E402
import write_devnull  # noqa: E402

BENCHES = {"download": download, "connect_cycles": connect_cycles,
           "write_devnull": write_devnull, "udp_rtt": udp_rtt,
           "event_loop_block": event_loop_block, "resolve_names": resolve_names,
           "first_byte": first_byte, "go_connect_cycles": go_connect_cycles,
           "go_download": go_download, "dns_stub_query": dns_stub_query,
           "shared_name_table": shared_name_table,
           "connect_cycles_upstreams": types.SimpleNamespace(run=lambda: upstreams_run())}


def upstreams_run():
    # Each upstream's rounds cut to 35 s here (120 alone): run-all stays short.
    return connect_cycles_upstreams.run(float(os.environ.get("BENCH_UPSTREAMS_BUDGET_S", "35")))


def main(names):
    rows = []
    for n in names or BENCHES:
        print(f"== {n}", file=sys.stderr, flush=True)
        try:
            got = BENCHES[n].run()
            # first_byte gives one row per case.
            rows.extend(got if isinstance(got, list) else [got])
        except Exception as e:  # one broken benchmark must not hide the others
            traceback.print_exc()
            rows.append(dict(name=n, baseline=float("nan"), socksify=float("nan"), unit="",
                             ratio=float("nan"), target="", verdict="ERROR", note=str(e)[:80]))
    head = ("benchmark", "baseline", "socksify", "ratio", "target", "result")
    table = [head] + [(r["name"], f"{r['baseline']:.4g}", f"{r['socksify']:.4g}",
                       f"{r['ratio']:.3f}", r["target"], r["verdict"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    print()
    for i, row in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    for r in rows:
        if r.get("note"):
            print(f"  {r['name']}: {r['note']}")
    return 0 if all(r["verdict"] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
