/**
 * The greeting a recipient's copy opens with: "Hi Ann," from the first word
 * of their name that is not a title or an initial ("Dr. Ann Smith" is
 * greeted as Ann), and nothing at all without a name, rather than
 * "Hello reader,".
 */
export function greetingFor(name: string | undefined): string {
  const words = (name ?? "").trim().split(/\s+/).filter(Boolean);
  const first = words.find((word) => !word.endsWith(".")) ?? words[0];
  return first ? `Hi ${first},` : "";
}
