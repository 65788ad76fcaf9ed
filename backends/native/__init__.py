"""Running machine code in this process: W^X executable memory entered through ctypes."""
