"""The command line: argument parsing in main, commands grouped by what they act on."""
