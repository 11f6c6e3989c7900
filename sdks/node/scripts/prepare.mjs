// The package's `prepare` script: compiles src/ into dist/, the only code it exports. npm runs
// it wherever the package is built from its sources: `npm install <folder>`, `npm install
// <git URL>`, `npm pack`, and `npm ci` here. For a git URL npm installs the devDependencies
// (TypeScript, @types/node) first; for a folder it does not, so when they are missing this
// installs them, exactly as package-lock.json pins them, into this folder's node_modules.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const folder = dirname(dirname(fileURLToPath(import.meta.url)));
const tools = ["typescript", "@types/node"];

function run(args) {
  // Their output goes to stderr: stdout may be the outer command's answer (`npm pack --json`).
  const result = spawnSync(process.execPath, args, { cwd: folder, stdio: ["ignore", 2, 2] });
  if (result.error) {
    throw result.error;
  }
  if (result.status !== 0) {
    process.exit(result.status ?? 1);
  }
}

if (!tools.every((tool) => existsSync(join(folder, "node_modules", tool, "package.json")))) {
  // npm names itself in npm_execpath for the scripts it runs.
  const npm = process.env.npm_execpath;
  if (!npm) {
    console.error(`@faxbot/sdk: ${tools.join(" and ")} are missing: run \`npm ci\` in ${folder}`);
    process.exit(1);
  }
  // The outer npm's options reach this one as npm_config_* variables (--omit=dev, --global,
  // --json ...): these flags say what this install is, whatever the outer one was.
  run([
    npm,
    "ci",
    "--include=dev",
    "--global=false",
    "--ignore-scripts",
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--no-dry-run",
    "--json=false",
    "--loglevel=error",
  ]);
}
run([join(folder, "node_modules", "typescript", "bin", "tsc"), "--project", folder]);
