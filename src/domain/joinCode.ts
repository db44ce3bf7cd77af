// Join codes: six characters a person can read out and type (seed 003).
import { customAlphabet } from "nanoid"

export const joinCodeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
export const joinCodePattern = /^[0-9A-Z]{6}$/

/** A fresh random join code; uniqueness is the database's to enforce. */
export const newJoinCode: () => string = customAlphabet(joinCodeAlphabet, 6)
