"""Running machine code inside Unicorn, with Python helpers and instruction/memory counting."""
