"""The trace data model: what optimized code executed in one run, as the ``trace``
command prints it, ``--json`` writes it and ``api.Trace`` shows it."""

from __future__ import annotations

from ir.uops import UOPS, Flag, U


def trace_report(rt, stdout: str) -> dict:
    """The trace JSON: totals and per-uop counts of what optimized code executed.

    Every backend: ``functions`` says where each tier-2 version ran (native, unicorn or
    the tier-2 interpreter, with the emitter's reason). Unicorn adds machine-level totals
    (``instructions``, ``loads``, ``stores``, ``calls``: calls out of the code, to the C API
    or a Python helper; ``code_bytes``) and the same four per uop.
    Code that ran natively is not counted per uop (nothing watches it): ``not_counted``
    names the functions that did (their uops are missing from ``totals`` and ``per_uop``).
    """
    executed = rt.executed()
    totals = {"uops": 0, "guards": 0, "side_exits": rt.trace.side_exits,
              "local_loads": 0, "local_stores": 0}
    machine = rt.backend == "unicorn"
    costs = rt.machine_costs() if machine else {}
    if machine:
        totals.update(instructions=0, loads=0, stores=0, calls=0,
                      code_bytes=sum(v.get("code_bytes", 0) for v in rt.versions()))
    per_uop = []
    for key in sorted(set(executed) | set(costs)):
        fn, uop = key
        n = executed.get(key, 0)
        totals["uops"] += n
        if uop in UOPS and UOPS[uop].has(Flag.GUARD):
            totals["guards"] += n
        if uop in (U._LOAD_FAST, U._LOAD_FAST_CHECK):
            totals["local_loads"] += n
        elif uop == U._STORE_FAST:
            totals["local_stores"] += n
        row = {"function": fn, "uop": uop, "count": n}
        if machine:
            c = costs.get(key)
            row.update(instructions=c.instructions if c else 0, loads=c.loads if c else 0,
                       stores=c.stores if c else 0, calls=c.calls if c else 0)
            for k in ("instructions", "loads", "stores", "calls"):
                totals[k] += row[k]
        per_uop.append(row)
    hot = "instructions" if machine else "count"
    per_uop.sort(key=lambda r: (-r[hot], -r["count"], r["function"], r["uop"]))
    versions = rt.versions()
    native = sorted({v["function"] for v in versions if v["tier2"] == "native" and v["runs"]})
    return {"stdout": stdout, "backend": rt.backend, "totals": totals, "per_uop": per_uop,
            "functions": versions, "not_counted": native}
