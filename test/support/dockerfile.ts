// The Dockerfile read as instructions, so tests can run what the image would
// run (its CMD, HEALTHCHECK and ENV) against the built JavaScript.
import { readFileSync } from "node:fs"
import { root } from "./process.ts"

export interface Instruction {
  readonly keyword: string
  readonly args: string
}

export interface Stage {
  readonly from: string
  readonly instructions: ReadonlyArray<Instruction>
}

/** Every stage of the Dockerfile, in order (continuation lines joined, comments dropped). */
export const dockerfileStages = (): ReadonlyArray<Stage> => {
  const text = readFileSync(`${root}Dockerfile`, "utf8").replace(/\\\n/g, " ")
  const stages: Array<{ from: string; instructions: Array<Instruction> }> = []
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    if (keyword.toUpperCase() === "FROM") stages.push({ from: args, instructions: [] })
    else stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, " ") })
  }
  return stages
}

/** The stage the image is made of: the last one. */
export const runtimeStage = (): Stage => dockerfileStages().at(-1)!

export const instructions = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)

/** The stage's ENV instructions as one record (`ENV A=1 B=2` form). */
export const imageEnv = (stage: Stage): Record<string, string> =>
  Object.fromEntries(instructions(stage, "ENV").flatMap((args) => args.split(" ").map((pair) => pair.split("=", 2) as [string, string])))

/** An exec-form command (`["node", "…"]`), as JSON. */
const execForm = (args: string): Array<string> => JSON.parse(args.slice(args.indexOf("[")))

export const imageCmd = (stage: Stage): Array<string> => execForm(instructions(stage, "CMD").at(-1) ?? "")

export const imageHealthcheck = (stage: Stage): Array<string> => execForm(instructions(stage, "HEALTHCHECK").at(-1) ?? "")
