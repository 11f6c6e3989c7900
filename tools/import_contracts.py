"""The `imports_only` contract type for import-linter: "these packages may import, of the
project, only these modules". Registered in the root pyproject.toml (`contract_types`).

import-linter's own `forbidden` contract needs the list of what is forbidden. For a wall such
as "a plugin imports only the plugin contract" that list would be every other module of
faxbot, and a list of today's subpackages goes stale silently the day a package is added.
This contract states the allowance instead, and everything else of the project (all modules
of the root packages being linted, present and future) is forbidden. Imports of the standard
library and third-party packages are not its business.

Only direct imports are checked: what an allowed module imports in turn is that module's
business (the plugin contract may use the kernel; a plugin may not import the kernel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.imports import Module


@dataclass(frozen=True, order=True)
class Breach:
    importer: str
    imported: str
    lines: tuple[int, ...]


def _within(name: str, packages: list[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


class ImportsOnlyContract(Contract):
    """Options:
    - source_modules: the packages (each with everything under it) the wall applies to. Each
      may import its own modules, not those of the others.
    - allowed_modules: what they may import of the project besides their own modules (each
      with everything under it); none when left out.
    """

    type_name = "imports_only"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = [module.name for module in cast("list[Module]", self.source_modules)]
        allowed = [module.name for module in cast("list[Module]", self.allowed_modules)]
        # A misspelt or removed package must not make the wall pass by checking nothing.
        missing = sorted(name for name in {*sources, *allowed} if name not in graph.modules)
        if missing:
            return ContractCheck(kept=False, metadata={"missing": missing, "breaches": []})
        project = cast("list[str]", self.session_options["root_packages"])
        breaches: list[Breach] = []
        for importer in sorted(graph.modules):
            # Its own package only: one plugin may not import another.
            own = [source for source in sources if _within(importer, [source])]
            if not own:
                continue
            for imported in graph.find_modules_directly_imported_by(importer):
                if _within(imported, project) and not _within(imported, [*own, *allowed]):
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = tuple(sorted(detail["line_number"] for detail in details))
                    breaches.append(Breach(importer, imported, lines))
        return ContractCheck(
            kept=not breaches, metadata={"missing": [], "breaches": sorted(breaches)}
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for name in check.metadata["missing"]:
            output.print_error(f"{name}: no such module among the root packages", bold=False)
        breaches: list[Breach] = check.metadata["breaches"]
        if not breaches:
            return
        sources = cast("list[Module]", self.source_modules)
        allowed = cast("list[Module]", self.allowed_modules)
        output.print_error(f"Checked: {', '.join(module.name for module in sources)}", bold=False)
        allowance = ", ".join(["own modules", *(module.name for module in allowed)])
        output.print_error(f"Allowed of the root packages: {allowance}", bold=False)
        output.print_error("Not allowed:", bold=False)
        output.new_line()
        for breach in breaches:
            lines = ", ".join(map(str, breach.lines))
            output.print_error(
                f"-   {breach.importer} -> {breach.imported} (l.{lines})", bold=False
            )
        output.new_line()
