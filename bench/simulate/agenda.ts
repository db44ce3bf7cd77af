// A min-heap of things due at a simulated time. Equal times come out in the
// order they were added, so a run never depends on heap internals.

interface Entry<T> {
  readonly at: number
  readonly seq: number
  readonly item: T
}

export interface Agenda<T> {
  readonly add: (at: number, item: T) => void
  /** The earliest due time, if anything is scheduled. */
  readonly peek: () => number | undefined
  readonly pop: () => { readonly at: number; readonly item: T } | undefined
  readonly size: () => number
}

const before = <T>(a: Entry<T>, b: Entry<T>) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

export const makeAgenda = <T>(): Agenda<T> => {
  const heap: Array<Entry<T>> = []
  let seq = 0

  const swap = (i: number, j: number) => {
    const t = heap[i]!
    heap[i] = heap[j]!
    heap[j] = t
  }

  const add = (at: number, item: T) => {
    heap.push({ at, seq: seq++, item })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      swap(i, parent)
      i = parent
    }
  }

  const pop = () => {
    const top = heap[0]
    if (top === undefined) return undefined
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r
        if (best === i) break
        swap(i, best)
        i = best
      }
    }
    return { at: top.at, item: top.item }
  }

  return { add, peek: () => heap[0]?.at, pop, size: () => heap.length }
}
