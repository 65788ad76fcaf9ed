"""The uop IR: the uop table, values/blocks/functions/modules, text form, verifier, frontend."""
