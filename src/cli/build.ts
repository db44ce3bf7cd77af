// npm run build [-- --out DIR]: compiles the service to plain JavaScript
// (dist/ by default), to run with `node dist/src/main.js` and no tsx, as the
// container image does. Beside the compiled src/ and machines/ it copies what
// the code reads at run time: migrations/ (found as ../../migrations/ from
// src/db/) and the inspector page's sources, which esbuild bundles on first use.
import { spawnSync } from "node:child_process"
import { cpSync, rmSync } from "node:fs"
import { join, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const root = resolve(fileURLToPath(new URL("../../", import.meta.url)))
const out = resolve(parseArgs({ options: { out: { type: "string", default: "dist" } } }).values.out)

// The output is emptied first (a migration deleted from the sources must not
// linger in it), so it may only be dist/ or a directory outside the project.
const within = (dir: string, parent: string) => dir === parent || dir.startsWith(parent + sep)
if (within(root, out) || (within(out, root) && !within(out, join(root, "dist")))) {
  console.error(`Refusing to build into ${out}: use dist/ or a directory outside ${root}`)
  process.exit(2)
}
rmSync(out, { recursive: true, force: true })

const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", out], {
  stdio: "inherit"
})
if (tsc.status !== 0) {
  console.error("The build failed: tsc reported errors (see above)")
  process.exit(1)
}
cpSync(join(root, "migrations"), join(out, "migrations"), { recursive: true })
cpSync(join(root, "src/inspect/page"), join(out, "src/inspect/page"), { recursive: true })
console.log(`Built ${out}: run it with node ${join(out, "src/main.js")}`)
