"""The GitOps config compiler: config.d fragments -> one resolved, fingerprinted artifact.

Data flow: `fragments` (read and locate YAML) -> `merge` (deep merge with blame) ->
`structure` (the fragment JSON Schema, strict) -> `providers` (plugins, pins, settings,
secrets) -> `rules` (profile and API key rules) -> `faxbot.artifact` (the typed artifact,
canonical JSON, fingerprint; read by the appliance too).
`compiler` runs that pipeline; `plan` and `explain` read its result.
"""
