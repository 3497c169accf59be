import { defineCommand } from "citty";
import { loadProjectConfig } from "../../config/load.js";
import { scaffoldArticle } from "../../content/scaffold.js";
import { articleTitle } from "../../content/schema.js";
import { PressworkError } from "../../errors/error.js";
import { report } from "../report.js";
import { io } from "../io.js";
import { ABOUT } from "./about.js";

/** `presswork new "Title"`: a draft article with today's date and a unique slug. */
export const newCommand = defineCommand({
  meta: { name: "new", description: ABOUT.new },
  args: {
    title: { type: "positional", description: "The article's title", required: true },
  },
  async run({ args }) {
    // `presswork new What happened` without quotes is one title of several words, not the first word alone.
    const words = args._.length > 0 ? args._.join(" ") : args.title;
    // The title the front matter would refuse is refused here, before anything is written.
    const title = articleTitle.safeParse(words);
    if (!title.success) throw new PressworkError("usage", `the title ${title.error.issues.map((issue) => issue.message).join(", and ")} (like presswork new "What happened")`);
    const root = io.root();
    const { config, file } = await loadProjectConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    const path = await scaffoldArticle(root, title.data, config, new Date());
    io.out(`Created ${path} (a draft: set draft: false to publish it).`);
  },
});
