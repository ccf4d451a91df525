"""Deploy tooling for fer-edge: device install, aarch64 wheelhouse, systemd unit, emulated Pi run.

Desktop/host-side only; nothing in `fer_edge` imports it.
"""
