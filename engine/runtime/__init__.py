"""The orchestration engine: what happens to runs, steps and work (see SPEC.md, Runtime)."""
