"""The SDE model: wire types, validation, naming, merge rules and views. Pure: no I/O."""
