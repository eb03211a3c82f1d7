"""Demo traffic, live feed and rendering for `schakel demo` and `schakel tail`."""
