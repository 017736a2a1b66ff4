"""Helpers shared by the test modules and the benchmarks. Import them as ``tests.support.<module>``
(pytest puts the repository root on sys.path, see ``pythonpath`` in pyproject.toml; a benchmark
runs as ``python -m benchmarks.<name>`` from the root). Test modules import from here, never from
another test module or from ``conftest``; fixtures stay in ``tests/conftest.py``.

What lives where:

- ``course``   the grading fixture course (tests/fixtures/grading): ``make_course`` (built once
               per process, then copied), ``submit``, ``cell_scores``, ``gradebook_is_sound``,
               ``FIXTURES``, ``ASSIGNMENT``, ``NOTEBOOK``, ``HIDDEN_TESTS``; comparing grading
               paths: ``plain_autograde`` (plain nbgrader, seeded as grading kernels are),
               ``autograded_cells`` (the one definition of "apart from timing"),
               ``executed_outputs``
- ``book``     ``BuiltBook`` and ``build_book`` (the strict book build into a folder)
- ``browser``  Chromium (``CHROMIUM``, ``CHROMIUM_ARGS``, ``launch_chromium``), ``OfflinePage``
               and ``offline``, ``is_loopback``, ``serve_folder`` (static loopback server),
               ``serious_axe_violations``
- ``jupyter``  throwaway Jupyter servers: ``run_jupyter_server``, ``running_server``,
               ``isolated_env``, ``root_flag``, ``JupyterServer``
- ``ports``    ``free_port``
- ``jupyterlite_app``  jupyterlite-core's front end as it ships it (``app_archive``,
               ``extract_app_files``), to pin the build's patches of it
- ``guide``    the instructor's guide's fenced blocks (``GUIDE``, ``blocks``, ``lines``)
- ``sandbox``  ``run_in_sandbox`` (cells in a bubblewrap kernel, optionally in a cgroup),
               ``run_in_group`` (in a group of the ``group_tree`` fixture), the hostile cells
               ``MEMORY_HOGS_CELL`` and ``FORK_BOMB_CELL``
- ``submissions``  the one generator of the assignments' submission fixtures (mutants,
               alternatives, wrong answers, expected.yaml), from the lists in
               ``fixtures/submissions/psN/fixtures.py``
- ``system``   the system tools the suite needs (``REQUIREMENTS``, ``missing``): which fixture
               needs which tool, which Debian package has it, which marker it sets
- ``paths``    ``REPO`` and ``TESTS``
- ``plugin``   the suite's hooks and the fixtures of system tools and the browser (``bwrap``,
               ``cgroups``, ``group_tree``, ``pg_bin``, ``node``, ``chromium``, ``browser``,
               ``offline_page``); conftest.py imports them by name
- ``workers``  the run on pytest-xdist workers: tests sharing a session or module fixture are
               grouped on one worker (``worker_groups``), found from their fixtures

Markers are never written on tests by hand for these needs: ``conftest.py`` sets them from the
fixtures a test uses (``system.FIXTURE_MARKERS``), so ``make test-fast`` leaves new tests out
or in correctly.
"""
