import { defineCommand } from "citty";
import { loadConfig } from "../../config/load.js";
import { scaffoldArticle } from "../../content/scaffold.js";
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
    const root = io.root();
    const { config, file } = await loadConfig(root);
    if (!config) {
      report([file], io.err);
      io.fail(1);
      return;
    }
    if (!args.title.trim()) {
      io.err("The title is empty: presswork new \"What happened\"");
      io.fail(2);
      return;
    }
    const path = await scaffoldArticle(root, args.title.trim(), config, new Date());
    io.out(`Created ${path} (a draft: set draft: false to publish it).`);
  },
});
