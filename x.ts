import { Schema, SchemaIssue, Effect, SchemaTransformation } from "effect"
const RoomNumber = Schema.Union([Schema.Number, Schema.String]).pipe(
  Schema.decodeTo(Schema.Int, SchemaTransformation.transformEffect<number, number | string>({
    decode: (v) => {
      const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v
      return typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? Effect.succeed(n) : Effect.fail(new SchemaIssue.InvalidValue({ message: "must be a positive integer room number" }))
    },
    encode: (n) => Effect.succeed(n)
  })))
const Unknown = Schema.Never.annotate({ message: "unknown field" })
const Req = Schema.StructWithRest(Schema.Struct({ room: RoomNumber, geo: Schema.optional(Schema.NullOr(Schema.Struct({ country_code: Schema.optional(Schema.String) }))) }), [Schema.Record(Schema.String, Unknown)])
const fmt = SchemaIssue.makeFormatterStandardSchemaV1()
for (const input of [{ room: 2171 }, { room: "2171" }, { room: -1 }, { room: 1.5 }, { room: "abc" }, {}, { room: 1, foo: 2 }, { room: 1, geo: { country_code: 5 } }, { room: 1e30 }, null, []]) {
  const r = Schema.decodeUnknownResult(Req)(input)
  console.log(JSON.stringify(input), r._tag === "Success" ? JSON.stringify(r.success) : JSON.stringify(String(r.failure)))
}
console.log(JSON.stringify(Schema.toJsonSchemaDocument ? "" : ""))
