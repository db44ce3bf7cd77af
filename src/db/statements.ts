// Splits a .sql file into single statements: the Postgres client speaks the
// extended protocol, which takes one statement per query. Semicolons inside
// quotes, identifiers, comments and dollar-quoted bodies do not split.

export const splitStatements = (text: string): ReadonlyArray<string> => {
  const statements: Array<string> = []
  let start = 0
  let i = 0
  const push = (end: number) => {
    const statement = text.slice(start, end).trim()
    if (stripComments(statement) !== "") statements.push(statement)
  }
  while (i < text.length) {
    const c = text[i]!
    if (c === "-" && text[i + 1] === "-") {
      i = indexOrEnd(text, "\n", i)
    } else if (c === "/" && text[i + 1] === "*") {
      i = indexOrEnd(text, "*/", i + 2) + 2
    } else if (c === "'" || c === "\"") {
      i = indexOrEnd(text, c, i + 1) + 1
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))
      i = tag ? indexOrEnd(text, tag[0], i + tag[0].length) + tag[0].length : i + 1
    } else if (c === ";") {
      push(i)
      start = ++i
    } else {
      i++
    }
  }
  push(text.length)
  return statements
}

const indexOrEnd = (text: string, needle: string, from: number) => {
  const at = text.indexOf(needle, from)
  return at === -1 ? text.length : at
}

const stripComments = (s: string) => s.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "").trim()
