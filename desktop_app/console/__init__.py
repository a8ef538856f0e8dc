"""The supervisor console: Runs, Needs attention, Work Items and Dashboards."""
