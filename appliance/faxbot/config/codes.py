"""Every diagnostic code the compiler can emit, with what it means and how to fix it: the one
table the call sites name their codes from and docs/config.md's code table is generated from
(`faxbot codegen`). A code is stable: programs branch on it (`--format json`)."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """A diagnostic code, in the order the pipeline can meet it. Each member is
    `(code, meaning, how to fix)`, plus its severity when it is not an error."""

    meaning: str
    fix: str
    severity: Severity

    def __new__(
        cls, value: str, meaning: str, fix: str, severity: Severity = Severity.ERROR
    ) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        member.fix = fix
        member.severity = severity
        return member

    # -- the folder and its files (fragments.py)
    NO_CONFIG_DIR = (
        "no-config-dir",
        "The `--dir` folder does not exist or is not a directory.",
        "Pass the right `--dir`.",
    )
    NO_FRAGMENTS = (
        "no-fragments",
        "No `*.yaml` file in the folder.",
        "Add fragments; check for `.yml`.",
    )
    YML_FRAGMENT = (
        "yml-fragment",
        "A `*.yml` file in the folder: fragments are `*.yaml`, and one left out would leave its "
        "settings out of the artifact without a word.",
        "Rename it to `.yaml`.",
    )
    IGNORED_FILE = (
        "ignored-file",
        "An entry of the folder that is not a `*.yaml` file (and not hidden).",
        "Rename it to `.yaml` if it is a fragment; otherwise move it out or ignore the warning.",
        Severity.WARNING,
    )
    IO = (
        "io",
        "A fragment could not be read.",
        "Fix its permissions.",
    )
    ENCODING = (
        "encoding",
        "A fragment is not valid UTF-8 at that place.",
        "Save the file as UTF-8.",
    )
    YAML_SYNTAX = (
        "yaml-syntax",
        "A YAML syntax error (tabs, unclosed brackets, bad indentation).",
        "Fix the YAML at that place.",
    )
    YAML_DOCUMENTS = (
        "yaml-documents",
        "A second YAML document (`---`) in one fragment.",
        "One document per file: move it to its own fragment.",
    )
    FRAGMENT_SHAPE = (
        "fragment-shape",
        "The fragment is not a mapping (e.g. a list).",
        "Make its top level `key: value` pairs.",
    )
    YAML_MERGE_KEY = (
        "yaml-merge-key",
        "A YAML merge key `<<`.",
        "Write the keys out, or put shared values in their own fragment (mappings merge).",
    )
    YAML_KEY = (
        "yaml-key",
        "A key that is not a plain string (null, a list, a mapping).",
        "Use plain keys.",
    )
    DUPLICATE_KEY = (
        "duplicate-key",
        "A key repeated in one mapping (the first one counts).",
        "Remove one of them.",
    )
    YAML_TAG = (
        "yaml-tag",
        "An explicit tag (`!!binary`, `!!set`, `!custom`).",
        "Use plain values.",
    )
    YAML_VALUE = (
        "yaml-value",
        "`.inf` or `.nan`.",
        "Use a finite number.",
    )
    YAML_TOO_LARGE = (
        "yaml-too-large",
        "Deeper than 32 levels or more than 100,000 nodes (usually an alias bomb).",
        "Simplify the fragment.",
    )
    # -- merging the fragments (merge.py)
    MERGE_CONFLICT = (
        "merge-conflict",
        "A later fragment sets a mapping where an earlier one set a scalar, list or null, or "
        "the reverse (e.g. an empty `settings:`).",
        "Use a value of the same kind (`settings: {}`), or remove the line.",
    )
    LIST_REPLACED = (
        "list-replaced",
        "A later fragment replaces a non-empty list with a different one.",
        "Intended? Fine. Otherwise keep the whole list in one fragment.",
        Severity.WARNING,
    )
    # -- the schemas: the fragment schema, a plugin's config_schema (structure.py)
    UNKNOWN_KEY = (
        "unknown-key",
        'A key the schema (config or plugin) does not allow; the message has a "did you '
        'mean" or the keys allowed there.',
        "Fix the spelling or remove it.",
    )
    MISSING_KEY = (
        "missing-key",
        "A required key is missing (`version`, a provider's `version`, an API key's `scopes`, "
        "a plugin's required setting).",
        "Add it in some fragment.",
    )
    SCHEMA_KEYWORD = (
        "schema-<keyword>",
        "The value breaks the JSON Schema keyword named in the code: `schema-type`, "
        "`schema-const`, `schema-enum`, `schema-pattern`, `schema-minimum`, `schema-maximum`, "
        "`schema-minLength`, `schema-minItems`, `schema-uniqueItems`, ..., or any other keyword "
        "a plugin's `config_schema` uses. For `anyOf`/`oneOf` the best-matching inner failure "
        "is reported, with its own keyword.",
        "Change the value as the message says (it quotes the value unless it is secret).",
    )
    # -- providers and their plugins (providers.py)
    PLUGIN_NOT_INSTALLED = (
        "plugin-not-installed",
        'No installed plugin has that id (the message has a "did you mean" or the installed ids).',
        "Fix the id, or install the plugin's distribution in the image.",
    )
    PLUGIN_NOT_RELEASED = (
        "plugin-not-released",
        "The plugin registry announces that plugin, but no release of it exists yet.",
        "Use a released plugin in that slot (faxbot plugins list, the registry's `available` "
        "entries), or wait for the release.",
    )
    PLUGIN_BROKEN = (
        "plugin-broken",
        "The plugin is installed but fails discovery: an import error, not a `Plugin` "
        "subclass, an invalid manifest, a manifest id or version that does not match its entry "
        "point or distribution, a claimed capability not implemented or not offered by its "
        "categories, a method that does not match the contract (name, `async`, parameters), "
        "installed twice.",
        "Fix or reinstall the plugin (`faxbot plugins list` shows the reason).",
    )
    PLUGIN_SLOT = (
        "plugin-slot",
        "The plugin's `categories` do not include this slot.",
        "Use a plugin made for the slot.",
    )
    PIN_MISMATCH = (
        "pin-mismatch",
        "The pinned `version` differs from the installed distribution's version.",
        "Pin the installed version, or install the pinned one (the message gives both).",
    )
    PIN_CONFLICT = (
        "pin-conflict",
        "One plugin pinned to two versions in two slots.",
        "Pin the same version in both.",
    )
    SECRET_LITERAL = (
        "secret-literal",
        "A secret holds a literal value (never printed): a setting the plugin marks secret, a "
        "storage encryption key, a database URL with a password, or a public URL with "
        "`user:password@`.",
        "Replace it with `${env:NAME}` or `${file:/run/secrets/NAME}` (remove the credentials "
        "from `public_url`); rotate the secret if it was committed.",
    )
    SECRET_REFERENCE = (
        "secret-reference",
        "A malformed reference: not the whole value, an unknown scheme, a bad variable name, "
        "a relative path.",
        "Write `${env:NAME}` or `${file:/absolute/path}`.",
    )
    REFERENCE_NOT_SECRET = (
        "reference-not-secret",
        "A reference (any `${...}`) where no secret is: a plugin setting the plugin does not "
        "mark secret, or an appliance key that is not a secret.",
        "Write the value itself in config.d.",
    )
    PLUGIN_SETTING = (
        "plugin-setting",
        "The plugin's `validate_config` rejected a setting (or raised).",
        "Do as the message says.",
    )
    # -- rules across keys (rules.py)
    DATABASE_URL = (
        "database-url",
        "`appliance.database_url` starts with neither `sqlite:///`, `postgresql://` nor "
        "`postgres://` (nor is it a reference).",
        "Use one of those.",
    )
    HIPAA = (
        "hipaa",
        "A rule of the hipaa profile, at the offending key.",
        "https URLs, `audit_log: true`, a storage encryption key reference, an "
        "`appliance.retention` section, no plaintext transports.",
    )
    API_KEY_DUPLICATE = (
        "api-key-duplicate",
        "Two API keys with the same `id`, or the same `sha256`.",
        "Unique ids; one token per key (`faxbot keys new`).",
    )
    API_KEY_SCOPE = (
        "api-key-scope",
        "A scope that is not in the capability catalog.",
        "Use a scope the message lists.",
    )
    API_KEY_EXPIRES = (
        "api-key-expires",
        "`expires` is not an ISO 8601 date or date-time, or a date-time has no zone.",
        "`2027-01-31` or `2027-01-31T12:00:00Z`.",
    )
    API_KEY_EXPIRED = (
        "api-key-expired",
        "An API key whose `expires` has passed (judged at the time of the check): the "
        "appliance refuses its token, so it can call nothing.",
        "Remove the key, or make a new token with a later expiry (`faxbot keys new`).",
        Severity.WARNING,
    )
    LEASE_TIMING = (
        "lease-timing",
        "`appliance.replicas.heartbeat_seconds` is not less than half of `lease_seconds`: one "
        "late heartbeat would let a live replica's leases run out and its jobs be taken over.",
        "Lower `heartbeat_seconds` or raise `lease_seconds`.",
    )
    DESTINATION_POLICY = (
        "destination-policy",
        "`appliance.destinations` names a country or number type the policy does not know: a "
        "region that is not an ISO 3166 code phonenumbers knows, a calling code no country "
        "has, or a number type that is not one of phonenumbers' types.",
        "Write `'*'`, a region such as `US`, a calling code such as `'+44'`, and number types "
        "from the list the message gives.",
    )


# The code of a failed JSON Schema keyword; documented as Code.SCHEMA_KEYWORD.
SchemaCode = NewType("SchemaCode", str)
SCHEMA_PREFIX = "schema-"


def schema_code(keyword: str) -> SchemaCode:
    """`schema-type`, `schema-pattern`, ...: the code of a failed keyword."""
    return SchemaCode(SCHEMA_PREFIX + keyword)


def documented(code: str) -> Code | None:
    """The table entry that documents `code`, or None when the table lacks it."""
    if code.startswith(SCHEMA_PREFIX):
        return Code.SCHEMA_KEYWORD
    entry = Code._value2member_map_.get(code)
    return entry if isinstance(entry, Code) and entry is not Code.SCHEMA_KEYWORD else None
