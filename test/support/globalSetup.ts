// Runs once before all test files: builds an empty embedded database that
// each test copies (initdb takes seconds, a copy milliseconds).
import { PGlite } from "@electric-sql/pglite"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-template-"))
  const db = await PGlite.create(dir)
  await db.close()
  project.provide("embeddedTemplate", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}

declare module "vitest" {
  export interface ProvidedContext {
    embeddedTemplate: string
  }
}
