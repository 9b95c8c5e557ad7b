// Load generator for bench/live/ws_fanout.py: N WebSocket clients in one Node process (`ws`).
//
//   node ws_clients.js <url> <n> <token> [<token> ...]
//
// Opens n sockets (Authorization: Token <token>, tokens used round-robin), at most 50
// handshakes at a time, and prints "ready <connected> <refused> <first errors>" once every
// socket has had its hello or been refused. Each
// `ticket.dispatched` frame is stamped on arrival, before parsing, with the wall clock
// (performance.timeOrigin + performance.now(): the same clock as Python's time.time()).
// On "stop" (stdin) it closes the sockets and prints one JSON line {cursor: [ms, ...]}.
"use strict";
const WebSocket = require("ws");
const { performance } = require("perf_hooks");

const [url, nText, ...tokens] = process.argv.slice(2);
const n = Number(nText);
const receipts = {};
const sockets = [];
let ready = 0;
const failed = [];

function open(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: "Token " + tokens[i % tokens.length] } });
    let hello = false;
    ws.on("message", (data) => {
      const at = performance.timeOrigin + performance.now();
      const msg = JSON.parse(data);
      if (!hello) {
        hello = true;
        ready += 1;
        resolve();
        return;
      }
      if (msg.type === "ticket.dispatched") (receipts[msg.cursor] = receipts[msg.cursor] || []).push(at);
    });
    ws.on("error", (err) => {
      if (hello) return;
      failed.push(String(err.message || err));
      resolve();
    });
    sockets.push(ws);
  });
}

async function main() {
  let next = 0;
  async function worker() {
    while (next < n) await open(next++);
  }
  await Promise.all(Array.from({ length: Math.min(50, n) }, worker));
  process.stdout.write(`ready ${ready} ${failed.length} ${JSON.stringify(failed.slice(0, 3))}\n`);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  if (!chunk.includes("stop")) return;
  for (const ws of sockets) ws.close();
  process.stdout.write(JSON.stringify(receipts) + "\n", () => process.exit(0));
});

main().catch((err) => {
  process.stderr.write(String(err) + "\n");
  process.exit(1);
});
