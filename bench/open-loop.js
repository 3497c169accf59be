// An open-loop HTTP load client for bench/serve.js: requests leave at a fixed
// rate whatever the answers do, and each latency is measured from the moment
// its request was due to leave, not from when a free connection sent it (so a
// stall of the service counts for every request it held up, which a client
// that waits for an answer before asking again leaves out). autocannon's rate
// option sends a second's quota as fast as it can and then waits for the
// next second, and wrk has none. The first `warmup` seconds run at the same
// rate and are left out of the results (as wrk2's calibration period is): a
// process just forked, the client's own code is not compiled yet and its
// first answers are late for its own sake. Forked with an IPC channel: it is
// sent one job, answers with the results and its own CPU time, and exits.
//   { port, rate, seconds, warmup, connections, kind: "one-click", paths, offset }
//   { port, rate, seconds, warmup, connections, kind: "subscribe", prefix }
import { readFileSync } from "node:fs";
import { connect } from "node:net";

/** The bytes of the n-th request of a job. */
function requests(job) {
  const head = (path, type, length) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${job.port}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;
  if (job.kind === "one-click") {
    const paths = readFileSync(job.paths, "utf8").split("\n").filter(Boolean);
    const body = "List-Unsubscribe=One-Click";
    return (n) => Buffer.from(head(paths[(job.offset + n) % paths.length], "application/x-www-form-urlencoded", body.length) + body);
  }
  return (n) => {
    const body = JSON.stringify({ email: `new.${job.prefix}.${n}@bench.example.org`, form: "bench" });
    return Buffer.from(head("/subscribe", "application/json", Buffer.byteLength(body)) + body);
  };
}

/** Runs a job; resolves with what bench/serve.js reads of a run. */
async function run(job) {
  const make = requests(job);
  const skipped = Math.round(job.rate * (job.warmup ?? 0));
  const total = skipped + Math.round(job.rate * job.seconds);
  const latencies = new Float64Array(total - skipped);
  let measured = 0;
  const waiting = []; // due times (ms) of requests no connection has taken yet
  const idle = [];
  let scheduled = 0;
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();

  /** Gives the next waiting request to a free connection. */
  const dispatch = () => {
    while (idle.length > 0 && waiting.length > 0) {
      const conn = idle.pop();
      const due = waiting.shift();
      conn.due = due;
      conn.socket.write(make(due.n));
    }
  };

  const open = () =>
    new Promise((resolve, reject) => {
      const conn = { socket: connect(job.port, "127.0.0.1"), buffer: Buffer.alloc(0), due: undefined };
      conn.socket.setNoDelay(true);
      conn.socket.once("connect", () => resolve(conn));
      conn.socket.once("error", (error) => {
        errors++;
        reject(error);
      });
      conn.socket.on("data", (chunk) => {
        conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
        const end = conn.buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const header = conn.buffer.toString("latin1", 0, end);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(header)?.[1] ?? 0);
        if (conn.buffer.length < end + 4 + length) return;
        const status = Number(header.slice(9, 12));
        if (status < 200 || status > 299) non2xx++;
        conn.buffer = conn.buffer.subarray(end + 4 + length);
        if (conn.due.n >= skipped) latencies[measured++] = performance.now() - conn.due.at;
        answered++;
        conn.due = undefined;
        idle.push(conn);
        dispatch();
      });
    });
  for (let i = 0; i < job.connections; i++) idle.push(await open());

  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.min(total, Math.floor((elapsed * job.rate) / 1000));
      for (; scheduled < due; scheduled++) waiting.push({ n: scheduled, at: start + (scheduled * 1000) / job.rate });
      dispatch();
      if (scheduled >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const deadline = performance.now() + 10_000;
  while (answered < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - start) / 1000 - (job.warmup ?? 0);
  for (const conn of [...idle]) conn.socket.destroy();
  const sorted = latencies.subarray(0, measured).sort();
  const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
  const cpu = process.cpuUsage();
  return {
    requests: { total: measured, average: measured / elapsed },
    // Every request answered, the warm-up's included: what the CPU times were spent on.
    answered,
    latency: { p50: at(0.5), p99: at(0.99) },
    non2xx,
    errors,
    timeouts: total - answered,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

process.once("message", async (job) => {
  process.send(await run(job), () => process.exit(0));
});
