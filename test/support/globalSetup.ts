// Runs once before all test files: builds an empty embedded database, as the
// service creates one, that each test copies (initdb takes seconds, a copy
// milliseconds).
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { initializeEmbeddedDatabase } from "../../src/db/embedded.ts"

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "room-orchestrator-template-"))
  await Effect.runPromise(initializeEmbeddedDatabase(dir))
  project.provide("embeddedTemplate", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}

declare module "vitest" {
  export interface ProvidedContext {
    embeddedTemplate: string
  }
}
