"""The small shared kernel: key paths and secret references, used by the compiler, the plugin
host and the appliance alike. It imports nothing else of faxbot."""
