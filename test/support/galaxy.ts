// The Galaxy web client's user object (galaxy3), as it sends it to
// /v2/room_server, PUT /users/:id and over MQTT: the fields that are the
// same whatever room and gateway the user is in.

/** Who the user is and what they run, as the client's user object carries it. */
export const galaxyProfile = {
  display: "Ivan Petrov",
  email: "ivan@example.com",
  roles: ["gxy_user", "offline_access"],
  username: "Ivan",
  familyname: "Petrov",
  role: "user",
  isClient: true,
  vhinfo: { id: "x", first_name: "Ivan", last_name: "Petrov", email: "ivan@example.com", active: true },
  allowed: true,
  system: "Mozilla/5.0 (X11; Linux x86_64) Chrome/125.0 Safari/537.36",
  extra: { streams: [{ type: "audio", mindex: 0, mid: "0", codec: "opus" }], isGroup: false }
}

/** The client's flags, its clock and the Janus session and handle it joined with. */
export const galaxySession = {
  camera: true,
  question: false,
  timestamp: 1715412345123,
  session: 2964711542310155,
  handle: 7138924455716822
}
