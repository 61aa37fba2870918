"""The shipped SOP definitions: YAML, one file per SOP version (a package, so wheels ship them)."""
