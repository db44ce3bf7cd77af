// GET /docs: the API page (3 MB uncompressed) is sent compressed per
// Accept-Encoding, with an ETag and cache headers; a revalidation is a 304.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { get } from "node:http"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { backend } from "../support/database.ts"
import { serviceOnFreshDatabase } from "../support/service.ts"

/** A raw GET (no automatic decompression), answering status, headers and the bytes as sent. */
const rawGet = (url: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<{ status: number; headers: Record<string, string | Array<string> | undefined>; body: Buffer }>((resolve, reject) => {
      get(url, { headers }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      }).on("error", reject)
    })
  )

describe(`GET /docs (${backend})`, () => {
  it.live("compressed with brotli or gzip as the client accepts, identical once decompressed; ETag, Cache-Control, 304 on revalidation", () =>
    Effect.gen(function*() {
      const { base } = yield* serviceOnFreshDatabase()
      const plain = yield* rawGet(`${base}/docs`, {})
      assert.strictEqual(plain.status, 200)
      assert.isUndefined(plain.headers["content-encoding"])
      assert.match(String(plain.headers["content-type"]), /^text\/html/)
      assert.include(plain.body.toString("utf8", 0, 200).toLowerCase(), "<!doctype html>")

      const br = yield* rawGet(`${base}/docs`, { "accept-encoding": "gzip, deflate, br" })
      assert.strictEqual(br.headers["content-encoding"], "br")
      assert.isBelow(br.body.length, plain.body.length / 3)
      assert.isTrue(brotliDecompressSync(br.body).equals(plain.body))

      const gz = yield* rawGet(`${base}/docs`, { "accept-encoding": "gzip;q=1.0, br;q=0" })
      assert.strictEqual(gz.headers["content-encoding"], "gzip")
      assert.isTrue(gunzipSync(gz.body).equals(plain.body))

      const etag = String(br.headers.etag)
      assert.match(etag, /^"[\w-]{27}"$/)
      assert.strictEqual(gz.headers.etag, etag)
      assert.match(String(br.headers["cache-control"]), /max-age=\d+/)
      assert.strictEqual(br.headers.vary, "accept-encoding")

      const again = yield* rawGet(`${base}/docs`, { "accept-encoding": "br", "if-none-match": etag })
      assert.strictEqual(again.status, 304)
      assert.strictEqual(again.body.length, 0)
      assert.strictEqual(again.headers.etag, etag)
    }).pipe(Effect.scoped))
})
