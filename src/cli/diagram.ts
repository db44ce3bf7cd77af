// npm run diagram: writes the room machine's Mermaid diagram to
// machines/room.machine.mmd and into README.md. `--check` only compares and
// exits 1 when either is stale (CI runs it).
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { roomMachine } from "../../machines/room.machine.ts"
import { machineGraph, toMermaid } from "../inspect/machineGraph.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const diagramFile = `${root}machines/room.machine.mmd`
const readmeFile = `${root}README.md`
const begin = "<!-- room-machine:begin (npm run diagram) -->"
const end = "<!-- room-machine:end -->"

const diagram = toMermaid(machineGraph(roomMachine))
const readme = readFileSync(readmeFile, "utf8")
const from = readme.indexOf(begin)
const to = readme.indexOf(end)
if (from === -1 || to === -1) {
  console.error(`README.md lacks the markers ${begin} … ${end}`)
  process.exit(1)
}
const newReadme = `${readme.slice(0, from + begin.length)}\n\`\`\`mermaid\n${diagram}\`\`\`\n${readme.slice(to)}`
const current = (() => {
  try {
    return readFileSync(diagramFile, "utf8")
  } catch {
    return ""
  }
})()

if (process.argv.includes("--check")) {
  const stale = [current !== diagram && "machines/room.machine.mmd", newReadme !== readme && "README.md"].filter(Boolean)
  if (stale.length > 0) {
    console.error(`The room machine diagram is stale in ${stale.join(" and ")}: run npm run diagram`)
    process.exit(1)
  }
  console.log("The room machine diagram is up to date")
} else {
  writeFileSync(diagramFile, diagram)
  writeFileSync(readmeFile, newReadme)
  console.log(`Wrote machines/room.machine.mmd and the diagram in README.md`)
}
