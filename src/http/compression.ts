// Static pages (the API docs page: 3 MB, mostly the bundled viewer) served
// compressed and cacheable: the body is compressed once (brotli and gzip,
// with node:zlib), chosen per Accept-Encoding, and carries an ETag, so a
// browser revalidates with a 304 instead of downloading it again.
import { createHash } from "node:crypto"
import { promisify } from "node:util"
import { brotliCompress, constants, gzip } from "node:zlib"
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"

const brotli = promisify(brotliCompress)
const gzipped = promisify(gzip)

interface Encoded {
  readonly etag: string
  readonly contentType: string
  readonly identity: Uint8Array
  readonly br: Uint8Array
  readonly gzip: Uint8Array
}

// Brotli quality 5: a tenth of the page in a quarter second (11 would take ten).
const encode = async (body: Uint8Array, contentType: string): Promise<Encoded> => {
  const [br, gz] = await Promise.all([
    brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipped(body, { level: 9 })
  ])
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`
  return { etag, contentType, identity: body, br, gzip: gz }
}

/** The encodings a client accepts (q > 0), from Accept-Encoding. */
export const acceptedEncodings = (header: string | undefined): ReadonlySet<string> =>
  new Set((header ?? "").split(",").flatMap((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";")
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
    return name === undefined || name === "" || (q !== undefined && Number(q) === 0) ? [] : [name]
  }))

const cacheControl = "public, max-age=600"

/** The request's If-None-Match names this ETag: the client has the body already. */
const namesEtag = (request: HttpServerRequest.HttpServerRequest, etag: string) =>
  request.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag) ?? false

/** Route middleware: the route's (unchanging) body compressed once, per Accept-Encoding, with an ETag. */
export const CompressedStatic = HttpRouter.middleware((handler) => {
  let encoded: Promise<Encoded> | undefined
  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const response = yield* handler
    const body = response.body
    if (response.status !== 200 || body._tag !== "Uint8Array") return response
    const page = yield* Effect.promise(() => (encoded ??= encode(body.body, body.contentType)))
    const headers = { etag: page.etag, "cache-control": cacheControl, vary: "accept-encoding" }
    if (namesEtag(request, page.etag)) {
      return HttpServerResponse.empty({ status: 304, headers })
    }
    const accepted = acceptedEncodings(request.headers["accept-encoding"])
    const [encoding, bytes] = accepted.has("br") ? ["br", page.br] : accepted.has("gzip") ? ["gzip", page.gzip] : [undefined, page.identity]
    return HttpServerResponse.uint8Array(bytes, {
      contentType: page.contentType,
      headers: encoding === undefined ? headers : { ...headers, "content-encoding": encoding }
    })
  })
}).layer

/**
 * A JSON body that changes now and then (the /rooms listing): an ETag, so a
 * poller that already has it gets a 304, and gzip (fast level; computed once
 * per body, on the first request that accepts it).
 */
export interface ConditionalJson {
  readonly etag: string
  readonly identity: Uint8Array
  gzip: Promise<Uint8Array> | undefined
}

export const conditionalJson = (json: string): ConditionalJson => {
  const identity = new TextEncoder().encode(json)
  return { etag: `"${createHash("sha1").update(identity).digest("base64url")}"`, identity, gzip: undefined }
}

/** Answers `body` to this request: 304 when it names the ETag, gzip when accepted. */
export const conditionalResponse = (body: ConditionalJson) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const headers = { etag: body.etag, "cache-control": "no-cache", vary: "accept-encoding" }
    if (namesEtag(request, body.etag)) {
      return HttpServerResponse.empty({ status: 304, headers })
    }
    if (!acceptedEncodings(request.headers["accept-encoding"]).has("gzip")) {
      return HttpServerResponse.uint8Array(body.identity, { contentType: "application/json", headers })
    }
    const bytes = yield* Effect.promise(() => (body.gzip ??= gzipped(body.identity, { level: 1 })))
    return HttpServerResponse.uint8Array(bytes, { contentType: "application/json", headers: { ...headers, "content-encoding": "gzip" } })
  })
