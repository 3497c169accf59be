// A worker thread that watches the project's inputs with chokidar and tells the preview of each change (see watch.ts).
import { basename, relative, sep } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { watch } from "chokidar";

/** What the thread tells the preview: it is watching (these folders), something changed, or chokidar's error, with its system call's code if it has one. */
export type WatchReply =
  | { type: "ready"; watched: string[] }
  | { type: "change" }
  | { type: "error"; message: string; system?: Pick<NodeJS.ErrnoException, "code" | "errno" | "syscall" | "path"> };

/** The project's inputs: a change under these means a rebuild; nothing else is watched (not node_modules, .git or the output). */
const INPUT_FOLDERS = new Set(["articles", "templates", "newsletter"]);
const CONFIG = "presswork.config.yaml";

/** Whether a path under the project root is an input, or a folder that may hold one; editors' swap and backup files are not. */
function isInput(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (rel === "") return true;
  const [top] = rel.split(sep);
  const name = basename(path);
  if (name.startsWith(".") || name.endsWith("~") || /\.(swp|swx|tmp)$|^#.*#$/.test(name)) return false;
  return rel === CONFIG || INPUT_FOLDERS.has(top ?? "");
}

const { root } = workerData as { root: string };
// chokidar follows a file through an atomic save (written beside, renamed over), which a plain
// watch loses track of; only the inputs are watched, so setting up costs a few watches, not thousands.
const watcher = watch(root, { ignoreInitial: true, atomic: true, ignored: (path) => !isInput(root, path) });
const tell = (reply: WatchReply) => parentPort?.postMessage(reply);
watcher.on("all", () => tell({ type: "change" }));
watcher.once("ready", () =>
  tell({
    type: "ready",
    watched: Object.keys(watcher.getWatched())
      .map((dir) => relative(root, dir).split(sep).join("/"))
      .sort(),
  }),
);
watcher.on("error", (error) => {
  const { code, errno, syscall, path } = error as NodeJS.ErrnoException;
  tell({ type: "error", message: error instanceof Error ? error.message : String(error), ...(syscall ? { system: { code, errno, syscall, path } } : {}) });
});
