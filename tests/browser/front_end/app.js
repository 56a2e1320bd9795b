// A third-party front end calling Parley from its own origin (tests/browser/test_cors.py).
// Query: parley (the API's base URL), username, password, token (for the socket and
// for the GET when the login could not be read). The outcome goes into #result as JSON.
"use strict";

async function attempt(what, action) {
  try {
    return await action();
  } catch (error) {
    return { error: `${error.name}: ${error.message}`, what };
  }
}

function openSocket(base, token) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws/chat/?token=${encodeURIComponent(token)}`);
    socket.onmessage = (event) => {
      if (JSON.parse(event.data).type === "ready") {
        socket.close(1000);
        resolve("ready");
      }
    };
    socket.onclose = (event) => resolve(`closed ${event.code}`);
  });
}

async function main() {
  const query = new URLSearchParams(location.search);
  const base = query.get("parley");
  const result = {};
  let token = query.get("token");
  result.login = await attempt("login", async () => {
    const response = await fetch(`${base}/api/auth/login/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: query.get("username"), password: query.get("password") }),
    });
    const tokens = await response.json();
    token = tokens.access;
    return { status: response.status, tokens: Object.keys(tokens).sort() };
  });
  result.me = await attempt("me", async () => {
    const response = await fetch(`${base}/api/auth/me/`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, username: (await response.json()).username };
  });
  result.socket = await openSocket(base, query.get("token"));
  document.getElementById("result").textContent = JSON.stringify(result);
  document.body.dataset.done = "true";
}

main();
