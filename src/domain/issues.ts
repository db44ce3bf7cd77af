// A schema failure in plain words, on one line, naming each field: what a
// 400 from the HTTP API and a refusal on the real-time channel both say.

const pathOf = (segment: string) => {
  const parts = [...segment.matchAll(/\[("?)(.*?)\1\]/g)].map((m) => m[2]!)
  return parts.join(".")
}

const plainWords: Record<string, string> = {
  "Missing key": "is required",
  "Unexpected key": "is not a known field",
  "Expected no excess property": "is not a known field",
  "Expected a valid JSON body": "the body is not valid JSON",
  "Expected object": "the body must be a JSON object"
}

/** One line from a schema failure: `room: must be a positive integer room number; geo.country_code: …`. */
export const describeIssue = (message: string): string => {
  const lines = message.split("\n")
  const out: Array<string> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    const at = /^at (.*)$/.exec(lines[i + 1]?.trim() ?? "")
    if (at) {
      out.push(`${pathOf(at[1]!)}: ${plainWords[line] ?? line}`)
      i++
    } else if (line !== "" && !line.startsWith("at ")) {
      out.push(plainWords[line] ?? line)
    }
  }
  return out.join("; ")
}
