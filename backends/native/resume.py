"""A generator's step into its machine code: the short path from a suspended frame to
its next yield.

`resumer(code, local_index, suspends, unbound)` generates, once per code, the function
`resume(frame_list, entry_index)` that does what `NativeCode.run` followed by the
runtime's exit handling do, for a frame held as tier 1 holds it (a list of the locals,
`unbound` where one has no value): the locals the code uses are written into a fresh
native frame (boxed ones borrowed: the code takes its own references at its entry),
the code is entered at `_ENTRY` target `entry_index`, and when it leaves through one of
its `_YIELD_EXIT` exits (the exit indices `suspends`) the frame is saved back into the
list -- each boxed local's reference and the yielded value's taken over, raw words
boxed -- and `("yield", value, resume_label)` returned. A return gives `("return",
value)`; any other exit or an error goes through `NativeCode._result` (`("exit", ...)`,
or the exception raised) with the locals as a dict, as `run` gives them.

Why generated: a generator in a hot loop resumes once per value, and the generic path
(a dict of locals in and out, a conversion call per word) cost several times what the
machine code itself does; here every word's position and representation is known.
"""

from __future__ import annotations

from backends.copy_and_patch import uop_stencils as S

from .helpers import INT64_MAX, INT64_MIN, PyObj_FromPtr, box, converter, release, signed, take


def _read(rep: str, word: str, releases: list[int], w: int) -> str:
    """Python expression of the object in frame word `w` (`word`, its text): a boxed
    word still to be released is taken over (and no longer released)."""
    if rep == "box":
        if w in releases:
            releases.remove(w)
            return f"take({word})"
        return f"obj({word})"
    return f"box(signed({word}), {rep!r})"


def resumer(code, local_index: dict[str, int], suspends, unbound):
    blob = code.blob
    layout = blob.frame
    ns = {"template": code._zero, "entry": code._entry, "addrs": code.entry_addresses,
          "hns": code.helpers.ns, "code": code, "unbound": unbound, "take": take,
          "obj": PyObj_FromPtr, "release": release, "box": box, "signed": signed, "ERROR": S.STATUS_ERROR, "returns": code._returns,
          "reads_floats": code.helpers.reads_floats}
    lines = ["def resume(fl, k):", "    frame = template[:]"]
    for n, (name, t) in enumerate(layout.local_types.items()):
        s, w = local_index[name], layout.local_word[name]
        lines += [f"    x = fl[{s}]", "    if x is not unbound:"]
        if t == "box":
            lines.append(f"        frame[{w}] = id(x)")
        else:
            ns[f"conv_{n}"] = converter(t)
            if t == "int":
                lines.append(f"        frame[{w}] = x if type(x) is int and {INT64_MIN} <= x"
                             f" <= {INT64_MAX} else conv_{n}(x)")
            else:
                lines.append(f"        frame[{w}] = conv_{n}(x)")
    lines += ["    saved = hns['q'], hns['d']",
              "    hns['q'] = frame",
              "    hns['d'] = memoryview(frame).cast('B').cast('d') if reads_floats else None",
              "    try:",
              "        status = entry(addrs[k], frame.buffer_info()[0])",
              "    finally:",
              "        hns['q'], hns['d'] = saved",
              f"    if frame[{S.HELPER_STATUS_WORD}] != ERROR:",
              "        if status < 0:",
              "            return ('return', returns[-1 - status](frame))"]
    boxed_locals = [(name, layout.local_word[name]) for name, t in layout.local_types.items()
                    if t == "box"]
    for k in sorted(suspends):
        ex = blob.exits[k]
        releases = list(blob.exit_releases[k])
        body = []
        (_, v), = ex.values
        vw = layout.value_word[v]
        body.append("v = " + _read(layout.value_types[v], f"frame[{vw}]", releases, vw))
        promoted = {name for name, _ in ex.locals}
        for name, t in layout.local_types.items():
            if name in promoted:
                continue
            s, w = local_index[name], layout.local_word[name]
            if t == "box":   # the frame's reference moves to the list (NULL: unbound)
                body += [f"w = frame[{w}]", f"fl[{s}] = take(w) if w else unbound"]
            elif name in code._stored:
                body.append(f"fl[{s}] = box(signed(frame[{w}]), {t!r})")
            else:   # bound at entry (else never written: no value to read back)
                body += [f"if fl[{s}] is not unbound:",
                         f"    fl[{s}] = box(signed(frame[{w}]), {t!r})"]
        for name, pv in ex.locals:
            pw = layout.value_word[pv]
            body.append(f"fl[{local_index[name]}] = "
                        + _read(layout.value_types[pv], f"frame[{pw}]", releases, pw))
        for name, w in boxed_locals:
            if name in promoted:
                body.append(f"release(frame[{w}])")
        body += [f"release(frame[{w}])" for w in releases]
        body.append(f"return ('yield', v, {ex.block!r})")
        lines.append(f"        if status == {k}:")
        lines += ["            " + b for b in body]
    names = [(name, local_index[name]) for name in layout.local_types]
    fv = "{" + ", ".join(f"{name!r}: fl[{s}]" for name, s in names) + "}"
    lines += [f"    fv = {fv}",
              "    return code._result(status, frame, {n: x for n, x in fv.items()"
              " if x is not unbound})"]
    exec(compile("\n".join(lines), f"<resume {blob.fn_name}>", "exec"), ns)
    return ns["resume"]

