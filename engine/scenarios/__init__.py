"""Orchestration tests: scenario files, run against a scratch database with a clock of their
own (time travel), expectations, coverage, JUnit XML, and recording a Try it session.

    suite = load_suite("resources/scenarios/customer_onboarding.yaml")
    results = run_suite(suite)                 # one ScenarioResult per scenario
    table = coverage_of(suite.definition, results)

The modules: ``format`` (the file and its JSON Schema), ``references`` (names checked before
anything runs), ``runner``, ``expectations``, ``stubs`` (answers to external calls),
``coverage``, ``junit`` and ``recording``. This module stays import-light on purpose.
"""
