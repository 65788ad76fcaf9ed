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
boxed -- and `("yield", value, resume_label)` returned (`("delegate", iterator,
resume_label)` from the exits in `delegating`, a `yield from`'s). A return gives `("return",
value)`; any other exit or an error goes through `NativeCode._result` (`("exit", ...)`,
or the exception raised) with the locals as a dict, as `run` gives them.

Why generated: a generator in a hot loop resumes once per value, and the generic path
(a dict of locals in and out, a conversion call per word) cost several times what the
machine code itself does; here every word's position and representation is known.
"""

from __future__ import annotations

from backends.copy_and_patch import uop_stencils as S

from .helpers import INT64_MAX, INT64_MIN, PyObj_FromPtr, Py_DECREF, converter


def _read(rep: str, w: int, releases: list[int], lines: list[str], target: str) -> None:
    """Lines setting `target` to the object in frame word `w`: a boxed word still to be
    released is taken over (and no longer released); raw words are boxed."""
    if rep == "box":
        if w in releases:
            releases.remove(w)
            lines += [f"o = obj(frame[{w}])", "decref(o)", f"{target} = o"]
        else:
            lines.append(f"{target} = obj(frame[{w}])")
    elif rep == "int":
        lines.append(f"{target} = frame[{w}]")
    elif rep == "bool":
        lines.append(f"{target} = frame[{w}] != 0")
    else:
        lines.append(f"{target} = dview[{w}]")


def resumer(code, local_index: dict[str, int], suspends, unbound, delegating=frozenset()):
    blob = code.blob
    layout = blob.frame
    frames: list = []   # per nesting depth of this code's steps: (frame, address, doubles)
    ns = {"template": code._zero, "entry": code._entry, "addrs": code.entry_addresses,
          "hns": code.helpers.ns, "code": code, "unbound": unbound, "obj": PyObj_FromPtr,
          "decref": Py_DECREF, "ERROR": S.STATUS_ERROR, "returns": code._returns,
          "frames": frames, "depth": [0]}
    lines = ["def resume(fl, k):",
             "    d = depth[0]",
             "    while d >= len(frames):",
             "        fr = template[:]",
             "        frames.append((fr, fr.buffer_info()[0], memoryview(fr).cast('B').cast('d')))",
             "    frame, address, dview = frames[d]",
             "    frame[:] = template"]
    for n, (name, t) in enumerate(layout.local_types.items()):
        s, w = local_index[name], layout.local_word[name]
        lines += [f"    x = fl[{s}]", "    if x is not unbound:"]
        if t == "box":
            lines.append(f"        frame[{w}] = id(x)")
            continue
        ns[f"conv_{n}"] = converter(t)
        if t == "int":
            lines.append(f"        frame[{w}] = x if type(x) is int and {INT64_MIN} <= x"
                         f" <= {INT64_MAX} else conv_{n}(x)")
        elif t == "float":
            lines += ["        if type(x) is float:", f"            dview[{w}] = x",
                      "        else:", f"            frame[{w}] = conv_{n}(x)"]
        else:
            lines.append(f"        frame[{w}] = conv_{n}(x)")
    lines += ["    saved = hns['q'], hns['d']",
              "    hns['q'] = frame",
              "    hns['d'] = dview",
              "    depth[0] = d + 1",
              "    try:",
              "        status = entry(addrs[k], address)",
              "    finally:",
              "        hns['q'], hns['d'] = saved",
              "        depth[0] = d",
              f"    if frame[{S.HELPER_STATUS_WORD}] != ERROR:",
              "        if status < 0:",
              "            return ('return', returns[-1 - status](frame))"]
    boxed_locals = [(name, layout.local_word[name]) for name, t in layout.local_types.items()
                    if t == "box"]
    for k in sorted(suspends):
        ex = blob.exits[k]
        releases = list(blob.exit_releases[k])
        body: list[str] = []
        (_, v), = ex.values
        _read(layout.value_types[v], layout.value_word[v], releases, body, "v")
        promoted = {name for name, _ in ex.locals}
        for name, t in layout.local_types.items():
            if name in promoted:
                continue
            s, w = local_index[name], layout.local_word[name]
            if t == "box":   # the frame's reference moves to the list (NULL: unbound)
                body += [f"w = frame[{w}]", "if w:", "    o = obj(w)", "    decref(o)",
                         f"    fl[{s}] = o", "else:", f"    fl[{s}] = unbound"]
            elif name in code._stored:
                _read(t, w, [], body, f"fl[{s}]")
            else:   # bound at entry (else never written: no value to read back)
                inner: list[str] = []
                _read(t, w, [], inner, f"fl[{s}]")
                body += [f"if fl[{s}] is not unbound:"] + ["    " + x for x in inner]
        for name, pv in ex.locals:
            _read(layout.value_types[pv], layout.value_word[pv], releases, body,
                  f"fl[{local_index[name]}]")
        drop = [w for name, w in boxed_locals if name in promoted] + releases
        for w in drop:
            body += [f"w = frame[{w}]", "if w:", "    decref(obj(w))"]
        kind = "delegate" if k in delegating else "yield"
        body.append(f"return ({kind!r}, v, {ex.block!r})")
        lines.append(f"        if status == {k}:")
        lines += ["            " + b for b in body]
    names = [(name, local_index[name]) for name in layout.local_types]
    fv = "{" + ", ".join(f"{name!r}: fl[{s}]" for name, s in names) + "}"
    lines += [f"    fv = {fv}",
              "    return code._result(status, frame, {n: x for n, x in fv.items()"
              " if x is not unbound})"]
    exec(compile("\n".join(lines), f"<resume {blob.fn_name}>", "exec"), ns)
    return ns["resume"]
