/** Titles a name may start with, written with or without a full stop ("Dr Ann Smith", "Dr. Ann Smith"). */
const TITLES = new Set(["mr", "mrs", "ms", "mx", "miss", "dr", "prof", "sir", "dame", "rev", "revd", "fr"]);

/**
 * The greeting a recipient's copy opens with: "Hi Ann," from the first word
 * of their name that is not a title or an initial ("Dr Ann Smith" and
 * "Dr. Ann Smith" are greeted as Ann), and nothing at all without a name,
 * rather than "Hello reader,".
 */
export function greetingFor(name: string | undefined): string {
  const words = (name ?? "").trim().split(/\s+/).filter(Boolean);
  const first = words.find((word) => !word.endsWith(".") && !TITLES.has(word.toLowerCase())) ?? words[0];
  return first ? `Hi ${first},` : "";
}
