"""airspeed velocity (asv) benchmarks: the project's programs per pipeline, across commits.

``asv.conf.json`` at the repository root points ``benchmark_dir`` here; asv imports this
folder as the package ``asv_bench`` in a virtualenv where it installed the commit under
test, so the modules use only the workbench's public API (``workbench.from_source``,
``Program.run``/``trace``, ``workbench.benchmarks.all_programs``) and carry their own
small sizes.  Run ``asv run HEAD~3..HEAD`` then ``asv publish`` (or ``asv preview``) from
the repository root; results and the HTML dashboard land in ``.asv/``.
"""
