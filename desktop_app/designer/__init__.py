"""The visual designer: a canvas, a property panel, design review, versions and Try it."""
