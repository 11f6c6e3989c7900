"""The plugin contract (`contract`) and how installed plugins are found (`discovery`)."""
