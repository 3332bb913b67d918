"""The kit's pytest plugin (reference/pytest_plugin.py: --engine, --device, the `engine` fixture). Installed,
the package registers it through its `pytest11` entry point under this same name, so pytest loads it once."""

pytest_plugins = ["reference.pytest_plugin"]
